/* HTTPS front: OpenSSL context (TLS 1.2+, client certificates verified when presented, against
 * the host and people CAs of tls_trust.c; resumption by stateless session tickets that carry
 * what the full handshake established, tls_ticket.c), libevent's evhttp over
 * bufferevent_openssl, and the route table. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "api.h"
#include "buf.h"
#include "console_http.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "tls_ticket.h"
#include "tls_trust.h"

#define MAX_HEADERS_SIZE (16 * 1024)

enum route_auth { AUTH_NONE, AUTH_HOST, AUTH_PERSON };

struct route {
    enum evhttp_cmd_type method;
    const char *pattern; /* '*' matches one path segment */
    int (*handler)(struct api_req *ar);
    enum route_auth auth;
};

static const struct route routes[] = {
    {EVHTTP_REQ_GET, "/v1/health", api_health, AUTH_NONE},
    {EVHTTP_REQ_GET, "/v1/whoami", api_whoami, AUTH_PERSON},
    {EVHTTP_REQ_POST, "/v1/host/token", api_host_token, AUTH_HOST},
    {EVHTTP_REQ_GET, "/v1/host/grants/*", api_host_grant, AUTH_HOST},
    {EVHTTP_REQ_POST, "/v1/host/sessions", api_host_session, AUTH_HOST},
    {EVHTTP_REQ_GET, "/v1/host/identity", api_host_identity, AUTH_HOST},
    {EVHTTP_REQ_POST, "/v1/host/recordings", api_host_recording, AUTH_HOST},
    {EVHTTP_REQ_POST, "/v1/requests", api_request_create, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/requests", api_request_list, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/requests/*", api_request_get, AUTH_PERSON},
    {EVHTTP_REQ_POST, "/v1/requests/*/approve", api_request_approve, AUTH_PERSON},
    {EVHTTP_REQ_POST, "/v1/requests/*/deny", api_request_deny, AUTH_PERSON},
    {EVHTTP_REQ_POST, "/v1/requests/*/revoke", api_request_revoke, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/requests/*/recordings", api_recordings_of, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/recordings/*", api_recording_get, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/tenants", api_tenants, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/subscriptions", api_subscriptions, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/hosts", api_hosts, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/host-groups", api_host_groups, AUTH_PERSON},
    {EVHTTP_REQ_POST, "/v1/host-groups/*/members", api_host_group_members, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/identities", api_identities, AUTH_PERSON},
    {EVHTTP_REQ_DELETE, "/v1/identities/*", api_identity_delete, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/roles", api_roles, AUTH_PERSON},
    {EVHTTP_REQ_DELETE, "/v1/roles/*", api_role_delete, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/policies", api_policy_list, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/policies/*", api_policy_get, AUTH_PERSON},
    {EVHTTP_REQ_PUT, "/v1/policies/*", api_policy_put, AUTH_PERSON},
    {EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/v1/api-tokens", api_tokens, AUTH_PERSON},
    {EVHTTP_REQ_DELETE, "/v1/api-tokens/*", api_token_delete, AUTH_PERSON},
    {EVHTTP_REQ_GET, "/v1/audit", api_audit_list, AUTH_PERSON},
};

/* Matches path against pattern segment by segment; fills ar->params from '*' segments. */
static int route_match(const char *pattern, struct api_req *ar)
{
    char *save_p = NULL, *save_s = NULL, pat[128], *p, *s;
    int n = 0;

    snprintf(pat, sizeof(pat), "%s", pattern);
    snprintf(ar->param_buf, sizeof(ar->param_buf), "%s", ar->path);
    p = strtok_r(pat, "/", &save_p);
    s = strtok_r(ar->param_buf, "/", &save_s);
    for (; p != NULL && s != NULL;
         p = strtok_r(NULL, "/", &save_p), s = strtok_r(NULL, "/", &save_s)) {
        if (strcmp(p, "*") == 0) {
            if (n == API_MAX_PARAMS)
                return 0;
            ar->params[n++] = s;
        } else if (strcmp(p, s) != 0) {
            return 0;
        }
    }
    return p == NULL && s == NULL;
}

static lbx_err read_body(struct api_req *ar, struct lbx_error *e)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(ar->req);
    size_t len = evbuffer_get_length(in);
    const char *data;

    if (len > (size_t)ar->b->cfg.max_body)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "request body of %zu bytes is over %ld", len,
                             ar->b->cfg.max_body);
    if (ar->method != EVHTTP_REQ_POST && ar->method != EVHTTP_REQ_PUT)
        return LBX_OK;
    if (len == 0) {
        ar->body = json_object();
        return ar->body ? LBX_OK : lbx_error_set(e, LBX_ERR_NOMEM, "body");
    }
    data = (const char *)evbuffer_pullup(in, (ssize_t)len);
    return lbx_json_parse_object(data, len, (size_t)ar->b->cfg.max_body, LBX_JSON_MAX_DEPTH,
                                 &ar->body, e);
}

