/* Who asks for a transition: a host (by its certificate) or a person (by token or certificate)
 * with the roles it holds. Filled in by api/auth.c; read by the transitions and the handlers. */
#ifndef LBX_CALLER_H
#define LBX_CALLER_H

#include <jansson.h>

#include "approvers.h"

enum caller_kind { CALLER_NONE, CALLER_HOST, CALLER_PERSON };

struct caller {
    enum caller_kind kind;
    char name[LBX_NAME_MAX + 1];  /* host id or identity name */
    char login[LBX_NAME_MAX + 1]; /* a person's host login ("" when none) */
    unsigned roles;               /* bit per enum lbx_role held on any scope */
    json_t *assignments;          /* the person's active role rows */
};

void caller_free(struct caller *c);
int caller_has(const struct caller *c, enum lbx_role role);
/* Holds role on exactly this scope string ("tenant:x", "subscription:y", "global"). */
int caller_has_on(const struct caller *c, enum lbx_role role, const char *scope);
/* The engineer assignment among `assignments` (role rows) that reaches a host of `tenant`:
 * "global" when held, else "tenant:ID"; NULL when none does. Asking for access, lockbox-off
 * grants, token issue and a role's removal all decide by this one rule. */
const char *engineer_scope_for(const json_t *assignments, const char *tenant);
/* The same question asked of the store now (inside the caller's transaction when one is open:
 * a role removed by a transaction that committed first counts as removed): the scope copied to
 * out, or LBX_ERR_FORBIDDEN saying that `identity` (or a disabled one) holds none. */
struct store;
lbx_err engineer_scope_now(struct store *st, const char *identity, const char *tenant,
                           char out[LBX_NAME_MAX + 16], struct lbx_error *e);

#endif
