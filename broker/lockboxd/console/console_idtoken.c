/* OpenID Connect ID token verification, with the discipline of policy/token.c: the compact form
 * checked strictly, the algorithm pinned before anything else is believed, and pinned again to
 * the type of the key the provider's JWKS holds under that kid (an RS256 header over an EC key,
 * or an ES256 header over an RSA key, is refused: the key decides the algorithm, never the
 * token). HS* would make the client secret a signing key and none no signature at all: both
 * refused. Every claim that matters is checked here, with its JSON type. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "console.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "token.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BYTES 1024 /* 8192-bit moduli at most */
#define SHOWN_MAX 65

static const char *const header_members[] = {"alg", "kid", "typ", NULL};

enum key_type { KEY_RSA, KEY_EC };

/* The algorithms we accept and the key type each is bound to. */
static int alg_key_type(const char *alg, enum key_type *t)
{
    if (strcmp(alg, "RS256") == 0)
        *t = KEY_RSA;
    else if (strcmp(alg, "ES256") == 0)
        *t = KEY_EC;
    else
        return -1;
    return 0;
}

static const char *jwk_str(const json_t *k, const char *name)
{
    return json_string_value(json_object_get(k, name));
}

/* The JWKS key for kid (or the only signing key when the token names none). */
static lbx_err find_jwk(const json_t *jwks, const char *kid, const json_t **out,
                        struct lbx_error *e)
{
    const json_t *keys = json_object_get(jwks, "keys"), *k, *found = NULL;
    char buf[SHOWN_MAX];
    size_t i, n = 0;

    if (!json_is_array(keys))
        return lbx_error_set(e, LBX_ERR_KEY, "the provider's JWKS has no keys");
    json_array_foreach(keys, i, k)
    {
        const char *use = jwk_str(k, "use"), *id = jwk_str(k, "kid");

        if (use != NULL && strcmp(use, "sig") != 0)
            continue;
        if (kid != NULL && (id == NULL || strcmp(id, kid) != 0))
            continue;
        found = k;
        n++;
    }
    if (n == 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_KID, "kid '%s' not in the provider's JWKS",
                             kid ? lbx_sanitize(buf, sizeof(buf), kid) : "(none)");
    if (n > 1)
        return lbx_error_set(e, LBX_ERR_TOKEN_KID, "kid '%s' is ambiguous in the provider's JWKS",
                             kid ? lbx_sanitize(buf, sizeof(buf), kid) : "(none)");
    *out = found;
    return LBX_OK;
}

/* The header: alg first (nothing else about a token with another alg deserves attention), then
 * the key it names and that key's type, which must be the one alg is bound to. */
static lbx_err check_header(const json_t *h, const json_t *jwks, const json_t **jwk,
                            enum key_type *type, struct lbx_error *e)
{
    struct lbx_error unknown;
    const char *alg, *kid = NULL, *typ, *kty, *kalg;
    char buf[SHOWN_MAX];

