/* http_probe: the one HTTP client (lib/net/http_client.c) driven from the command line, for
 * t_http_client.sh. Makes the request COUNT times, on one kept connection with --keep.
 *
 *   http_probe --ca F [--cert F --key F] [--bearer T] [--timeout MS] [--max BYTES] [--keep]
 *              [--count N] [--session FILE] METHOD URL [BODY]
 *
 * BODY "@FILE": the body is FILE's contents.
 * One line per request: "status=S len=N body=TEXT ms=T" or "error=TEXT detail=DETAIL ms=T";
 * with --session (the TLS session kept in FILE and resumed), "resumed=0|1" before "ms=".
 * SIGPIPE keeps its default action, as in a program that never thought of it. Exit 0 when
 * every request got an HTTP answer, 1 otherwise, 2 on usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "file.h"
#include "http_client.h"
#include "tls_conn.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ca", 1, 0, 'a'},      {"cert", 1, 0, 'c'}, {"key", 1, 0, 'k'},  {"bearer", 1, 0, 'b'},
        {"timeout", 1, 0, 't'}, {"max", 1, 0, 'm'},  {"keep", 0, 0, 'K'}, {"count", 1, 0, 'n'},
        {"session", 1, 0, 's'}, {0, 0, 0, 0}};
    struct lbx_http_opts o = {0};
    struct lbx_http_response resp;
    struct lbx_error e;
    int c, i, count = 1, keep = 0, failed = 0;
    char *body = NULL;
    size_t body_len;
    int64_t t0;
    lbx_err r;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.ca_file = optarg;
            break;
        case 'c':
            o.cert_file = optarg;
            break;
        case 'k':
            o.key_file = optarg;
            break;
        case 'b':
            o.bearer = optarg;
            break;
        case 't':
            o.timeout_ms = atol(optarg);
            break;
        case 'm':
            o.max_response = (size_t)atol(optarg);
            break;
        case 'K':
            keep = 1;
            break;
        case 'n':
            count = atoi(optarg);
            break;
        case 's':
            o.tls_session_file = optarg;
            break;
        default:
            return 2;
        }
    }
    if (argc - optind < 2 || argc - optind > 3)
        return 2;
    if (keep && lbx_http_conn_new(&o.conn, NULL) != LBX_OK)
        return 2;
    if (argv[optind + 2] != NULL && argv[optind + 2][0] == '@' &&
        lbx_file_read(argv[optind + 2] + 1, LBX_FILE_ANY, 64 << 20, &body, &body_len, NULL) !=
            LBX_OK)
        return 2;
    for (i = 0; i < count; i++) {
        memset(&e, 0, sizeof(e));
        memset(&resp, 0, sizeof(resp));
        t0 = lbx_monotonic_ms();
        r = lbx_http_request(&o, argv[optind], argv[optind + 1], body ? body : argv[optind + 2],
                             &resp, &e);
        if (r == LBX_OK) {
            printf("status=%ld len=%zu body=%s ", resp.status, resp.body.len,
                   resp.body.data ? resp.body.data : "");
            if (o.tls_session_file != NULL)
                printf("resumed=%d ", resp.tls_resumed);
            printf("ms=%lld\n", (long long)(lbx_monotonic_ms() - t0));
            lbx_http_response_free(&resp);
        } else {
            printf("error=%s detail=%s ms=%lld\n", lbx_strerror(r), e.detail,
                   (long long)(lbx_monotonic_ms() - t0));
            failed = 1;
        }
        fflush(stdout);
    }
    lbx_http_conn_free(o.conn);
    free(body);
    return failed;
}
