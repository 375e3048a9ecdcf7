#include "tls_conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "keys.h"
#include "tls_resume.h"

/* 1 ready, 0 deadline passed, -1 error (errno). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    int64_t left;
    int rc;

    for (;;) {
        if ((left = deadline - lbx_monotonic_ms()) <= 0)
            return 0;
        rc = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static lbx_err timed_out(struct lbx_error *e, const char *what)
{
    return lbx_error_set(e, LBX_ERR_BROKER_TIMEOUT, "%s timed out (deadline passed)", what);
}

/* -- name and connect --------------------------------------------------------------------- */

/* A name lookup that keeps the deadline: getaddrinfo_a, given up (not waited for) when the
 * deadline passes. A lookup that cannot be cancelled keeps its request, which is leaked on
 * purpose: the resolver thread still writes into it. */
static lbx_err resolve_name(const struct lbx_url *u, const struct addrinfo *hints, int64_t deadline,
                            struct addrinfo **res, struct lbx_error *e)
{
    struct gaicb *req = calloc(1, sizeof(*req));
    struct addrinfo *h = malloc(sizeof(*h));
    char *name = strdup(u->host), *port = strdup(u->port);
    struct timespec ts;
    int64_t left;
    int rc;

    if (req == NULL || h == NULL || name == NULL || port == NULL) {
        free(req), free(h), free(name), free(port);
        return lbx_error_set(e, LBX_ERR_NOMEM, "name lookup");
    }
    *h = *hints;
    *req = (struct gaicb){.ar_name = name, .ar_service = port, .ar_request = h};
    if ((rc = getaddrinfo_a(GAI_NOWAIT, &req, 1, NULL)) == 0) {
        while ((rc = gai_error(req)) == EAI_INPROGRESS &&
               (left = deadline - lbx_monotonic_ms()) > 0) {
            ts = (struct timespec){left / 1000, (left % 1000) * 1000000};
            gai_suspend((const struct gaicb *const *)&req, 1, &ts);
        }
        if (rc == EAI_INPROGRESS && gai_cancel(req) != EAI_CANCELED)
            return timed_out(e, "the name lookup"); /* req, name, port and h stay with it */
    }
    *res = rc == 0 ? req->ar_result : NULL;
    free(req), free(h), free(name), free(port);
    if (rc == EAI_INPROGRESS || rc == EAI_CANCELED)
        return timed_out(e, "the name lookup");
    if (rc != 0)
        return lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE, "%s: %s", u->host, gai_strerror(rc));
    return LBX_OK;
}

static lbx_err resolve(const struct lbx_url *u, int64_t deadline, struct addrinfo **res,
                       struct lbx_error *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
    int rc;

    if (!u->host_is_ip)
        return resolve_name(u, &hints, deadline, res, e);
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    if ((rc = getaddrinfo(u->host, u->port, &hints, res)) != 0)
        return lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE, "%s: %s", u->host, gai_strerror(rc));
    return LBX_OK;
}

/* The fd, or -1 with *err = errno of the failure (ETIMEDOUT when the deadline passed). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *err)
{
    int fd, one = 1, soerr = 0, ready;
    socklen_t len = sizeof(soerr);

    if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        *err = errno;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            *err = errno;
        } else if ((ready = wait_fd(fd, POLLOUT, deadline)) <= 0) {
            *err = ready == 0 ? ETIMEDOUT : errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            *err = soerr ? soerr : errno;
        } else {
            return fd;
        }
        close(fd);
        return -1;
    }
    return fd;
}

static lbx_err connect_any(const struct lbx_url *u, int64_t deadline, int *fd, struct lbx_error *e)
{
    struct addrinfo *res = NULL, *ai;
    int err = ECONNREFUSED;
    lbx_err r;

    if ((r = resolve(u, deadline, &res, e)) != LBX_OK)
        return r;
    for (*fd = -1, ai = res; ai != NULL && *fd < 0 && err != ETIMEDOUT; ai = ai->ai_next)
        *fd = connect_one(ai, deadline, &err);
    freeaddrinfo(res);
    if (*fd >= 0)
        return LBX_OK;
    if (err == ETIMEDOUT)
        return timed_out(e, "connect");
    return lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE, "connect to %s port %s: %s", u->host,
                         u->port, strerror(err));
}

/* -- TLS ---------------------------------------------------------------------------------- */