    if (lbx_json_get_string(h, "alg", &alg) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg missing or not a string");
    if (alg_key_type(alg, type) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg '%s'", lbx_sanitize(buf, sizeof(buf), alg));
    if (lbx_json_only_keys(h, header_members, &unknown) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_HEADER, "%s", unknown.detail);
    if (json_object_get(h, "typ") != NULL &&
        (lbx_json_get_string(h, "typ", &typ) != LBX_OK || strcmp(typ, "JWT") != 0))
        return lbx_error_set(e, LBX_ERR_TOKEN_HEADER, "typ must be \"JWT\"");
    if (json_object_get(h, "kid") != NULL && lbx_json_get_string(h, "kid", &kid) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_KID, "kid is not a string");
    if (find_jwk(jwks, kid, jwk, e) != LBX_OK)
        return e ? e->code : LBX_ERR_TOKEN_KID;
    kty = jwk_str(*jwk, "kty");
    kalg = jwk_str(*jwk, "alg");
    if (kty == NULL || strcmp(kty, *type == KEY_RSA ? "RSA" : "EC") != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg %s over a key of type %s", alg,
                             kty ? lbx_sanitize(buf, sizeof(buf), kty) : "(none)");
    if (kalg != NULL && strcmp(kalg, alg) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg %s over a key for %s", alg,
                             lbx_sanitize(buf, sizeof(buf), kalg));
    return LBX_OK;
}

/* A JWK member: canonical base64url, 1..max bytes. */
static lbx_err jwk_bytes(const json_t *k, const char *name, size_t max, uint8_t **out, size_t *len,
                         struct lbx_error *e)
{
    const char *v = jwk_str(k, name);

    *out = NULL;
    if (v == NULL || lbx_b64url_decode(v, strlen(v), out, len) != LBX_OK || *len == 0 ||
        *len > max) {
        free(*out);
        *out = NULL;
        return lbx_error_set(e, LBX_ERR_KEY, "JWKS key member %s is missing or malformed", name);
    }
    return LBX_OK;
}

static lbx_err pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out,
                                struct lbx_error *e)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL), *check = NULL;
    lbx_err r = LBX_ERR_KEY;

    *out = NULL;
    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
        (check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) != NULL &&
        EVP_PKEY_public_check(check) == 1)
        r = LBX_OK;
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (r != LBX_OK) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return lbx_error_set(e, r, "the provider's %s key is not usable", type);
    }
    return LBX_OK;
}

static lbx_err rsa_key(const json_t *k, EVP_PKEY **out, struct lbx_error *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = NULL, *ex = NULL;
    uint8_t *nb = NULL, *eb = NULL;
    size_t nlen, elen;
    lbx_err r;

    if ((r = jwk_bytes(k, "n", RSA_MAX_BYTES, &nb, &nlen, e)) != LBX_OK ||
        (r = jwk_bytes(k, "e", 8, &eb, &elen, e)) != LBX_OK)
        goto out;
    n = BN_bin2bn(nb, (int)nlen, NULL);
    ex = BN_bin2bn(eb, (int)elen, NULL);
    if (n == NULL || ex == NULL || bld == NULL || BN_num_bits(n) < RSA_MIN_BITS) {
        r = lbx_error_set(e, LBX_ERR_KEY, "the provider's RSA key is under %d bits", RSA_MIN_BITS);
        goto out;
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex))
        r = lbx_error_set(e, LBX_ERR_NOMEM, "RSA key");
    else
        r = pkey_from_params("RSA", bld, out, e);
out:
    BN_free(n);
    BN_free(ex);
    free(nb);
    free(eb);
    OSSL_PARAM_BLD_free(bld);
    return r;
}

/* P-256 only: the uncompressed point 04 || x || y, checked to be on the curve. */
static lbx_err ec_key(const json_t *k, EVP_PKEY **out, struct lbx_error *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    uint8_t *x = NULL, *y = NULL, point[65];
    const char *crv = jwk_str(k, "crv");
    size_t xlen, ylen;
    lbx_err r;

    if (crv == NULL || strcmp(crv, "P-256") != 0) {
        r = lbx_error_set(e, LBX_ERR_TOKEN_ALG, "ES256 over a key that is not P-256");
        goto out;
    }
    if ((r = jwk_bytes(k, "x", 32, &x, &xlen, e)) != LBX_OK ||
        (r = jwk_bytes(k, "y", 32, &y, &ylen, e)) != LBX_OK)
        goto out;
    if (xlen != 32 || ylen != 32 || bld == NULL) {
        r = lbx_error_set(e, LBX_ERR_KEY, "the provider's P-256 point is malformed");
        goto out;
    }
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
        r = lbx_error_set(e, LBX_ERR_NOMEM, "EC key");
    else
        r = pkey_from_params("EC", bld, out, e);
out:
    free(x);
    free(y);
    OSSL_PARAM_BLD_free(bld);
    return r;
}

