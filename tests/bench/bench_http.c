/* HTTPS load generator for the broker benchmarks (2: token issue rate, 6: latency at scale).
 * One thread, epoll and OpenSSL on non-blocking sockets: CLIENTS connections each send the same
 * pre-built HTTP/1.1 request back to back, with keep-alive (one TLS connection per client,
 * reused) or --fresh (a new TCP + TLS handshake per request, as pam_lockbox does). It shares the
 * machine with the broker it measures, so it must cost little per request: a thread and a libcurl
 * handle per client cost 40-60 us of CPU a request, this engine a fraction of that.
 *
 *   bench_http --url URL --ca FILE [--cert FILE --key FILE] [--bearer TOKEN] [-X METHOD]
 *              [-d BODY] [-c CLIENTS] (-t SECONDS | -n REQUESTS-PER-CLIENT) [--fresh]
 *              [--expect STATUS] [--expect-text TEXT] [--name NAME] [--samples FILE]
 *              [--timeout SECONDS (default 10)]
 *
 * Prints one JSON object: requests (answered with --expect and, when given, a body whose first
 * 16 KB contain --expect-text), errors (transport failures, answers it cannot frame, answers
 * stuck more than --timeout, any other answer), rps, p50_ms, p99_ms. Exit 1 when any request
 * failed, 2 on a usage or setup error (bad URL, CA, certificate or key). */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_stats.h"

#define MAX_CLIENTS 256
#define IN_MAX 16384 /* an answer's head and the start of its body, kept for --expect-text */

struct cfg {
    const char *url, *ca, *cert, *key, *method, *body, *name, *samples, *expect_text, *bearer;
    int clients, fresh, per_client;
    long expect;
    double seconds, timeout_ms; /* a request stuck longer is an error */
    /* derived once: where to connect, what to verify, the request bytes */
    char host[256], port[16];
    struct sockaddr_storage addr;
    socklen_t addr_len;
    SSL_CTX *ctx;
    char *request;
    size_t request_len;
};

enum conn_state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_EXCHANGE, ST_DONE };
enum step { STEP_WAIT, STEP_OK, STEP_FAIL };

struct conn {
    int fd;
    SSL *ssl;
    enum conn_state st;
    uint32_t events; /* what epoll watches for fd (0: not registered) */
    int made, sent, head_done, reusable, status;
    double t0;
    size_t in_len, head_len, body_len, body_seen;
    char in[IN_MAX];
};

struct run {
    struct cfg *cfg;
    int ep, active;
    struct conn *conns;
    double *lat, stop_at;
    size_t n, cap, errors;
};

/* -- the answer: status line, Content-Length, Connection; anything else unframed is an error */

