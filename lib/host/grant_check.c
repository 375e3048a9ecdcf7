#include <string.h>
#include <time.h>

#include "grant_check.h"

lbx_err lbx_grant_check(const struct lbx_host_config *cfg, const struct lbx_keyring *ring,
                        const char *token, const char *login, struct lbx_claims *claims,
                        struct lbx_error *e)
{
    struct lbx_keyring *loaded = NULL;
    struct lbx_verify_opts o = {0};
    lbx_err r;

    memset(claims, 0, sizeof(*claims));
    if (token == NULL)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "no token");
    if (ring == NULL) {
        if ((r = lbx_keyring_new(&loaded)) != LBX_OK ||
            (r = lbx_keyring_load_path(loaded, cfg->trusted_keys, e)) != LBX_OK)
            goto out;
        ring = loaded;
    }
    o.keys = ring;
    o.iss = cfg->issuer;
    o.aud = cfg->host_id;
    o.sub = login;
    o.now = time(NULL);
    o.leeway = (int)cfg->leeway;
    if ((r = lbx_token_verify(token, strlen(token), &o, claims, e)) != LBX_OK)
        goto out;
    if (lbx_grant_over(claims->exp)) {
        lbx_claims_free(claims);
        r = lbx_error_set(e, LBX_ERR_TOKEN_EXPIRED, "grant ended");
    }
out:
    lbx_keyring_free(loaded);
    return r;
}