static lbx_err verify_rs256(EVP_PKEY *pkey, const void *data, size_t len, const uint8_t *sig,
                            size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    lbx_err r = LBX_ERR_TOKEN_SIGNATURE;

    if (md != NULL && siglen == (size_t)EVP_PKEY_get_size(pkey) &&
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
        EVP_DigestVerify(md, sig, siglen, data, len) == 1)
        r = LBX_OK;
    EVP_MD_CTX_free(md);
    return r;
}

static lbx_err check_signature(const struct lbx_jws *s, const json_t *jwk, enum key_type type,
                               struct lbx_error *e)
{
    EVP_PKEY *pkey = NULL;
    uint8_t *sig = NULL;
    size_t siglen;
    lbx_err r;

    if ((r = type == KEY_RSA ? rsa_key(jwk, &pkey, e) : ec_key(jwk, &pkey, e)) != LBX_OK)
        return r;
    if (lbx_b64url_decode(s->part[2], s->len[2], &sig, &siglen) != LBX_OK)
        r = lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "signature is not canonical base64url");
    else if ((type == KEY_RSA
                  ? verify_rs256(pkey, s->part[0], s->len[0] + 1 + s->len[1], sig, siglen)
                  : lbx_pkey_verify_es256(pkey, s->part[0], s->len[0] + 1 + s->len[1], sig,
                                          siglen)) != LBX_OK)
        r = lbx_error_set(e, LBX_ERR_TOKEN_SIGNATURE, "signature does not verify");
    free(sig);
    EVP_PKEY_free(pkey);
    return r;
}

static lbx_err claim_str(const json_t *p, const char *name, const char **out, struct lbx_error *e)
{
    lbx_err r = lbx_json_get_string(p, name, out);

    if (r != LBX_OK)
        return lbx_error_set(e, r, "%s", name);
    if (**out == '\0')
        return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_TYPE, "%s is empty", name);
    return LBX_OK;
}

static lbx_err claim_time(const json_t *p, const char *name, int required, int64_t *out,
                          struct lbx_error *e)
{
    lbx_err r;

    *out = 0;
    if (!required && json_object_get(p, name) == NULL)
        return LBX_OK;
    if ((r = lbx_json_get_int(p, name, out)) != LBX_OK)
        return lbx_error_set(e, r, "%s", name);
    if (*out <= 0 || *out > INT64_MAX / 4)
        return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_TYPE, "%s out of range", name);
    return LBX_OK;
}

/* aud is the client id, or an array holding it; with other audiences besides, azp must name
 * us (OpenID Connect Core 3.1.3.7). */
static lbx_err check_audience(const json_t *p, const char *client_id, struct lbx_error *e)
{
    const json_t *aud = json_object_get(p, "aud"), *a;
    const char *azp = NULL;
    size_t i;
    int ours = 0;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), client_id) == 0
                   ? LBX_OK
                   : lbx_error_set(e, LBX_ERR_TOKEN_AUDIENCE, "aud is not this console");
    if (!json_is_array(aud) || json_array_size(aud) == 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_AUDIENCE, "aud missing or not a string");
    json_array_foreach(aud, i, a)
    {
        if (!json_is_string(a))
            return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_TYPE, "aud holds a non-string");
        ours |= strcmp(json_string_value(a), client_id) == 0;
    }
    if (!ours)
        return lbx_error_set(e, LBX_ERR_TOKEN_AUDIENCE, "aud is not this console");
    if (json_array_size(aud) > 1 &&
        (lbx_json_get_string(p, "azp", &azp) != LBX_OK || strcmp(azp, client_id) != 0))
        return lbx_error_set(e, LBX_ERR_TOKEN_AUDIENCE, "several audiences and azp is not us");
    return LBX_OK;
}