static lbx_err tls_failed(struct lbx_error *e, const char *what, const char *file)
{
    unsigned long code = ERR_peek_last_error();
    char why[160] = "no detail";

    if (code != 0)
        ERR_error_string_n(code, why, sizeof(why));
    ERR_clear_error();
    return lbx_error_set(e, LBX_ERR_TLS, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
                         why);
}

/* What a connection carries beside its SSL (ex_data, for OpenSSL's callbacks): its files
 * while the handshake runs, and where the session it gets is kept. */
struct tls_state {
    const struct lbx_tls_identity *id; /* during lbx_tls_open only */
    int loaded;                        /* the CA file, certificate and key are on the session */
    lbx_err load_code;                 /* a late load's failure, told instead of the handshake's */
    struct lbx_error load_error;
    STACK_OF(X509) * trusted; /* a late load's CA certificates */
    char *session_file;
    char tag[LBX_TLS_RESUME_TAG_MAX];   /* "" = nothing offered or kept */
    long offered_time, offered_timeout; /* the session offered; offered_time 0: none */
    int saved;
};

static int state_index = -1;

static struct tls_state *state_of(const SSL *ssl)
{
    return ssl != NULL && state_index >= 0 ? SSL_get_ex_data(ssl, state_index) : NULL;
}

static int verify_server(X509_STORE_CTX *xs, void *arg);
static int on_new_session(SSL *ssl, SSL_SESSION *sess);

/* One bare client context per process: protocol floor and peer verification, no CA, no
 * certificate. It never changes once made (the CA and the client certificate go on each
 * connection, load_identity), so every connection of every thread shares it: SSL_new only takes
 * a reference. Made by lbx_tls_warm or the first connection. */
static SSL_CTX *shared_ctx;
static pthread_once_t shared_ctx_once = PTHREAD_ONCE_INIT;

static SSL_CTX *bare_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx != NULL) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, verify_server, NULL);
        /* Sessions go to the connection's file (on_new_session), never to a cache in memory. */
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    }
    return ctx;
}

static void drop_shared_ctx(void)
{
    SSL_CTX_free(shared_ctx); /* connections still open keep their own reference */
    shared_ctx = NULL;
}

/* Dropped by atexit: at exit before OpenSSL's own cleanup (registered earlier, when OpenSSL was
 * initialised, so run later), and when the PAM module this code is linked into is unloaded
 * (dlclose runs a shared object's atexit handlers). A destructor would run after that cleanup. */
static void make_shared_ctx(void)
{
    state_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    shared_ctx = bare_ctx();
    ERR_clear_error();
    if (shared_ctx != NULL && atexit(drop_shared_ctx) != 0)
        drop_shared_ctx(); /* never left unowned: each connection makes its own */
}

void lbx_tls_warm(void)
{
    pthread_once(&shared_ctx_once, make_shared_ctx);
}

/* A reference to the shared context or, when it could not be made, a context of its own. */
static SSL_CTX *client_ctx(void)
{
    lbx_tls_warm();
    if (shared_ctx != NULL && SSL_CTX_up_ref(shared_ctx) == 1)
        return shared_ctx;
    return bare_ctx();
}

#define KEY_FILE_MAX 65536

/* The client certificate's key, decoded the fast way (policy/keys.c) and wiped after. */
static int use_key_file(SSL *ssl, const char *path)
{
    EVP_PKEY *pkey = NULL;
    char *pem = NULL;
    size_t len = 0;
    int ok;

    ok = lbx_file_read(path, LBX_FILE_ANY, KEY_FILE_MAX, &pem, &len, NULL) == LBX_OK &&
         lbx_pem_private_key(pem, len, &pkey, NULL) == LBX_OK && SSL_use_PrivateKey(ssl, pkey) == 1;
    EVP_PKEY_free(pkey);
    lbx_freezero(pem, len);
    return ok;
}

