/* One TLS connection of the HTTP client, every step bounded by one deadline: name resolution,
 * TCP connect, the handshake (peer verified against the configured CA file only, name or IP
 * checked), reads and writes. OpenSSL directly on a non-blocking socket: a process that calls
 * the broker pays for libssl (already next to sshd's libcrypto), not for a general-purpose
 * client library and its ~30 dependencies. */
#ifndef LBX_TLS_CONN_H
#define LBX_TLS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "duration.h" /* lbx_monotonic_ms: the deadlines */
#include "http_wire.h"
#include "lbx_err.h"

struct lbx_tls_conn {
    int fd; /* -1 when closed */
    void *ssl;
    void *state; /* the handshake's files and the session to keep (tls_conn.c) */
    int resumed; /* the handshake resumed a saved session */
};

struct lbx_tls_identity {
    const char *ca_file;      /* required */
    const char *cert_file;    /* optional client certificate (chain, PEM) */
    const char *key_file;     /* its key; NULL = in cert_file */
    const char *session_file; /* optional: the session kept for resumption (lib/net/tls_resume.h) */
};

#define LBX_TLS_CONN_CLOSED                                                                        \
    {                                                                                              \
        -1, NULL, NULL, 0                                                                          \
    }

/* Makes the process's one client TLS context (bare: the CA file, certificate and key go on each
 * connection), shared by every connection and thread. OpenSSL 3 builds its algorithm tables the
 * first time a process makes a TLS context (~1 ms), and each context costs ~0.2 ms more: making
 * it early moves that cost where it is cheaper. Best effort; the first connection makes it
 * otherwise. */
void lbx_tls_warm(void);

/* The ClientHello leaves before the CA file, the certificate and the key are loaded: they load
 * while the server computes its answer. With a saved session to offer (id->session_file) they
 * are not loaded at all unless the server declines it and sends its certificate. A file that cannot
 * be loaded is still the error (named, before any request is sent), even when the network failed
 * too. Errors: LBX_ERR_BROKER_TIMEOUT when the deadline passes, LBX_ERR_BROKER_UNREACHABLE (name,
 * connect), LBX_ERR_TLS (files, handshake, verification). */
lbx_err lbx_tls_open(struct lbx_tls_conn *c, const struct lbx_url *u,
                     const struct lbx_tls_identity *id, int64_t deadline, struct lbx_error *e);
lbx_err lbx_tls_write(struct lbx_tls_conn *c, const char *p, size_t n, int64_t deadline,
                      struct lbx_error *e);
/* Waits for data; *got = 0 when the peer closed cleanly (close_notify). A close without it is
 * LBX_ERR_BROKER_UNREACHABLE: it cannot tell the end of an answer from a cut. */
lbx_err lbx_tls_read(struct lbx_tls_conn *c, char *p, size_t cap, size_t *got, int64_t deadline,
                     struct lbx_error *e);
/* A kept connection can carry a request: open, nothing unread, not closed by the peer. */
int lbx_tls_idle(const struct lbx_tls_conn *c);
void lbx_tls_close(struct lbx_tls_conn *c);

#endif
