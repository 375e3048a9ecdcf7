/* Lockbox requests and grants: the domain operations behind the HTTP handlers. Each one that
 * changes state is one store transaction with a status precondition, its audit event and its
 * notifications (outbox), so it happens exactly once or not at all. */
#ifndef LBX_REQUESTS_H
#define LBX_REQUESTS_H

#include <jansson.h>
#include <stdint.h>

#include "broker.h"
#include "caller.h"
#include "lifecycle.h"

/* The policy in force for a tenant/subscription: broker defaults, overridden by the tenant's
 * policy, overridden by the subscription's. */
struct policy_eff {
    int lockbox;
    int64_t request_ttl;
    int64_t access_duration;
    int64_t approvals_required;
    int internal_review;
    char webhook[512]; /* "" = none */
    int notify_email;  /* mail approvers/requester through notify_command */
    /* Whose setting `lockbox` is: "broker-config", "tenant:ID" or "subscription:ID". */
    char lockbox_from[LBX_NAME_MAX + 32];
};

lbx_err policy_effective(struct broker *b, struct store *st, const char *tenant,
                         const char *subscription, struct policy_eff *out, struct lbx_error *e);
/* Checks a policy body for PUT (known members, types, ranges: access_duration <= 8 h). */
lbx_err policy_validate(const json_t *body, struct lbx_error *e);

/* "LBX-42" or "42" -> 42; "G-42" for grants. */
lbx_err request_parse_id(const char *s, const char *prefix, int64_t *id, struct lbx_error *e);

/* The longest justification and decision comment a request keeps. */
#define REQUEST_REASON_MAX 4096
#define REQUEST_COMMENT_MAX 1024

struct request_input {
    const char *host, *host_group, *ticket, *reason;
    int64_t duration;
};
lbx_err request_create(struct broker *b, const struct caller *c, const struct request_input *in,
                       json_t **out, struct lbx_error *e);

/* The request row with "approvers" and "approvals" arrays attached. */
lbx_err request_load(struct store *st, int64_t id, json_t **row, struct lbx_error *e);
/* The API object of API.md from a loaded row (new reference). */
json_t *request_to_api(const json_t *row);
/* May c see this request at all (requester, its approvers, scope approvers, managers, admins,
 * auditors)? */
int request_visible(const struct caller *c, const json_t *row);
/* Which requests a list shows: status "pending" (pending and internal review), "all" or one
 * status name (else LBX_ERR_ARG); created at or after `since`; ids below `before`; at most
 * `limit` of them. */
struct request_page {
    const char *status;
    int64_t since, before;
    size_t limit;
};
/* The newest requests of `want` that c may see, as API objects; *next is the `before` of the
 * following page, or 0 when this one was the last. */
lbx_err request_list(struct store *st, const struct caller *c, const struct request_page *want,
                     json_t **out, int64_t *next, struct lbx_error *e);
/* The grant status of a loaded row at `now`: "active", "revoked", "ended" or NULL (no grant). */
const char *grant_status(const json_t *row, int64_t now);

/* approve / deny / revoke by a person: e says why when refused. */
lbx_err request_decide(struct broker *b, const struct caller *c, int64_t id, enum lbx_event ev,
                       const char *comment, json_t **out, struct lbx_error *e);
/* Access taken from an identity that lost it: which of its requests, and why. */
struct withdrawal {
    const char *identity;
    const char *actor;   /* who disabled it or removed the role */
    const char *cause;   /* the audit events' detail.reason: "identity_disabled", "role_removed" */
    const char *comment; /* kept on each request ("identity bob disabled"); the token refusal
                          * for it says this */
    const char *scope;   /* the removed assignment's scope (audited), or NULL */
    /* The identity's engineer assignments that remain (role rows, read inside the
     * transaction): a request on a tenant one of them reaches stays. NULL: none remains. */
    const json_t *remaining;
    int64_t now;
    int count; /* out: how many were withdrawn */
};
/* Inside the caller's write transaction: every open request of w->identity that its remaining
 * roles do not cover is cancelled and every such unexpired grant revoked, each audited with
 * w->actor. The caller commits, then wakes the waiters (a host's reaper long-polls the grant). */
lbx_err requests_withdraw(struct broker *b, struct withdrawal *w, struct lbx_error *e);
/* expire / end by the broker's timer: LBX_ERR_CONFLICT when no longer due. */
lbx_err request_timer_event(struct broker *b, int64_t id, enum lbx_event ev, int64_t now,
                            struct lbx_error *e);

#endif