/* The chain the client certificate is sent with, when its file holds no more than the
 * certificate: completed from the CA file here, while the broker computes its answer, rather
 * than by OpenSSL when the certificate is sent. Without the self-signed root: the broker never
 * takes a trust anchor from its peer, it would only parse it. Best effort: on failure OpenSSL
 * completes it at sending time, as it always did. */
static void complete_chain(SSL *ssl)
{
    STACK_OF(X509) *extra = NULL;

    if (SSL_get0_chain_certs(ssl, &extra) == 1 && sk_X509_num(extra) <= 0)
        SSL_build_cert_chain(ssl, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
                                      SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
    ERR_clear_error();
}

/* The connection's trust (only the configured CA: no default paths, no directory; also the
 * store a client certificate's chain is completed from, as a context's own store was) and its
 * client certificate. OpenSSL looks for both on the connection only when the server's flight is
 * processed: the server's certificate is verified against the connection's verify store, the
 * client certificate is taken when the CertificateRequest is (TLS 1.2 and 1.3). */
static lbx_err load_identity(SSL *ssl, const struct lbx_tls_identity *id, STACK_OF(X509) * *trusted,
                             struct lbx_error *e)
{
    X509_STORE *store;
    int ok;

    ERR_clear_error(); /* the reason told is the load's own */
    store = X509_STORE_new();
    ok = store != NULL && X509_STORE_load_file(store, id->ca_file) == 1 &&
         SSL_set1_verify_cert_store(ssl, store) == 1 &&
         SSL_set1_chain_cert_store(ssl, store) == 1 &&
         (trusted == NULL || (*trusted = X509_STORE_get1_all_certs(store)) != NULL);
    X509_STORE_free(store);
    if (!ok)
        return tls_failed(e, "CA file", id->ca_file);
    if (id->cert_file == NULL)
        return LBX_OK;
    if (SSL_use_certificate_chain_file(ssl, id->cert_file) != 1 ||
        !use_key_file(ssl, id->key_file ? id->key_file : id->cert_file) ||
        SSL_check_private_key(ssl) != 1)
        return tls_failed(e, "client certificate or key", id->cert_file);
    complete_chain(ssl);
    return LBX_OK;
}

/* Every server certificate is verified here. Normally the files were loaded while the server
 * computed its answer; when a saved session was offered they were not, and a certificate coming
 * means the server declined it: a full handshake after all, and the files load now (the client
 * certificate is chosen only after the server's certificate, in TLS 1.3 and 1.2 alike). */
static int verify_server(X509_STORE_CTX *xs, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_state *st = state_of(ssl);

    (void)arg;
    if (st == NULL || st->loaded)
        return X509_verify_cert(xs);
    if (st->id == NULL ||
        (st->load_code = load_identity(ssl, st->id, &st->trusted, &st->load_error)) != LBX_OK) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    st->loaded = 1;
    /* This context was made before the CA was on the session: it is given the CA's certificates. */
    X509_STORE_CTX_set0_trusted_stack(xs, st->trusted);
    return X509_verify_cert(xs);
}

/* A session ticket came: kept after a full handshake, and after a resumed one when the session
 * offered is past half its life (the file is not rewritten at every call). Once a connection. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_state *st = state_of(ssl);
    long now = (long)time(NULL);

    if (st == NULL || st->session_file == NULL || st->tag[0] == '\0' || st->saved)
        return 0;
    if (SSL_session_reused(ssl) && now - st->offered_time < st->offered_timeout / 2)
        return 0;
    st->saved = lbx_tls_resume_save(st->session_file, st->tag, sess) == 0;
    return 0; /* not kept in memory: OpenSSL frees it */
}

static void state_free(struct tls_state *st)
{
    if (st == NULL)
        return;
    sk_X509_pop_free(st->trusted, X509_free);
    free(st->session_file);
    free(st);
}

/* The connection's state and, with a session file, the session saved there for this peer and
 * these very files, offered in the ClientHello. */