static int head_value(const char *line, size_t len, const char *name, const char **v, size_t *vlen)
{
    size_t k = strlen(name);

    if (len <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return 0;
    for (*v = line + k + 1, *vlen = len - k - 1; *vlen > 0 && (**v == ' ' || **v == '\t'); (*v)++)
        (*vlen)--;
    while (*vlen > 0 && ((*v)[*vlen - 1] == ' ' || (*v)[*vlen - 1] == '\t'))
        (*vlen)--;
    return 1;
}

static int has_token(const char *v, size_t vlen, const char *token)
{
    size_t k = strlen(token), i;

    for (i = 0; i + k <= vlen; i++)
        if (strncasecmp(v + i, token, k) == 0)
            return 1;
    return 0;
}

static int parse_length(const char *v, size_t vlen, size_t *out)
{
    size_t i, n = 0;

    if (vlen == 0 || vlen > 12)
        return -1;
    for (i = 0; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (size_t)(v[i] - '0');
    }
    *out = n;
    return 0;
}

/* Parses the head in c->in[0 .. head_len): returns the status, or -1 when it cannot frame it. */
static int parse_head(struct conn *c, const struct cfg *cfg)
{
    const char *p = c->in, *end = c->in + c->head_len - 2, *eol, *v;
    size_t vlen, len = 0;
    int status, have_len = 0;

    /* "HTTP/1.x NNN ": the head ends in CRLF CRLF, so every line below ends in CRLF */
    if (c->head_len < 16 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
        strspn(p + 9, "0123456789") != 3 || (p[12] != ' ' && p[12] != '\r'))
        return -1;
    status = atoi(p + 9);
    c->reusable = p[7] == '1';
    for (p = (const char *)memmem(p, (size_t)(end - p), "\r\n", 2) + 2; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (head_value(p, (size_t)(eol - p), "Content-Length", &v, &vlen)) {
            size_t n;
            if (parse_length(v, vlen, &n) != 0 || (have_len && n != len))
                return -1;
            len = n, have_len = 1;
        } else if (head_value(p, (size_t)(eol - p), "Transfer-Encoding", &v, &vlen)) {
            return -1; /* chunked or worse: not what the broker sends */
        } else if (head_value(p, (size_t)(eol - p), "Connection", &v, &vlen)) {
            c->reusable = !has_token(v, vlen, "close");
        }
    }
    if (status < 200 || status > 599)
        return -1;
    if (status == 204 || status == 304 || strcmp(cfg->method, "HEAD") == 0)
        have_len = 1, len = 0;
    if (!have_len)
        return -1; /* a body up to the close: cannot tell a complete answer from a cut one */
    c->body_len = len;
    return status;
}

static int answer_ok(const struct conn *c, const struct cfg *cfg)
{
    size_t kept = c->in_len - c->head_len;

    return c->status == cfg->expect &&
           (cfg->expect_text == NULL ||
            memmem(c->in + c->head_len, kept, cfg->expect_text, strlen(cfg->expect_text)));
}

/* -- one connection's state machine */

static void conn_close(struct conn *c, int polite)
{
    if (c->ssl != NULL) {
        if (polite)
            SSL_shutdown(c->ssl); /* close_notify after a good answer, as libcurl sends */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->events = 0;
    ERR_clear_error();
}

static int watch(struct run *r, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};

    if (c->events == events)
        return 0;
    if (epoll_ctl(r->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return -1;
    c->events = events;
    return 0;
}

/* After an SSL call returned rc <= 0: wait for the socket (STEP_WAIT) or fail. */
static enum step ssl_wait(struct run *r, struct conn *c, int rc)
{
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return watch(r, c, EPOLLIN) == 0 ? STEP_WAIT : STEP_FAIL;
    case SSL_ERROR_WANT_WRITE:
        return watch(r, c, EPOLLOUT) == 0 ? STEP_WAIT : STEP_FAIL;
    default:
        return STEP_FAIL;
    }
}

static enum step conn_open(struct run *r, struct conn *c)
{
    int one = 1;

    c->fd = socket(r->cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        return STEP_FAIL;
    c->st = ST_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&r->cfg->addr, r->cfg->addr_len) == 0)
        return STEP_OK;
    if (errno != EINPROGRESS)
        return STEP_FAIL;
    return watch(r, c, EPOLLOUT) == 0 ? STEP_WAIT : STEP_FAIL;
}

static enum step conn_tls(struct run *r, struct conn *c)
{
    const struct cfg *cfg = r->cfg;
    int err = 0, rc;
    socklen_t len = sizeof(err);

    if (c->st == ST_CONNECTING) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
            return STEP_FAIL;
        if ((c->ssl = SSL_new(cfg->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
            return STEP_FAIL;
        /* The name or address the URL gives must be the certificate's, as libcurl checks. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), cfg->host) != 1 &&
            (SSL_set1_host(c->ssl, cfg->host) != 1 ||
             SSL_set_tlsext_host_name(c->ssl, cfg->host) != 1))
            return STEP_FAIL;
        ERR_clear_error(); /* a stale entry would make SSL_get_error report a failure */
        c->st = ST_HANDSHAKE;
    }
    rc = SSL_connect(c->ssl);
    if (rc != 1)
        return ssl_wait(r, c, rc);
    c->st = ST_EXCHANGE;
    return STEP_OK;
}

/* Reads what there is of the answer into c->in (the body beyond IN_MAX is counted, not kept). */
static enum step conn_read(struct run *r, struct conn *c)
{
    static char sink[IN_MAX];
    int rc;
    char *hit;

    for (;;) {
        size_t want = c->head_done ? c->body_len - c->body_seen : IN_MAX - c->in_len;
        char *dst = c->head_done && c->in_len == IN_MAX ? sink : c->in + c->in_len;

        if (c->head_done && want == 0)
            return STEP_OK;
        if (dst != sink && want > IN_MAX - c->in_len)
            want = IN_MAX - c->in_len;
        if (want > sizeof(sink))
            want = sizeof(sink);
        if (want == 0)
            return STEP_FAIL; /* a head that does not fit: not the broker's */
        if ((rc = SSL_read(c->ssl, dst, (int)want)) <= 0)
            return ssl_wait(r, c, rc);
        if (dst != sink)
            c->in_len += (size_t)rc;
        if (c->head_done) {
            c->body_seen += (size_t)rc;
            continue;
        }
        hit = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (hit == NULL)
            continue;
        c->head_len = (size_t)(hit + 4 - c->in);
        c->head_done = 1;
        if ((c->status = parse_head(c, r->cfg)) < 0)
            return STEP_FAIL;
        c->body_seen = c->in_len - c->head_len;
        if (c->body_seen > c->body_len)
            return STEP_FAIL; /* more than the answer framed */
    }
}

static enum step conn_advance(struct run *r, struct conn *c, uint32_t ev)
{
    enum step s;
    int rc;

    if (c->st == ST_CONNECTING && !(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return STEP_WAIT;
    if (c->st == ST_CONNECTING || c->st == ST_HANDSHAKE)
        if ((s = conn_tls(r, c)) != STEP_OK)
            return s;
    if (!c->sent) {
        if ((rc = SSL_write(c->ssl, r->cfg->request, (int)r->cfg->request_len)) <= 0)
            return ssl_wait(r, c, rc);
        c->sent = 1;
        /* The answer cannot be there yet: wait for it rather than read() an EAGAIN first. */
        if (!SSL_has_pending(c->ssl))
            return watch(r, c, EPOLLIN) == 0 ? STEP_WAIT : STEP_FAIL;
    }
    return conn_read(r, c);
}

static int more_requests(const struct run *r, const struct conn *c, double now)
{
    return r->cfg->per_client > 0 ? c->made < r->cfg->per_client : now < r->stop_at;
}

static void record(struct run *r, struct conn *c, int ok, double now)
{
    c->made++;
    if (!ok) {
        r->errors++;
        return;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 65536;
        if ((r->lat = realloc(r->lat, r->cap * sizeof(double))) == NULL)
            abort();
    }
    r->lat[r->n++] = now - c->t0;
}

/* One answer is in (or the request failed): count it and close what cannot be reused. */
static void conn_finish(struct run *r, struct conn *c, enum step s, double now)
{
    int ok = s == STEP_OK && answer_ok(c, r->cfg);

    record(r, c, ok, now);
    if (!ok || !c->reusable || r->cfg->fresh)
        conn_close(c, ok);
    c->st = ST_IDLE;
}

/* Drives c until it waits for its socket or has made all its requests. */
static void conn_drive(struct run *r, struct conn *c, uint32_t ev)
{
    enum step s;
    double now;

    for (;;) {
        if (c->st == ST_IDLE) {
            now = bench_now_ms();
            if (!more_requests(r, c, now)) {
                conn_close(c, 1);
                c->st = ST_DONE;
                r->active--;
                return;
            }
            c->t0 = now;
            c->sent = c->head_done = 0;
            c->in_len = c->head_len = c->body_len = c->body_seen = 0;
            c->st = ST_EXCHANGE;
            s = c->fd < 0 ? conn_open(r, c) : STEP_OK;
            if (s == STEP_OK)
                s = conn_advance(r, c, EPOLLOUT);
        } else {
            s = conn_advance(r, c, ev);
        }
        if (s == STEP_WAIT)
            return;
        conn_finish(r, c, s, bench_now_ms());
    }
}

/* A request stuck longer than --timeout is an error; its connection goes. */
static void expire(struct run *r, double now)
{
    int i;

    for (i = 0; i < r->cfg->clients; i++) {
        struct conn *c = &r->conns[i];
        if (c->st != ST_IDLE && c->st != ST_DONE && now - c->t0 > r->cfg->timeout_ms) {
            conn_finish(r, c, STEP_FAIL, now);
            conn_drive(r, c, 0);
        }
    }
}

static void run_all(struct run *r)
{
    struct epoll_event evs[64];
    double last_scan = bench_now_ms(), now;
    int i, k;

    r->active = r->cfg->clients;
    for (i = 0; i < r->cfg->clients; i++) {
        r->conns[i].fd = -1;
        conn_drive(r, &r->conns[i], 0);
    }
    while (r->active > 0) {
        k = epoll_wait(r->ep, evs, 64, 100);
        for (i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st != ST_DONE)
                conn_drive(r, c, evs[i].events);
        }
        if ((now = bench_now_ms()) - last_scan >= 100) {
            expire(r, now);
            last_scan = now;
        }
    }
}

/* -- setup: the URL, the TLS context, the request bytes */

static int setup_target(struct cfg *c)
{
    const char *h = c->url + 8, *path, *colon;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    size_t hl;
    char *head = NULL;
    int n;

    if (strncmp(c->url, "https://", 8) != 0)
        return -1;
    path = h + strcspn(h, "/?");
    if (*h == '[') { /* [v6]:port */
        colon = memchr(h, ']', (size_t)(path - h));
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - h - 1), h++, colon = colon + 1 < path ? colon + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(path - h));
        hl = (size_t)((colon ? colon : path) - h);
    }
    if (hl == 0 || hl >= sizeof(c->host))
        return -1;
    memcpy(c->host, h, hl);
    c->host[hl] = '\0';
    snprintf(c->port, sizeof(c->port), "%.*s", colon ? (int)(path - colon - 1) : 3,
             colon ? colon + 1 : "443");
    if (getaddrinfo(c->host, c->port, &hints, &ai) != 0)
        return -1;
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    n = asprintf(&head,
                 "%s %s%s HTTP/1.1\r\nHost: %.*s\r\nAccept: */*\r\n"
                 "Content-Type: application/json\r\n%s%s%s",
                 c->method, *path == '/' ? "" : "/", path, (int)(path - (c->url + 8)), c->url + 8,
                 c->bearer ? "Authorization: Bearer " : "", c->bearer ? c->bearer : "",
                 c->bearer ? "\r\n" : "");
    if (n < 0)
        return -1;
    n = asprintf(&c->request, "%sContent-Length: %zu\r\n\r\n%s", head,
                 c->body ? strlen(c->body) : 0, c->body ? c->body : "");
    free(head);
    c->request_len = n < 0 ? 0 : (size_t)n;
    return n < 0 ? -1 : 0;
}

static int setup_tls(struct cfg *c)
{
    if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        return -1;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF); /* every handshake a full one */
    SSL_CTX_set_read_ahead(c->ctx, 1); /* a record in one read(), not header then body */
    if (SSL_CTX_load_verify_locations(c->ctx, c->ca, NULL) != 1)
        return -1;
    if (c->cert == NULL)
        return 0;
    return SSL_CTX_use_certificate_chain_file(c->ctx, c->cert) == 1 &&
                   SSL_CTX_use_PrivateKey_file(c->ctx, c->key ? c->key : c->cert,
                                               SSL_FILETYPE_PEM) == 1 &&
                   SSL_CTX_check_private_key(c->ctx) == 1
               ? 0
               : -1;
}

static int parse(int argc, char **argv, struct cfg *c)
{
    static const struct option lo[] = {
        {"url", 1, 0, 'u'},         {"ca", 1, 0, 'a'},      {"cert", 1, 0, 'C'},
        {"key", 1, 0, 'K'},         {"bearer", 1, 0, 'b'},  {"fresh", 0, 0, 'f'},
        {"expect", 1, 0, 'e'},      {"name", 1, 0, 'N'},    {"samples", 1, 0, 's'},
        {"expect-text", 1, 0, 'T'}, {"timeout", 1, 0, 'o'}, {0, 0, 0, 0}};
    int o;

    *c = (struct cfg){
        .method = "POST", .name = "http", .clients = 1, .expect = 200, .timeout_ms = 10000};
    while ((o = getopt_long(argc, argv, "X:d:c:t:n:", lo, NULL)) != -1) {
        switch (o) {
        case 'u':
            c->url = optarg;
            break;
        case 'a':
            c->ca = optarg;
            break;
        case 'C':
            c->cert = optarg;
            break;
        case 'K':
            c->key = optarg;
            break;
        case 'b':
            c->bearer = optarg;
            break;
        case 'f':
            c->fresh = 1;
            break;
        case 'e':
            c->expect = atol(optarg);
            break;
        case 'N':
            c->name = optarg;
            break;
        case 's':
            c->samples = optarg;
            break;
        case 'T':
            c->expect_text = optarg;
            break;
        case 'X':
            c->method = optarg;
            break;
        case 'd':
            c->body = optarg;
            break;
        case 'c':
            c->clients = atoi(optarg);
            break;
        case 't':
            c->seconds = atof(optarg);
            break;
        case 'n':
            c->per_client = atoi(optarg);
            break;
        case 'o':
            c->timeout_ms = atof(optarg) * 1e3;
            break;
        default:
            return -1;
        }
    }
    return c->url && c->ca && c->clients > 0 && c->clients <= MAX_CLIENTS &&
                   (c->seconds > 0) != (c->per_client > 0) && c->timeout_ms > 0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    struct cfg c;
    struct run r = {.cfg = &c};
    double t0, elapsed;

    if (parse(argc, argv, &c) != 0) {
        fprintf(stderr, "usage: bench_http --url URL --ca FILE [--cert F --key F] [--bearer T] "
                        "[-X M] [-d BODY] [-c N] (-t S | -n N) [--fresh] [--expect S] "
                        "[--expect-text T] [--name N] [--samples FILE] [--timeout S]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write is an error to count, not a death */
    if (setup_target(&c) != 0 || setup_tls(&c) != 0) {
        fprintf(stderr, "bench_http: cannot use %s with CA %s%s%s\n", c.url, c.ca,
                c.cert ? " and certificate " : "", c.cert ? c.cert : "");
        ERR_print_errors_fp(stderr);
        return 2;
    }
    r.conns = calloc((size_t)c.clients, sizeof(*r.conns));
    if ((r.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || r.conns == NULL)
        return 2;
    t0 = bench_now_ms();
    r.stop_at = t0 + c.seconds * 1e3;
    run_all(&r);
    elapsed = (bench_now_ms() - t0) / 1e3;
    bench_dump_samples(c.samples, r.lat, r.n);
    printf("{\"name\":\"%s\",\"clients\":%d,\"fresh\":%d,\"requests\":%zu,\"errors\":%zu,"
           "\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
           c.name, c.clients, c.fresh, r.n, r.errors, (double)r.n / elapsed,
           bench_percentile(r.lat, r.n, 0.50), bench_percentile(r.lat, r.n, 0.99));
    free(r.lat);
    free(r.conns);
    free(c.request);
    SSL_CTX_free(c.ctx);
    close(r.ep);
    return r.errors == 0 ? 0 : 1;
}