static lbx_err check_claims(const json_t *p, const struct idtoken_expect *x, struct lbx_error *e)
{
    const char *iss, *sub, *nonce;
    int64_t exp, iat, nbf;
    lbx_err r;

    if ((r = claim_str(p, "iss", &iss, e)) != LBX_OK)
        return r;
    if (strcmp(iss, x->issuer) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ISSUER, "iss is not the configured provider");
    if ((r = check_audience(p, x->client_id, e)) != LBX_OK ||
        (r = claim_str(p, "sub", &sub, e)) != LBX_OK ||
        (r = claim_time(p, "exp", 1, &exp, e)) != LBX_OK ||
        (r = claim_time(p, "iat", 1, &iat, e)) != LBX_OK ||
        (r = claim_time(p, "nbf", 0, &nbf, e)) != LBX_OK)
        return r;
    if (x->now >= exp + x->leeway)
        return lbx_error_set(e, LBX_ERR_TOKEN_EXPIRED, "exp %lld, now %lld", (long long)exp,
                             (long long)x->now);
    if (iat > x->now + x->leeway || (nbf != 0 && nbf > x->now + x->leeway))
        return lbx_error_set(e, LBX_ERR_TOKEN_IAT_FUTURE, "iat %lld, now %lld", (long long)iat,
                             (long long)x->now);
    if (iat < x->now - x->max_age - x->leeway)
        return lbx_error_set(e, LBX_ERR_TOKEN_EXPIRED, "issued %lld s ago",
                             (long long)(x->now - iat));
    /* The nonce ties the token to the sign-in this browser began. */
    if (lbx_json_get_string(p, "nonce", &nonce) != LBX_OK || !console_secret_equal(nonce, x->nonce))
        return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_MISSING, "nonce missing or not ours");
    return LBX_OK;
}

static lbx_err check_expect(const struct idtoken_expect *x, const json_t *jwks, struct lbx_error *e)
{
    if (x == NULL || x->issuer == NULL || x->client_id == NULL || x->nonce == NULL ||
        x->issuer[0] == '\0' || x->client_id[0] == '\0' || x->nonce[0] == '\0')
        return lbx_error_set(e, LBX_ERR_ARG, "issuer, client id and nonce are required");
    if (x->leeway < 0 || x->leeway > LBX_LEEWAY_MAX || x->max_age <= 0 || x->now <= 0)
        return lbx_error_set(e, LBX_ERR_ARG, "bad leeway, maximum age or clock");
    if (!json_is_object(jwks))
        return lbx_error_set(e, LBX_ERR_KEY, "no JWKS");
    return LBX_OK;
}

lbx_err console_idtoken_verify(const char *token, size_t len, const json_t *jwks,
                               const struct idtoken_expect *x, json_t **claims, struct lbx_error *e)
{
    json_t *header = NULL, *payload = NULL;
    const json_t *jwk = NULL;
    enum key_type type = KEY_RSA;
    struct lbx_jws s;
    lbx_err r;

    *claims = NULL;
    if ((r = check_expect(x, jwks, e)) != LBX_OK)
        return r;
    if (token == NULL)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "no token");
    if ((r = lbx_jws_split(token, len, &s, e)) != LBX_OK ||
        (r = lbx_jws_decode_json(s.part[0], s.len[0], LBX_ERR_TOKEN_HEADER, "header", &header,
                                 e)) != LBX_OK ||
        (r = check_header(header, jwks, &jwk, &type, e)) != LBX_OK ||
        (r = check_signature(&s, jwk, type, e)) != LBX_OK ||
        (r = lbx_jws_decode_json(s.part[1], s.len[1], LBX_ERR_TOKEN_JSON, "payload", &payload,
                                 e)) != LBX_OK ||
        (r = check_claims(payload, x, e)) != LBX_OK)
        goto out;
    *claims = payload;
    payload = NULL;
out:
    json_decref(header);
    json_decref(payload);
    return r;
}