static lbx_err attach_state(struct lbx_tls_conn *c, const struct lbx_url *u,
                            const struct lbx_tls_identity *id, struct lbx_error *e)
{
    const char *files[3] = {id->ca_file, id->cert_file, id->key_file};
    struct tls_state *st = calloc(1, sizeof(*st));
    SSL_SESSION *sess = NULL;

    if (st == NULL || state_index < 0 || SSL_set_ex_data(c->ssl, state_index, st) != 1) {
        free(st);
        return lbx_error_set(e, LBX_ERR_NOMEM, "TLS session state");
    }
    c->state = st;
    st->id = id;
    if (id->session_file == NULL ||
        lbx_tls_resume_tag(u->host, u->port, files, 3, st->tag, sizeof(st->tag)) != 0) {
        st->tag[0] = '\0';
        return LBX_OK;
    }
    if ((st->session_file = strdup(id->session_file)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "TLS session state");
    sess = lbx_tls_resume_load(st->session_file, st->tag);
    if (sess != NULL && SSL_set_session(c->ssl, sess) == 1) {
        st->offered_time = SSL_SESSION_get_time(sess);
        st->offered_timeout = SSL_SESSION_get_timeout(sess);
    }
    SSL_SESSION_free(sess);
    ERR_clear_error();
    return LBX_OK;
}

/* SSL_ERROR_WANT_* → wait for the socket; anything else → the error. A peer that goes away
 * is on_close (a handshake cut short is a TLS failure; an answer cut short is not). */
static lbx_err tls_wait(struct lbx_tls_conn *c, int rc, int64_t deadline, const char *what,
                        lbx_err on_close, struct lbx_error *e)
{
    int err = SSL_get_error(c->ssl, rc), ready, saved = errno;
    unsigned long code = ERR_peek_last_error();
    long verify;

    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ready = wait_fd(c->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (ready > 0)
            return LBX_OK;
        ERR_clear_error();
        return ready == 0
                   ? timed_out(e, what)
                   : lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE, "%s: %s", what, strerror(errno));
    }
    if ((verify = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
        ERR_clear_error();
        return lbx_error_set(e, LBX_ERR_TLS, "peer certificate refused: %s",
                             X509_verify_cert_error_string(verify));
    }
    if ((err == SSL_ERROR_SYSCALL && code == 0) ||
        ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return lbx_error_set(e, on_close, "%s: %s", what,
                             err == SSL_ERROR_SYSCALL && saved ? strerror(saved)
                                                               : "connection closed");
    }
    return tls_failed(e, what, NULL);
}

/* The session (on the shared context) and the peer's name or address to check. */
static lbx_err new_session(struct lbx_tls_conn *c, const struct lbx_url *u, struct lbx_error *e)
{
    SSL_CTX *ctx = client_ctx();
    X509_VERIFY_PARAM *vp;

    c->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    SSL_CTX_free(ctx); /* the session keeps its own reference */
    if (c->ssl == NULL)
        return tls_failed(e, "TLS session", NULL);
    vp = SSL_get0_param(c->ssl);
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (u->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, u->host) != 1
                      : (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 ||
                         X509_VERIFY_PARAM_set1_host(vp, u->host, 0) != 1))
        return tls_failed(e, "peer name", u->host);
    return LBX_OK;
}

/* Runs the handshake until it waits for the peer (or is done). */
static lbx_err drive(struct lbx_tls_conn *c, int until_hello_sent, int64_t deadline,
                     struct lbx_error *e)
{
    lbx_err r;
    int rc;

    for (;;) {
        ERR_clear_error();
        if ((rc = SSL_connect(c->ssl)) == 1)
            return LBX_OK;
        if (until_hello_sent && SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_READ)
            return LBX_OK;
        if ((r = tls_wait(c, rc, deadline, "TLS handshake", LBX_ERR_TLS, e)) != LBX_OK)
            return r;
    }
}

/* Sends the ClientHello. The session reads from an empty memory BIO until finish_handshake, so
 * this SSL_connect can do nothing but send it: an answer that comes early waits in the socket
 * and is never processed before the CA and the certificate are on the session. */
