#include "lifecycle.h"

#include <string.h>

#include "token.h"

static const char *const status_names[LBX_ST__COUNT] = {
    [LBX_ST_INTERNAL_REVIEW] = "internal-review",
    [LBX_ST_PENDING] = "pending",
    [LBX_ST_APPROVED] = "approved",
    [LBX_ST_DENIED] = "denied",
    [LBX_ST_EXPIRED] = "expired",
    [LBX_ST_REVOKED] = "revoked",
    [LBX_ST_ENDED] = "ended",
    [LBX_ST_CANCELLED] = "cancelled",
};

static const char *const event_names[LBX_EV__COUNT] = {
    [LBX_EV_REVIEW_APPROVE] = "review-approve",
    [LBX_EV_APPROVE] = "approve",
    [LBX_EV_DENY] = "deny",
    [LBX_EV_EXPIRE] = "expire",
    [LBX_EV_REVOKE] = "revoke",
    [LBX_EV_END] = "end",
    [LBX_EV_CANCEL] = "cancel",
};

/* transitions[from][event] = to + 1; 0 = not allowed. */
static const unsigned char transitions[LBX_ST__COUNT][LBX_EV__COUNT] = {
    [LBX_ST_INTERNAL_REVIEW] =
        {
            [LBX_EV_REVIEW_APPROVE] = LBX_ST_PENDING + 1,
            [LBX_EV_DENY] = LBX_ST_DENIED + 1,
            [LBX_EV_EXPIRE] = LBX_ST_EXPIRED + 1,
            [LBX_EV_CANCEL] = LBX_ST_CANCELLED + 1,
        },
    [LBX_ST_PENDING] =
        {
            [LBX_EV_APPROVE] = LBX_ST_APPROVED + 1,
            [LBX_EV_DENY] = LBX_ST_DENIED + 1,
            [LBX_EV_EXPIRE] = LBX_ST_EXPIRED + 1,
            [LBX_EV_CANCEL] = LBX_ST_CANCELLED + 1,
        },
    [LBX_ST_APPROVED] =
        {
            [LBX_EV_REVOKE] = LBX_ST_REVOKED + 1,
            [LBX_EV_END] = LBX_ST_ENDED + 1,
        },
};

const char *lbx_status_name(enum lbx_status s)
{
    return (unsigned)s < LBX_ST__COUNT ? status_names[s] : "unknown";
}

lbx_err lbx_status_parse(const char *name, enum lbx_status *out)
{
    int i;

    for (i = 0; i < LBX_ST__COUNT; i++)
        if (name != NULL && strcmp(name, status_names[i]) == 0) {
            *out = (enum lbx_status)i;
            return LBX_OK;
        }
    return LBX_ERR_ARG;
}

const char *lbx_event_name(enum lbx_event ev)
{
    return (unsigned)ev < LBX_EV__COUNT ? event_names[ev] : "unknown";
}

lbx_err lbx_lifecycle_next(enum lbx_status from, enum lbx_event ev, enum lbx_status *to)
{
    if ((unsigned)from >= LBX_ST__COUNT || (unsigned)ev >= LBX_EV__COUNT)
        return LBX_ERR_ARG;
    if (transitions[from][ev] == 0)
        return LBX_ERR_CONFLICT;
    *to = (enum lbx_status)(transitions[from][ev] - 1);
    return LBX_OK;
}

int lbx_status_is_final(enum lbx_status s)
{
    int ev;

    for (ev = 0; ev < LBX_EV__COUNT; ev++)
        if ((unsigned)s < LBX_ST__COUNT && transitions[s][ev] != 0)
            return 0;
    return 1;
}

int lbx_status_is_open(enum lbx_status s)
{
    return s == LBX_ST_INTERNAL_REVIEW || s == LBX_ST_PENDING;
}

static int64_t effective_max(int64_t policy_max)
{
    return (policy_max <= 0 || policy_max > LBX_GRANT_MAX_LIFETIME) ? LBX_GRANT_MAX_LIFETIME
                                                                    : policy_max;
}

lbx_err lbx_access_end(int64_t approved_at, int64_t requested, int64_t policy_max, int64_t *end)
{
    int64_t len = requested;

    if (requested <= 0 || approved_at <= 0)
        return LBX_ERR_ARG;
    if (len > effective_max(policy_max))
        len = effective_max(policy_max);
    *end = approved_at + len;
    return LBX_OK;
}

lbx_err lbx_duration_allowed(int64_t requested, int64_t policy_max, struct lbx_error *e)
{
    if (requested <= 0)
        return lbx_error_set(e, LBX_ERR_ARG, "duration must be positive");
    if (requested > effective_max(policy_max))
        return lbx_error_set(e, LBX_ERR_LIFETIME_CAP, "duration %llds is over the maximum of %llds",
                             (long long)requested, (long long)effective_max(policy_max));
    return LBX_OK;
}
