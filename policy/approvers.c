#include "approvers.h"

#include <string.h>

static const char *const role_names[LBX_ROLE__COUNT] = {
    [LBX_ROLE_ADMIN] = "admin",
    [LBX_ROLE_ENGINEER] = "engineer",
    [LBX_ROLE_SUPPORT_MANAGER] = "support-manager",
    [LBX_ROLE_OWNER] = "owner",
    [LBX_ROLE_GLOBAL_ADMIN] = "global-admin",
    [LBX_ROLE_AUDITOR] = "auditor",
};

/* allowed[role] = bit set of scope types it may be assigned on. */
#define BIT(t) (1u << (t))
static const unsigned allowed_scopes[LBX_ROLE__COUNT] = {
    [LBX_ROLE_ADMIN] = BIT(LBX_SCOPE_GLOBAL),
    [LBX_ROLE_ENGINEER] = BIT(LBX_SCOPE_GLOBAL) | BIT(LBX_SCOPE_TENANT),
    [LBX_ROLE_SUPPORT_MANAGER] = BIT(LBX_SCOPE_GLOBAL),
    [LBX_ROLE_OWNER] = BIT(LBX_SCOPE_SUBSCRIPTION),
    [LBX_ROLE_GLOBAL_ADMIN] = BIT(LBX_SCOPE_TENANT),
    [LBX_ROLE_AUDITOR] = BIT(LBX_SCOPE_GLOBAL) | BIT(LBX_SCOPE_TENANT),
};

const char *lbx_role_name(enum lbx_role role)
{
    return (unsigned)role < LBX_ROLE__COUNT ? role_names[role] : "unknown";
}

lbx_err lbx_role_parse(const char *name, enum lbx_role *out)
{
    int i;

    for (i = 0; i < LBX_ROLE__COUNT; i++)
        if (name != NULL && strcmp(name, role_names[i]) == 0) {
            *out = (enum lbx_role)i;
            return LBX_OK;
        }
    return LBX_ERR_ARG;
}

int lbx_valid_name(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > LBX_NAME_MAX)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '-' || *id == '_' || *id == '.'))
            return 0;
    return 1;
}

lbx_err lbx_scope_parse(const char *scope, enum lbx_scope_type *type, const char **id,
                        struct lbx_error *e)
{
    static const struct {
        const char *prefix;
        enum lbx_scope_type type;
    } kinds[] = {{"tenant:", LBX_SCOPE_TENANT},
                 {"subscription:", LBX_SCOPE_SUBSCRIPTION},
                 {"management-group:", LBX_SCOPE_MANAGEMENT_GROUP}};
    size_t i, n;

    *id = NULL;
    if (scope != NULL && strcmp(scope, "global") == 0) {
        *type = LBX_SCOPE_GLOBAL;
        return LBX_OK;
    }
    for (i = 0; scope != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        n = strlen(kinds[i].prefix);
        if (strncmp(scope, kinds[i].prefix, n) == 0 && lbx_valid_name(scope + n)) {
            *type = kinds[i].type;
            *id = scope + n;
            return LBX_OK;
        }
    }
    return lbx_error_set(e, LBX_ERR_ARG,
                         "scope must be global, tenant:ID, subscription:ID or management-group:ID");
}

lbx_err lbx_role_scope_check(enum lbx_role role, enum lbx_scope_type type, struct lbx_error *e)
{
    if (type == LBX_SCOPE_MANAGEMENT_GROUP)
        return lbx_error_set(e, LBX_ERR_ARG,
                             "role assignments scoped to management groups are not supported; "
                             "assign the role on each subscription or on the tenant");
    if ((unsigned)role >= LBX_ROLE__COUNT)
        return lbx_error_set(e, LBX_ERR_ARG, "unknown role");
    if (!(allowed_scopes[role] & BIT(type)))
        return lbx_error_set(
            e, LBX_ERR_ARG, "role %s can be assigned on: %s%s%s", lbx_role_name(role),
            (allowed_scopes[role] & BIT(LBX_SCOPE_GLOBAL)) ? "global " : "",
            (allowed_scopes[role] & BIT(LBX_SCOPE_TENANT)) ? "tenant:ID " : "",
            (allowed_scopes[role] & BIT(LBX_SCOPE_SUBSCRIPTION)) ? "subscription:ID" : "");
    return LBX_OK;
}

enum lbx_role lbx_approver_role(enum lbx_scope_type request_scope)
{
    return request_scope == LBX_SCOPE_SUBSCRIPTION ? LBX_ROLE_OWNER : LBX_ROLE_GLOBAL_ADMIN;
}

const char *lbx_approver_label(enum lbx_scope_type request_scope)
{
    return request_scope == LBX_SCOPE_SUBSCRIPTION ? "subscription owner"
                                                   : "tenant global administrator";
}

static int in_list(const char **names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static int assignment_eligible(const struct lbx_assignment *a, enum lbx_role role,
                               enum lbx_scope_type scope_type, const char *scope_id, int64_t at)
{
    if (a->role != role || a->scope_type != scope_type)
        return 0;
    if (scope_type != LBX_SCOPE_GLOBAL &&
        (a->scope_id == NULL || scope_id == NULL || strcmp(a->scope_id, scope_id) != 0))
        return 0;
    /* In force when the request was made: created no later, not removed by then. */
    return a->created <= at && (a->removed == 0 || a->removed > at);
}

size_t lbx_holders_snapshot(const struct lbx_assignment *a, size_t n, enum lbx_role role,
                            enum lbx_scope_type scope_type, const char *scope_id,
                            const char *requester, int64_t at, const char **names, size_t max)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++) {
        if (!assignment_eligible(&a[i], role, scope_type, scope_id, at))
            continue;
        if (strcmp(a[i].identity, requester) == 0 || in_list(names, count, a[i].identity))
            continue;
        if (count == max)
            break;
        names[count++] = a[i].identity;
    }
    return count;
}

lbx_err lbx_approvers_snapshot(const struct lbx_assignment *a, size_t n,
                               enum lbx_scope_type scope_type, const char *scope_id,
                               const char *requester, int64_t at, const char **names, size_t max,
                               size_t *count, struct lbx_error *e)
{
    *count = 0;
    if (scope_type != LBX_SCOPE_SUBSCRIPTION && scope_type != LBX_SCOPE_TENANT)
        return lbx_error_set(e, LBX_ERR_ARG, "requests are made on a tenant or a subscription");
    *count = lbx_holders_snapshot(a, n, lbx_approver_role(scope_type), scope_type, scope_id,
                                  requester, at, names, max);
    if (*count == 0)
        return lbx_error_set(e, LBX_ERR_FORBIDDEN,
                             "no eligible approver: nobody but the requester "
                             "holds the %s role on %s %s",
                             lbx_approver_label(scope_type),
                             scope_type == LBX_SCOPE_SUBSCRIPTION ? "subscription" : "tenant",
                             scope_id);
    return LBX_OK;
}

lbx_err lbx_may_approve(const char *const *names, size_t n, const char *approver,
                        const char *requester, struct lbx_error *e)
{
    size_t i;

    if (strcmp(approver, requester) == 0)
        return lbx_error_set(e, LBX_ERR_FORBIDDEN, "nobody approves their own request");
    for (i = 0; i < n; i++)
        if (strcmp(names[i], approver) == 0)
            return LBX_OK;
    return lbx_error_set(e, LBX_ERR_FORBIDDEN,
                         "%s is not among the approvers recorded when the request was made",
                         approver);
}
