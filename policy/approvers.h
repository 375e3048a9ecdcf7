/* Who may approve what, as pure rules. Roles are assigned on a scope; approvers of a request
 * are snapshotted when it is created (as in the seeds: subscription owners for a subscription
 * scope, tenant global administrators for a tenant scope; assignments made later do not count;
 * management-group-scoped assignments are not supported). Nobody approves their own request. */
#ifndef LBX_APPROVERS_H
#define LBX_APPROVERS_H

#include <stddef.h>
#include <stdint.h>

#include "lbx_err.h"

enum lbx_role {
    LBX_ROLE_ADMIN,           /* broker administrator: directory, roles, policy, API tokens */
    LBX_ROLE_ENGINEER,        /* provider support engineer: asks for access */
    LBX_ROLE_SUPPORT_MANAGER, /* provider: passes the internal review stage */
    LBX_ROLE_OWNER,           /* customer: subscription owner, approves subscription scope */
    LBX_ROLE_GLOBAL_ADMIN,    /* customer: tenant global administrator, approves tenant scope */
    LBX_ROLE_AUDITOR,         /* reads and exports the audit log */
    LBX_ROLE__COUNT
};

enum lbx_scope_type {
    LBX_SCOPE_GLOBAL,
    LBX_SCOPE_TENANT,
    LBX_SCOPE_SUBSCRIPTION,
    LBX_SCOPE_MANAGEMENT_GROUP, /* parsed so it can be refused with a clear message */
};

#define LBX_APPROVERS_MAX 64
#define LBX_NAME_MAX 64

struct lbx_assignment {
    const char *identity;
    enum lbx_role role;
    enum lbx_scope_type scope_type;
    const char *scope_id; /* tenant or subscription id; NULL for global */
    int64_t created;
    int64_t removed; /* 0 while in force */
};

/* A directory name or id (identity, tenant, subscription, host): 1..64 of [A-Za-z0-9._-]. */
int lbx_valid_name(const char *s);

const char *lbx_role_name(enum lbx_role role);
lbx_err lbx_role_parse(const char *name, enum lbx_role *out);

/* "global", "tenant:ID", "subscription:ID", "management-group:ID". *id points into scope. */
lbx_err lbx_scope_parse(const char *scope, enum lbx_scope_type *type, const char **id,
                        struct lbx_error *e);

/* Whether role may be assigned on a scope of that type: owner on subscriptions, global-admin
 * on tenants, engineer/auditor globally or on a tenant, admin and support-manager globally.
 * Management groups are refused for every role. */
lbx_err lbx_role_scope_check(enum lbx_role role, enum lbx_scope_type type, struct lbx_error *e);

/* The role that approves requests on a scope type, and how to call it in messages. */
enum lbx_role lbx_approver_role(enum lbx_scope_type request_scope);
const char *lbx_approver_label(enum lbx_scope_type request_scope);

/* Fills names (deduplicated, at most max) with the identities eligible to approve a request on
 * (scope_type, scope_id) made by requester at time `at`: holders of the approving role on that
 * exact scope whose assignment was in force at `at`. The requester is never one of them.
 * LBX_ERR_FORBIDDEN with a clear detail when nobody is eligible. */
lbx_err lbx_approvers_snapshot(const struct lbx_assignment *a, size_t n,
                               enum lbx_scope_type scope_type, const char *scope_id,
                               const char *requester, int64_t at, const char **names, size_t max,
                               size_t *count, struct lbx_error *e);

/* The lower-level snapshot: identities holding role on (scope_type, scope_id) at `at`, the
 * requester left out, deduplicated; returns how many (0 is not an error here). */
size_t lbx_holders_snapshot(const struct lbx_assignment *a, size_t n, enum lbx_role role,
                            enum lbx_scope_type scope_type, const char *scope_id,
                            const char *requester, int64_t at, const char **names, size_t max);

/* approver may record an approval on a request made by requester whose snapshot is names[n]. */
lbx_err lbx_may_approve(const char *const *names, size_t n, const char *approver,
                        const char *requester, struct lbx_error *e);

#endif
