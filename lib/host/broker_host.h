/* The host's side of the broker API (broker/API.md, "Host endpoints"): every call is mTLS with
 * the host certificate, the CA pinned, one deadline per call. Used by pam_lockbox.so (token),
 * lockbox-reaper (grant status, session reports) and the module's close (session end).
 * Session reports that cannot be delivered are spooled on disk and sent again later. */
#ifndef LBX_BROKER_HOST_H
#define LBX_BROKER_HOST_H

#include <stdint.h>

#include "host_config.h"
#include "lbx_err.h"

struct lbx_http_conn;

/* A 200 answer to POST /v1/host/token. Only `token` is trusted (after verification); the
 * rest is shown to the engineer. */
struct lbx_broker_grant {
    char *token;
    char *grant_id;
    char *request_id;
    char *ticket;
    char *approved_by;
    int64_t access_end;
};

/* A 403 answer: the broker's reason, shown (sanitized) to the engineer. */
struct lbx_broker_refusal {
    char code[32];
    char message[256];
    char request_id[64];
    char awaiting[128];
};

enum lbx_grant_status {
    LBX_GRANT_ACTIVE,
    LBX_GRANT_REVOKED,
    LBX_GRANT_ENDED,
};

struct lbx_session_event {
    const char *grant_id;
    const char *login;
    const char *session;
    const char *event;  /* "start" | "end" */
    const char *reason; /* end only: "expired" | "revoked" | "exited" | "error" */
    int64_t time;
};

#define LBX_BROKER_ID_MAX 128

/* LBX_OK with *g filled; LBX_ERR_NO_GRANT with *ref filled on a refusal; a transport, TLS or
 * protocol error otherwise. */
lbx_err lbx_broker_request_token(const struct lbx_host_config *cfg, const char *login,
                                 long timeout_ms, struct lbx_broker_grant *g,
                                 struct lbx_broker_refusal *ref, struct lbx_error *e);
void lbx_broker_grant_free(struct lbx_broker_grant *g);

/* conn, in the calls below that take it: a connection to keep between one thread's calls
 * (lbx_http_conn_new), or NULL for a fresh one. */

/* GET /v1/host/grants/{id}?wait=W. LBX_ERR_NOT_FOUND / LBX_ERR_FORBIDDEN when the broker
 * says the grant is not (or not for this host). */
lbx_err lbx_broker_grant_status(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                                const char *grant_id, int wait, long timeout_ms,
                                enum lbx_grant_status *status, int64_t *access_end,
                                struct lbx_error *e);

/* POSTs the event; when the broker cannot take it, writes it to cfg->spool_dir and returns
 * LBX_OK with *spooled = 1 (an event is lost only if the spool itself fails). */
lbx_err lbx_broker_report_session(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                                  const struct lbx_session_event *ev, long timeout_ms, int *spooled,
                                  struct lbx_error *e);
/* Sends spooled events, oldest first, stopping at the first transport failure; an event the
 * broker refuses (4xx) is dropped and counted in *dropped. Returns how many are still spooled. */
int lbx_broker_spool_flush(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                           long timeout_ms, int *dropped);

/* What the broker makes of this host (GET /v1/host/identity). */
struct lbx_broker_identity {
    char host[LBX_BROKER_ID_MAX]; /* the host id its certificate names */
    char issuer[256];             /* the iss of its tokens */
    char kid[64];                 /* the key id its tokens carry */
};

/* Always a full TLS handshake, never the saved session: this is how lockbox-host-setup check
 * learns that the CA, the certificate and the key work together. LBX_ERR_AUTH (401) and
 * LBX_ERR_FORBIDDEN (403) carry the broker's reason in e. */
lbx_err lbx_broker_host_identity(const struct lbx_host_config *cfg, long timeout_ms,
                                 struct lbx_broker_identity *id, struct lbx_error *e);

/* Response parsers, separate so hostile bodies can be tested without a network. */
lbx_err lbx_broker_parse_identity(long status, const char *body, size_t len,
                                  struct lbx_broker_identity *id, struct lbx_error *e);
lbx_err lbx_broker_parse_token(long status, const char *body, size_t len,
                               struct lbx_broker_grant *g, struct lbx_broker_refusal *ref,
                               struct lbx_error *e);
lbx_err lbx_broker_parse_status(long status, const char *body, size_t len, const char *grant_id,
                                enum lbx_grant_status *st, int64_t *access_end,
                                struct lbx_error *e);
/* 1 when id is safe in a URL path and a file name: [A-Za-z0-9._-], 1..LBX_BROKER_ID_MAX-1. */
int lbx_broker_id_valid(const char *id);

#endif