static void dispatch(struct api_req *ar)
{
    const struct route *r, *path_match = NULL;
    struct lbx_error e = {0};
    lbx_err err;
    size_t i;

    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        r = &routes[i];
        memset(ar->params, 0, sizeof(ar->params));
        if (!route_match(r->pattern, ar))
            continue;
        path_match = r;
        if (r->method & ar->method)
            break;
    }
    /* Before authentication: its refusals are audited with the path. */
    if ((err = api_check_text(ar, &e)) != LBX_OK) {
        api_fail(ar, err, &e);
        return;
    }
    if (path_match == NULL) {
        api_fail_msg(ar, 404, "not_found", "no such endpoint");
        return;
    }
    if (i == sizeof(routes) / sizeof(routes[0])) {
        api_fail_msg(ar, 405, "method_not_allowed", "method not allowed here");
        return;
    }
    if (r->auth != AUTH_NONE && (err = auth_resolve(ar, r->auth == AUTH_HOST, &e)) != LBX_OK) {
        api_fail(ar, err, &e);
        return;
    }
    if ((err = read_body(ar, &e)) != LBX_OK || (err = api_check_text(ar, &e)) != LBX_OK) {
        api_fail(ar, err, &e);
        return;
    }
    r->handler(ar);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *query;
    struct api_req ar;

    memset(&ar, 0, sizeof(ar));
    ar.b = arg;
    ar.req = req;
    ar.method = evhttp_request_get_command(req);
    ar.query.tqh_first = NULL;
    ar.query.tqh_last = &ar.query.tqh_first;
    if (path == NULL || strlen(path) >= sizeof(ar.path)) {
        api_fail_msg(&ar, 414, "bad_path", "path missing or too long");
        return;
    }
    snprintf(ar.path, sizeof(ar.path), "%s", path);
    if (ar.b->console_table != NULL && strncmp(path, "/v1/", 4) != 0) {
        console_handle(ar.b, req, path);
        return;
    }
    query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (query != NULL && evhttp_parse_query_str(query, &ar.query) != 0)
        api_fail_msg(&ar, 400, "bad_query", "malformed query string");
    else
        dispatch(&ar);
    if (!ar.answered)
        api_fail_msg(&ar, 500, "internal", "no answer");
    evhttp_clear_headers(&ar.query);
    json_decref(ar.body);
    caller_free(&ar.caller);
}

/* bufferevent_openssl calls SSL_write once per chain of its output buffer, and evhttp leaves an
 * answer's head and body in two chains: two TLS records, two write() calls, two TCP segments.
 * Gathering a small answer into one chain makes it one of each (a sixth of a token call's CPU
 * went to the second write). */
#define ONE_RECORD_MAX 16384

static void gather_answer(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
    size_t len = evbuffer_get_length(out);

    if (info->n_added > 0 && len <= ONE_RECORD_MAX)
        evbuffer_pullup(out, (ev_ssize_t)len);
}

static struct bufferevent *make_tls_bufferevent(struct event_base *base, void *arg)
{
    struct broker *b = arg;
    struct bufferevent *bev;
    SSL *ssl = SSL_new(b->ssl_ctx);

    if (ssl == NULL)
        return NULL;
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* Clients that drop the connection without close_notify are normal, not errors. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    if (evbuffer_add_cb(bufferevent_get_output(bev), gather_answer, NULL) == NULL) {
        bufferevent_free(bev);
        return NULL;
    }
    return bev;
}

static lbx_err tls_error(const char *what, const char *path, struct lbx_error *e)
{
    char msg[256];

    ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
    ERR_clear_error();
    return lbx_error_set(e, LBX_ERR_TLS, "%s %s: %s", what, path, msg);
}

/* The server key must be a secret file (ours, no group/other access). */
static lbx_err load_server_key(SSL_CTX *ctx, const char *path, struct lbx_error *e)
{
    EVP_PKEY *pkey = NULL;
    size_t len;
    char *pem = NULL;
    BIO *bio = NULL;
    lbx_err r;

    if ((r = lbx_file_read(path, LBX_FILE_SECRET, 64 * 1024, &pem, &len, e)) != LBX_OK)
        return r;
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
        (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
        SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        r = tls_error("server key", path, e);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    lbx_freezero(pem, len);
    return r;
}

lbx_err server_tls_context(const struct broker_config *cfg, SSL_CTX **out, struct lbx_error *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    lbx_err r = LBX_OK;

    *out = NULL;
    if (ctx == NULL)
        return tls_error("context", "", e);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* No server-side session cache (nothing to share between workers): resumption, when
     * tls_session_lifetime allows it, is by stateless tickets only (tls_ticket.c). */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
        r = tls_error("server certificate", cfg->tls_cert, e);
    else if ((r = load_server_key(ctx, cfg->tls_key, e)) != LBX_OK)
        ;
    else if ((r = tls_trust_install(ctx, cfg->client_ca, cfg->people_ca, e)) == LBX_OK &&
             (r = tls_ticket_configure(ctx, cfg->tls_session_lifetime, e)) == LBX_OK) {
        /* Asked for, verified when given, not required: people use bearer tokens. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_verify_depth(ctx, 4);
    }
    if (r != LBX_OK) {
        SSL_CTX_free(ctx);
        return r;
    }
    *out = ctx;
    return LBX_OK;
}

static int bound_port(struct evhttp_bound_socket *sock)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Accepted sockets inherit TCP_NODELAY from the listener (Linux). Without it an answer
 * written as two TLS records (head, body) waits on the client's delayed ACK: 40 ms a request. */
static void set_nodelay(int fd)
{
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)) != 0)
        lbx_warn_f("TCP_NODELAY: %s", strerror(errno));
}

