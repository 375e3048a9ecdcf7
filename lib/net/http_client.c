/* The one HTTP client: HTTP/1.1 over lib/net/tls_conn.c, one request at a time, one deadline for
 * all of it, answers parsed by lib/net/http_wire.c. Keep-alive through struct lbx_http_conn. */
#include "http_client.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_wire.h"
#include "tls_conn.h"

#define HTTP_DEFAULT_TIMEOUT_MS 3000
#define HTTP_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define HTTP_READ_CHUNK (16 * 1024)

/* A kept connection and what it was opened for: it carries a request only to the same place
 * with the same trust and the same client certificate. */
struct lbx_http_conn {
    struct lbx_tls_conn tls;
    char *peer;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_openssl(void)
{
    OPENSSL_init_ssl(0, NULL);
    lbx_tls_warm();
}

void lbx_http_init(void)
{
    pthread_once(&init_once, init_openssl);
}

lbx_err lbx_http_conn_new(struct lbx_http_conn **conn, struct lbx_error *e)
{
    if ((*conn = calloc(1, sizeof(**conn))) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "http connection");
    (*conn)->tls = (struct lbx_tls_conn)LBX_TLS_CONN_CLOSED;
    return LBX_OK;
}

static void conn_drop(struct lbx_http_conn *conn)
{
    lbx_tls_close(&conn->tls);
    free(conn->peer);
    conn->peer = NULL;
}

void lbx_http_conn_free(struct lbx_http_conn *conn)
{
    if (conn == NULL)
        return;
    conn_drop(conn);
    free(conn);
}

static char *peer_key(const struct lbx_url *u, const struct lbx_http_opts *o)
{
    struct lbx_buf b;

    lbx_buf_init(&b, 3 * 4096 + 512);
    if (lbx_buf_printf(&b, "%s\n%s\n%s\n%s\n%s", u->host, u->port, o->ca_file,
                       o->cert_file ? o->cert_file : "",
                       o->key_file ? o->key_file : "") != LBX_OK) {
        lbx_buf_free(&b);
        return NULL;
    }
    return lbx_buf_steal(&b);
}

/* Writing to a socket the peer reset raises SIGPIPE, which would kill sshd's monitor or the
 * reaper: blocked for the request, and a SIGPIPE it raised is taken back before unblocking. */
struct sigpipe_guard {
    sigset_t old;
    int was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t pipe, pending;

    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
    static const struct timespec now = {0, 0};
    sigset_t pipe, pending;

    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
        sigtimedwait(&pipe, NULL, &now);
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Reads until one whole answer is parsed. *received: whether any byte of it came. */
static lbx_err read_answer(struct lbx_tls_conn *tls, int64_t deadline, struct lbx_buf *raw,
                           struct lbx_http_response *resp, int *keep, int *received,
                           struct lbx_error *e)
{
    enum lbx_http_parse_state state = LBX_HTTP_NEED_MORE;
    struct lbx_http_answer a;
    char chunk[HTTP_READ_CHUNK];
    size_t got;
    lbx_err r;

    for (;;) {
        if ((r = lbx_tls_read(tls, chunk, sizeof(chunk), &got, deadline, e)) != LBX_OK)
            return r;
        *received |= got > 0;
        if (got > 0 && lbx_buf_append(raw, chunk, got) != LBX_OK)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
        if ((r = lbx_http_parse_answer(raw->data, raw->len, got == 0, &resp->body, &a, &state,
                                       e)) != LBX_OK)
            return r;
        if (state == LBX_HTTP_DONE)
            break;
        if (got == 0)
            return lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE,
                                 "connection closed before an answer");
    }
    resp->status = a.status;
    *keep = a.keep_alive && got > 0 && a.consumed == raw->len; /* nothing may follow it */
    return LBX_OK;
}

static lbx_err exchange(struct lbx_tls_conn *tls, const struct lbx_url *u,
                        const struct lbx_http_opts *o, const struct lbx_buf *req, int64_t deadline,
                        struct lbx_http_response *resp, int *keep, int *received,
                        struct lbx_error *e)
{
    struct lbx_tls_identity id = {o->ca_file, o->cert_file, o->key_file, o->tls_session_file};
    size_t max = o->max_response ? o->max_response : HTTP_DEFAULT_MAX_RESPONSE;
    struct lbx_buf raw;
    lbx_err r;

