/* lbx_token_verify under libFuzzer. The first byte picks the mode:
 *   even: the rest is the token, as received from the network;
 *   odd:  the rest is "HEADER\nPAYLOAD", which is signed with the trusted key first, so the
 *         fuzzer reaches the header, claim and time checks behind the signature.
 * Whatever it finds, an accepted token must satisfy every rule (abort otherwise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "token_forge.h"

#define NOW 1700000060

static struct lbx_key *key;
static struct lbx_keyring *ring;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (lbx_key_generate(&key) != LBX_OK)
        abort();
    ring = forge_public_ring(key, NULL);
    return 0;
}

static void check_accepted(const struct lbx_claims *c)
{
    if (strcmp(c->iss, "lbx") != 0 || strcmp(c->aud, "node-7") != 0 ||
        strcmp(c->sub, "support-alice") != 0 || c->jti[0] == '\0' ||
        c->exp - c->iat > LBX_GRANT_MAX_LIFETIME || c->exp < c->iat ||
        c->nbf > NOW + LBX_LEEWAY_DEFAULT || c->iat > NOW + LBX_LEEWAY_DEFAULT ||
        NOW >= c->exp + LBX_LEEWAY_DEFAULT)
        abort();
}

static void verify(const char *token, size_t len)
{
    struct lbx_verify_opts o = {.keys = ring,
                                .iss = "lbx",
                                .aud = "node-7",
                                .sub = "support-alice",
                                .now = NOW,
                                .leeway = -1};
    struct lbx_claims c;
    struct lbx_error e;
    lbx_err r = lbx_token_verify(token, len, &o, &c, &e);

    if (r == LBX_OK)
        check_accepted(&c);
    else if (c.iss != NULL || e.code != r)
        abort();
    lbx_claims_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *nl, *token;

    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0) {
        verify((const char *)data + 1, size - 1);
        return 0;
    }
    if ((text = strndup((const char *)data + 1, size - 1)) == NULL)
        return 0;
    if ((nl = strchr(text, '\n')) != NULL) {
        *nl = '\0';
        token = forge_token(key, text, nl + 1);
        verify(token, strlen(token));
        free(token);
    }
    free(text);
    return 0;
}