static int bind_one(const struct addrinfo *ai, int port)
{
    struct sockaddr_storage ss;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);

    if (fd < 0)
        return -1;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &(int){1}, sizeof(int)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

lbx_err server_bind(const char *listen, int n, int *fds, int *port, struct lbx_error *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[256];
    int i;
    lbx_err r;

    if ((r = broker_config_listen(listen, "listen", host, sizeof(host), port, e)) != LBX_OK)
        return r;
    if (getaddrinfo(host, "0", &hints, &ai) != 0 || ai == NULL)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "cannot resolve %s", host);
    for (i = 0; i < n; i++) {
        if ((fds[i] = bind_one(ai, *port)) < 0) {
            r = lbx_error_set(e, LBX_ERR_SYSTEM, "cannot listen on %s: %s", listen,
                              strerror(errno));
            break;
        }
        if (i == 0 && getsockname(fds[0], (struct sockaddr *)&ss, &len) == 0)
            *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                  : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    freeaddrinfo(ai);
    if (r == LBX_OK)
        lbx_info_f("listening on %s port %d (%d sockets)", host, *port, n);
    return r;
}

static lbx_err listen_here(struct broker *b, struct lbx_error *e)
{
    struct evhttp_bound_socket *sock;
    char host[256];
    int port = 0;
    lbx_err r;

    if ((r = broker_config_listen(b->cfg.listen, "listen", host, sizeof(host), &port, e)) != LBX_OK)
        return r;
    if ((sock = evhttp_bind_socket_with_handle(b->http, host, (ev_uint16_t)port)) == NULL)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "cannot listen on %s", b->cfg.listen);
    set_nodelay(evhttp_bound_socket_get_fd(sock));
    b->port = bound_port(sock);
    lbx_info_f("listening on %s port %d", host, b->port);
    return LBX_OK;
}

lbx_err server_ready(struct broker *b, struct lbx_error *e)
{
    char portbuf[16];
    lbx_err r;
    int n;

    if (b->cfg.ready_file != NULL) {
        snprintf(portbuf, sizeof(portbuf), "%d\n", b->port);
        if ((r = lbx_file_write_atomic(b->cfg.ready_file, portbuf, strlen(portbuf), 0644, e)) !=
            LBX_OK)
            return r;
    }
    /* Without NOTIFY_SOCKET (not started by systemd as Type=notify) this does nothing. The
     * environment is left alone: other threads run by now, and unsetenv is not safe beside them. */
    if ((n = sd_notifyf(0, "READY=1\nSTATUS=serving on port %d", b->port)) < 0)
        lbx_warn_f("systemd readiness notification failed: %s", strerror(-n));
    return LBX_OK;
}

lbx_err server_start(struct broker *b, struct lbx_error *e)
{
    if ((b->http = evhttp_new(b->base)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "evhttp");
    evhttp_set_bevcb(b->http, make_tls_bufferevent, b);
    evhttp_set_gencb(b->http, on_request, b);
    evhttp_set_timeout(b->http, (int)b->cfg.client_timeout);
    /* evhttp's own cap (answered without JSON) sits above ours (answered with JSON). */
    evhttp_set_max_body_size(b->http, (ev_ssize_t)b->cfg.max_body * 4);
    evhttp_set_max_headers_size(b->http, MAX_HEADERS_SIZE);
    evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE);
    if (b->listen_fd < 0) /* alone: bind here; a worker serves the socket its parent bound */
        return listen_here(b, e);
    if (evhttp_accept_socket_with_handle(b->http, b->listen_fd) == NULL)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "worker %d: cannot serve its socket", b->worker);
    return LBX_OK;
}

void server_stop(struct broker *b)
{
    waiters_drop_all(b);
    group_commit_stop(b); /* the answers it holds leave before the connections close */
    if (b->http != NULL)
        evhttp_free(b->http);
    b->http = NULL;
}
