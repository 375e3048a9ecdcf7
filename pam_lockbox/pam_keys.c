/* The trusted keys the module verifies tokens with, read once per process: sshd's monitor runs
 * both the account and the session phase of a login, and each would otherwise read and decode
 * the key files again on the login's path. Kept as PAM data, so each connection's monitor has
 * its own and libpam frees them with the handle; a phase configured with another trusted_keys
 * path reads that one instead. */
#include <stdlib.h>
#include <string.h>

#include "pam_internal.h"

#define PAM_DATA_KEYS "lockbox_trusted_keys"

struct kept_keys {
    char *path;
    struct lbx_keyring *ring;
};

static void free_kept(pam_handle_t *pamh, void *data, int status)
{
    struct kept_keys *k = data;

    lbx_keyring_free(k->ring);
    free(k->path);
    free(k);
}

static lbx_err load_keys(struct lbx_pam *p, const struct lbx_keyring **out, struct lbx_error *e)
{
    struct kept_keys *k = calloc(1, sizeof(*k));
    lbx_err r;

    if (k == NULL || (k->path = strdup(p->cfg.trusted_keys)) == NULL ||
        lbx_keyring_new(&k->ring) != LBX_OK) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "trusted keys");
    } else if ((r = lbx_keyring_load_path(k->ring, k->path, e)) == LBX_OK &&
               pam_set_data(p->pamh, PAM_DATA_KEYS, k, free_kept) != PAM_SUCCESS) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "pam_set_data");
    }
    if (r != LBX_OK) {
        if (k != NULL)
            free_kept(p->pamh, k, 0);
        return r;
    }
    *out = k->ring;
    return LBX_OK;
}

lbx_err lbx_pam_grant_check(struct lbx_pam *p, const char *token, struct lbx_claims *claims,
                            struct lbx_error *e)
{
    const struct kept_keys *kept = NULL;
    const struct lbx_keyring *ring = NULL;
    lbx_err r;

    memset(claims, 0, sizeof(*claims));
    if (pam_get_data(p->pamh, PAM_DATA_KEYS, (const void **)&kept) == PAM_SUCCESS && kept != NULL &&
        strcmp(kept->path, p->cfg.trusted_keys) == 0)
        ring = kept->ring;
    else if ((r = load_keys(p, &ring, e)) != LBX_OK)
        return r;
    return lbx_grant_check(&p->cfg, ring, token, p->user, claims, e);
}
