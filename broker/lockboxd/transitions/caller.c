/* The authenticated caller as the transitions see it (api/auth.c fills it in): its kind, name and
 * the roles it holds, on which scopes. */
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
