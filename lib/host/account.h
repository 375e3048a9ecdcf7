/* Accounts and groups from NSS (files, sssd, LDAP...). Every lookup grows its buffer on ERANGE
 * (a group of thousands of members, a long LDAP entry) and tells "no such entry" apart from
 * "could not ask" (an LDAP timeout, sssd down): lockbox fails closed on the second. */
#ifndef LBX_ACCOUNT_H
#define LBX_ACCOUNT_H

#include <sys/types.h>

#include "lbx_err.h"

struct lbx_account {
    char *name; /* the canonical name NSS returns (pw_name), not what was asked for */
    char *shell;
    uid_t uid;
    gid_t gid;
};

/* LBX_OK, LBX_ERR_NOT_FOUND (no such entry), LBX_ERR_SYSTEM (the lookup failed: e says how),
 * LBX_ERR_NOMEM. */
lbx_err lbx_account_by_name(const char *name, struct lbx_account *a, struct lbx_error *e);
lbx_err lbx_account_by_uid(uid_t uid, struct lbx_account *a, struct lbx_error *e);
void lbx_account_free(struct lbx_account *a);

/* The gid of group `name`; same results as above. */
lbx_err lbx_group_gid(const char *name, gid_t *gid, struct lbx_error *e);

/* Whether account a belongs to group `group`: its primary group, or its canonical name in the
 * member list. LBX_OK: a member. LBX_ERR_NOT_FOUND: not a member, or no such group.
 * LBX_ERR_SYSTEM / LBX_ERR_NOMEM: cannot tell. */
lbx_err lbx_group_has(const char *group, const struct lbx_account *a, struct lbx_error *e);

#endif