static lbx_err start_handshake(struct lbx_tls_conn *c, int64_t deadline, struct lbx_error *e)
{
    BIO *hold = BIO_new(BIO_s_mem()), *sock = BIO_new_socket(c->fd, BIO_NOCLOSE);

    if (hold == NULL || sock == NULL) {
        BIO_free(hold);
        BIO_free(sock);
        return tls_failed(e, "TLS session", NULL);
    }
    BIO_set_mem_eof_return(hold, -1); /* empty means "later", not end of file */
    SSL_set_bio(c->ssl, hold, sock);
    return drive(c, 1, deadline, e);
}

static lbx_err finish_handshake(struct lbx_tls_conn *c, int64_t deadline, struct lbx_error *e)
{
    BIO *sock = SSL_get_wbio(c->ssl); /* the socket, under any buffer of the handshake */

    if (BIO_up_ref(sock) != 1)
        return tls_failed(e, "TLS session", NULL);
    SSL_set0_rbio(c->ssl, sock); /* frees the empty one */
    return drive(c, 0, deadline, e);
}

/* The ClientHello leaves first; the CA file, the certificate and the key (~1 ms) are loaded
 * while the broker computes its answer, or, when a saved session is offered, only if the broker
 * declines it (verify_server). */
lbx_err lbx_tls_open(struct lbx_tls_conn *c, const struct lbx_url *u,
                     const struct lbx_tls_identity *id, int64_t deadline, struct lbx_error *e)
{
    struct tls_state *st;
    lbx_err r;

    *c = (struct lbx_tls_conn)LBX_TLS_CONN_CLOSED;
    if ((r = new_session(c, u, e)) != LBX_OK || (r = attach_state(c, u, id, e)) != LBX_OK)
        goto out;
    st = c->state;
    if ((r = connect_any(u, deadline, &c->fd, e)) == LBX_OK)
        r = start_handshake(c, deadline, e);
    /* A file that cannot be loaded is the error whatever the network did, as when the files
     * were loaded before connecting: it is what needs fixing. */
    if (st->offered_time == 0 &&
        (st->load_code = load_identity(c->ssl, id, NULL, &st->load_error)) == LBX_OK)
        st->loaded = 1;
    if (r == LBX_OK && st->load_code == LBX_OK)
        r = finish_handshake(c, deadline, e);
    if (st->load_code != LBX_OK)
        r = lbx_error_set(e, st->load_code, "%s", st->load_error.detail);
    st->id = NULL;
    c->resumed = r == LBX_OK && SSL_session_reused(c->ssl);
out:
    if (r != LBX_OK)
        lbx_tls_close(c);
    return r;
}

lbx_err lbx_tls_write(struct lbx_tls_conn *c, const char *p, size_t n, int64_t deadline,
                      struct lbx_error *e)
{
    size_t done;
    lbx_err r;
    int rc;

    while (n > 0) {
        ERR_clear_error();
        if ((rc = SSL_write_ex(c->ssl, p, n, &done)) == 1) {
            p += done;
            n -= done;
        } else if ((r = tls_wait(c, rc, deadline, "sending the request", LBX_ERR_BROKER_UNREACHABLE,
                                 e)) != LBX_OK) {
            return r;
        }
    }
    return LBX_OK;
}

lbx_err lbx_tls_read(struct lbx_tls_conn *c, char *p, size_t cap, size_t *got, int64_t deadline,
                     struct lbx_error *e)
{
    lbx_err r;
    int rc;

    for (;;) {
        ERR_clear_error();
        if ((rc = SSL_read_ex(c->ssl, p, cap, got)) == 1)
            return LBX_OK;
        if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN) {
            *got = 0;
            return LBX_OK;
        }
        if ((r = tls_wait(c, rc, deadline, "reading the answer", LBX_ERR_BROKER_UNREACHABLE, e)) !=
            LBX_OK)
            return r;
    }
}

int lbx_tls_idle(const struct lbx_tls_conn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};

    return c->fd >= 0 && SSL_pending(c->ssl) == 0 && poll(&p, 1, 0) == 0;
}

void lbx_tls_close(struct lbx_tls_conn *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    state_free(c->state);
    if (c->fd >= 0)
        close(c->fd);
    *c = (struct lbx_tls_conn)LBX_TLS_CONN_CLOSED;
    ERR_clear_error();
}
