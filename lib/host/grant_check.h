/* The host's one check of a grant token, for the module's account and session phases and for
 * the reaper: ES256 by a trusted key, issuer and audience from host.conf, subject the login,
 * the time window with host.conf's leeway (policy/token.h), and, stricter than the window,
 * the grant not yet over (LBX_END_LEAD_MS before exp): a session never starts, or goes on,
 * past its grant. */
#ifndef LBX_GRANT_CHECK_H
#define LBX_GRANT_CHECK_H

#include "grant_end.h"
#include "host_config.h"
#include "keys.h"
#include "token.h"

/* ring: the trusted keys, or NULL to load them from cfg->trusted_keys. claims are filled on
 * LBX_OK (lbx_claims_free them) and left empty otherwise. */
lbx_err lbx_grant_check(const struct lbx_host_config *cfg, const struct lbx_keyring *ring,
                        const char *token, const char *login, struct lbx_claims *claims,
                        struct lbx_error *e);

#endif
