/* The one HTTP client: HTTP/1.1 over TLS (OpenSSL), HTTPS only, CA pinned to the configured
 * file, optional client certificate, no proxy, no redirects, one total deadline that includes
 * the name lookup, bounded and strictly parsed answers (lib/net/http_wire.c). Used by the PAM
 * module, the reaper, lockboxctl and the broker's webhooks. */
#ifndef LBX_HTTP_CLIENT_H
#define LBX_HTTP_CLIENT_H

#include "buf.h"
#include "lbx_err.h"

/* A connection kept open between the requests of one thread (HTTP keep-alive: one TLS
 * handshake for all of them). Never shared between threads. */
struct lbx_http_conn;

struct lbx_http_opts {
    const char *ca_file;          /* trust only this CA bundle (required) */
    const char *cert_file;        /* client certificate for mTLS (optional) */
    const char *key_file;         /* its private key (optional) */
    const char *tls_session_file; /* keep the TLS session here and resume it (optional, root-only
                                     file: lib/net/tls_resume.h) */
    const char *bearer;           /* API token sent as "Authorization: Bearer" (optional) */
    const char *content_type;     /* of the body (NULL: application/json) */
    long timeout_ms;              /* whole request, DNS included; 0 = 3000 */
    size_t max_response;          /* 0 = 1 MiB */
    struct lbx_http_conn *conn;   /* reuse this connection (optional; NULL = a fresh one) */
};

struct lbx_http_response {
    long status;
    struct lbx_buf body;
    int tls_resumed; /* the answer came on a connection that resumed a saved TLS session */
};

/* Initialises OpenSSL and makes the process's client TLS context (lib/net/tls_conn.c), once per
 * process: the ~1 ms OpenSSL 3 spends on its first context is then paid here, not inside a
 * request. lbx_http_request calls it too: calling it first only picks where that cost falls. */
void lbx_http_init(void);

/* method: "GET", "POST", "PUT", "DELETE". body: JSON text (or of opts->content_type) or NULL.
 * Transport failures map to LBX_ERR_BROKER_UNREACHABLE / LBX_ERR_BROKER_TIMEOUT / LBX_ERR_TLS, a
 * malformed answer to LBX_ERR_HTTP, one over max_response to LBX_ERR_TOO_LARGE; any HTTP status is
 * LBX_OK with resp->status set. */
lbx_err lbx_http_request(const struct lbx_http_opts *opts, const char *method, const char *url,
                         const char *body, struct lbx_http_response *resp, struct lbx_error *e);
void lbx_http_response_free(struct lbx_http_response *resp);

/* A connection to reuse through lbx_http_opts.conn. Every request still sets every option (CA,
 * certificate, deadline) afresh; only an open connection to the same host and port, made with
 * the same TLS settings, is reused, else a new one is made. */
lbx_err lbx_http_conn_new(struct lbx_http_conn **conn, struct lbx_error *e);
void lbx_http_conn_free(struct lbx_http_conn *conn);

#endif
