/* The request lifecycle as pure rules: statuses, which event moves which status where, and the
 * access window an approval opens. The broker applies a transition only when this table allows
 * it, inside one store transaction whose precondition is the "from" status, so a transition
 * happens exactly once however many approvers, timers or brokers race for it. */
#ifndef LBX_LIFECYCLE_H
#define LBX_LIFECYCLE_H

#include <stdint.h>

#include "lbx_err.h"

enum lbx_status {
    LBX_ST_INTERNAL_REVIEW, /* provider-side manager must approve before the customer is asked */
    LBX_ST_PENDING,         /* customer notified, awaiting approval */
    LBX_ST_APPROVED,        /* grant active until access_end */
    LBX_ST_DENIED,
    LBX_ST_EXPIRED,   /* nobody answered before the request TTL */
    LBX_ST_REVOKED,   /* approved, then withdrawn */
    LBX_ST_ENDED,     /* approved, access window over */
    LBX_ST_CANCELLED, /* still open when its requester was disabled or lost the engineer role */
    LBX_ST__COUNT
};

enum lbx_event {
    LBX_EV_REVIEW_APPROVE, /* support manager passes the internal review */
    LBX_EV_APPROVE,        /* the last required customer approval */
    LBX_EV_DENY,
    LBX_EV_EXPIRE, /* request TTL reached (broker timer) */
    LBX_EV_REVOKE,
    LBX_EV_END,    /* access_end reached (broker timer) */
    LBX_EV_CANCEL, /* the requester was disabled or lost the engineer role */
    LBX_EV__COUNT
};

/* Default request TTL (4 days, as in the seeds) and the default access window (8 h). */
#define LBX_REQUEST_TTL_DEFAULT (4 * 24 * 3600)
#define LBX_REQUEST_TTL_MAX (30 * 24 * 3600)

const char *lbx_status_name(enum lbx_status s);
/* LBX_ERR_ARG for an unknown name. */
lbx_err lbx_status_parse(const char *name, enum lbx_status *out);
const char *lbx_event_name(enum lbx_event ev);

/* The status ev leads to from `from`; LBX_ERR_CONFLICT when ev does not apply to `from`
 * (a denied request cannot be approved, an expired one cannot be revoked, ...). */
lbx_err lbx_lifecycle_next(enum lbx_status from, enum lbx_event ev, enum lbx_status *to);

/* No further transition is possible. */
int lbx_status_is_final(enum lbx_status s);
/* Still waiting for someone (internal review or customer). */
int lbx_status_is_open(enum lbx_status s);

/* The access window opened by an approval at approved_at: the requested duration, cut to the
 * policy's maximum and always to LBX_GRANT_MAX_LIFETIME. LBX_ERR_ARG for a duration <= 0. */
lbx_err lbx_access_end(int64_t approved_at, int64_t requested, int64_t policy_max, int64_t *end);

/* A requested duration is acceptable: 1 s .. min(policy_max, 8 h). */
lbx_err lbx_duration_allowed(int64_t requested, int64_t policy_max, struct lbx_error *e);

#endif
