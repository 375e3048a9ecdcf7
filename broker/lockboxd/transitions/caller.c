/* The authenticated caller as the transitions see it (api/auth.c fills it in): its kind, name and
 * the roles it holds, on which scopes. */
#include <stdio.h>
#include <string.h>

#include "caller.h"
#include "store.h"

void caller_free(struct caller *c)
{
    json_decref(c->assignments);
    c->assignments = NULL;
}

int caller_has(const struct caller *c, enum lbx_role role)
{
    return c->kind == CALLER_PERSON && (c->roles & (1u << role)) != 0;
}

int caller_has_on(const struct caller *c, enum lbx_role role, const char *scope)
{
    json_t *a;
    size_t i;

    if (c->kind != CALLER_PERSON || scope == NULL)
        return 0;
    json_array_foreach(c->assignments, i, a)
    {
        if (strcmp(row_str(a, "role"), lbx_role_name(role)) == 0 &&
            strcmp(row_str(a, "scope"), scope) == 0)
            return 1;
    }
    return 0;
}

const char *engineer_scope_for(const json_t *assignments, const char *tenant)
{
    char scope[LBX_NAME_MAX + 16];
    const char *found = NULL;
    const json_t *a;
    size_t i;

    if (tenant == NULL || tenant[0] == '\0')
        return NULL;
    snprintf(scope, sizeof(scope), "tenant:%s", tenant);
    json_array_foreach(assignments, i, a)
    {
        if (strcmp(row_str(a, "role"), lbx_role_name(LBX_ROLE_ENGINEER)) != 0)
            continue;
        if (strcmp(row_str(a, "scope"), "global") == 0)
            return row_str(a, "scope");
        if (strcmp(row_str(a, "scope"), scope) == 0)
            found = row_str(a, "scope");
    }
    return found;
}

lbx_err engineer_scope_now(struct store *st, const char *identity, const char *tenant,
                           char out[LBX_NAME_MAX + 16], struct lbx_error *e)
{
    json_t *roles = NULL;
    const char *scope;
    lbx_err r;

    out[0] = '\0';
    if ((r = store_exec(st, Q_ROLES_OF_IDENTITY, SV_PARAMS(SV_TEXT(identity)), &roles, NULL, e)) !=
        LBX_OK)
        return r;
    if ((scope = engineer_scope_for(roles, tenant)) != NULL)
        snprintf(out, LBX_NAME_MAX + 16, "%s", scope);
    else
        r = lbx_error_set(e, LBX_ERR_FORBIDDEN, "%s holds no engineer role on global or tenant:%s",
                          identity, tenant ? tenant : "?");
    json_decref(roles);
    return r;
}
