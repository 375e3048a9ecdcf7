/* The audit log: every state change and every access decision, appended to a SHA-256 hash
 * chain (policy/audit_chain.h) in the same transaction as the change it records. */
#ifndef LBX_AUDIT_H
#define LBX_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

struct audit_event {
    const char *action;    /* "request_created", "token_issued", ... */
    const char *actor;     /* identity, "host:ID", or "broker" for timers */
    const json_t *request; /* a request row: fills tenant, request id, status, ticket, expiries,
                              host and justification (optional) */
    const char *tenant;    /* when there is no request */
    const char *host;
    json_t *detail; /* extra members (reference stolen; may be NULL) */
};

/* Appends ev inside the caller's write transaction. */
lbx_err audit_append(struct store *st, const struct audit_event *ev, struct lbx_error *e);
/* Appends ev in a transaction of its own (for refusals and other lone events). A failure is
 * logged and returned: an answer that reports what the event records (a token issued, a
 * session reported) must not leave without it. */
lbx_err audit_record(struct store *st, const struct audit_event *ev, struct lbx_error *e);
/* audit_record for refusals: the answer refuses either way, so a lost event is only logged. */
void audit_note(struct store *st, const struct audit_event *ev);

#endif