    *received = 0;
    lbx_buf_reset(&resp->body);
    if (tls->fd < 0 && (r = lbx_tls_open(tls, u, &id, deadline, e)) != LBX_OK)
        return r;
    if ((r = lbx_tls_write(tls, req->data, req->len, deadline, e)) != LBX_OK)
        return r;
    /* chunked framing may add more than the body itself; the parser holds the body's limit */
    lbx_buf_init(&raw, 2 * max + 4 * LBX_HTTP_HEADERS_MAX);
    r = read_answer(tls, deadline, &raw, resp, keep, received, e);
    resp->tls_resumed = tls->resumed;
    lbx_buf_free(&raw);
    return r;
}

/* One request on conn (kept, or a fresh one for this call). A kept connection the peer closed
 * meanwhile is found out before the request or, at the latest, when nothing of the answer came:
 * then the request goes once more on a new connection. */
static lbx_err send_request(struct lbx_http_conn *conn, const struct lbx_url *u,
                            const struct lbx_http_opts *o, const struct lbx_buf *req,
                            int64_t deadline, struct lbx_http_response *resp, struct lbx_error *e)
{
    char *key = peer_key(u, o);
    int reused, keep = 0, received = 0;
    lbx_err r;

    if (key == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "http connection");
    reused = conn->peer != NULL && strcmp(conn->peer, key) == 0 && lbx_tls_idle(&conn->tls);
    if (!reused)
        conn_drop(conn);
    r = exchange(&conn->tls, u, o, req, deadline, resp, &keep, &received, e);
    if (r != LBX_OK && reused && !received && r != LBX_ERR_BROKER_TIMEOUT) {
        conn_drop(conn);
        r = exchange(&conn->tls, u, o, req, deadline, resp, &keep, &received, e);
    }
    if (r == LBX_OK && keep) {
        free(conn->peer);
        conn->peer = key;
        key = NULL;
    } else {
        conn_drop(conn);
    }
    free(key);
    return r;
}

lbx_err lbx_http_request(const struct lbx_http_opts *o, const char *method, const char *url,
                         const char *body, struct lbx_http_response *resp, struct lbx_error *e)
{
    struct lbx_http_conn once = {LBX_TLS_CONN_CLOSED, NULL};
    int64_t deadline =
        lbx_monotonic_ms() + (o->timeout_ms ? o->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
    struct sigpipe_guard guard;
    struct lbx_buf req;
    struct lbx_url u;
    lbx_err r;

    resp->status = 0;
    resp->tls_resumed = 0;
    lbx_buf_init(&resp->body, o->max_response ? o->max_response : HTTP_DEFAULT_MAX_RESPONSE);
    if (o->ca_file == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "broker URL must be https:// with a CA file");
    if ((r = lbx_url_parse(url, &u, e)) != LBX_OK)
        return r;
    lbx_http_init();
    lbx_buf_init(&req, (body ? strlen(body) : 0) + 8192);
    if ((r = lbx_http_format_request_typed(&u, method, o->bearer, o->content_type, body, &req,
                                           e)) == LBX_OK) {
        sigpipe_block(&guard);
        r = send_request(o->conn ? o->conn : &once, &u, o, &req, deadline, resp, e);
        sigpipe_restore(&guard);
    }
    conn_drop(&once);
    lbx_buf_free(&req); /* wiped: it holds the API token */
    if (r != LBX_OK)
        lbx_buf_free(&resp->body);
    return r;
}

void lbx_http_response_free(struct lbx_http_response *resp)
{
    lbx_buf_free(&resp->body);
}
