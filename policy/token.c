#include "token.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "buf.h"
#include "json.h"
#include "log.h"

#define TOKEN_JSON_MAX_DEPTH 4

static const char *const header_members[] = {"alg", "typ", "kid", NULL};
static const char *const claim_members[] = {"iss", "sub", "aud",     "jti",        "iat",
                                            "nbf", "exp", "lbx_req", "lbx_ticket", NULL};

/* ---- minting ---- */

/* The members of a token's payload, in their fixed order (json_out.c: no jansson tree per
 * token). Every member or nothing: a string that is not UTF-8 (or a missing one) fails, since
 * a claim silently left out would produce a token that says less than the caller asked for. */
static lbx_err claims_text(const struct lbx_claims *c, struct lbx_buf *b)
{
    struct lbx_json_out o;

    if (c->iss == NULL || c->sub == NULL || c->aud == NULL || c->jti == NULL)
        return LBX_ERR_ARG;
    lbx_json_out_begin(&o, b);
    lbx_json_out_str(&o, "iss", c->iss);
    lbx_json_out_str(&o, "sub", c->sub);
    lbx_json_out_str(&o, "aud", c->aud);
    lbx_json_out_str(&o, "jti", c->jti);
    lbx_json_out_int(&o, "iat", c->iat);
    lbx_json_out_int(&o, "nbf", c->nbf);
    lbx_json_out_int(&o, "exp", c->exp);
    if (c->req != NULL)
        lbx_json_out_str(&o, "lbx_req", c->req);
    if (c->ticket != NULL)
        lbx_json_out_str(&o, "lbx_ticket", c->ticket);
    return lbx_json_out_end(&o);
}

static lbx_err header_text(const struct lbx_key *key, struct lbx_buf *b)
{
    struct lbx_json_out o;

    lbx_json_out_begin(&o, b);
    lbx_json_out_str(&o, "alg", "ES256");
    lbx_json_out_str(&o, "typ", "JWT");
    lbx_json_out_str(&o, "kid", lbx_key_kid(key));
    return lbx_json_out_end(&o);
}

/* header_text or claims_text, base64url-encoded. */
static lbx_err b64_segment(struct lbx_buf *scratch, lbx_err made, char **out)
{
    lbx_err r = made == LBX_OK
                    ? lbx_b64url_encode((const uint8_t *)scratch->data, scratch->len, out)
                    : made;

    lbx_buf_reset(scratch);
    return r;
}

static int empty(const char *s)
{
    return s == NULL || *s == '\0';
}

lbx_err lbx_token_mint(const struct lbx_key *key, const struct lbx_claims *c, char **out,
                       struct lbx_error *e)
{
    uint8_t sig[LBX_ES256_SIG_LEN];
    char *h64 = NULL, *p64 = NULL, *s64 = NULL;
    struct lbx_buf b, scratch;
    lbx_err r;

    *out = NULL;
    lbx_buf_init(&b, LBX_TOKEN_MAX_LEN);
    lbx_buf_init(&scratch, LBX_TOKEN_MAX_LEN);
    if (!lbx_key_is_private(key))
        return lbx_error_set(e, LBX_ERR_KEY, "minting needs a private key");
    if (empty(c->iss) || empty(c->sub) || empty(c->aud) || empty(c->jti))
        return lbx_error_set(e, LBX_ERR_ARG, "iss, sub, aud and jti must be non-empty");
    if (c->exp <= c->iat || c->nbf > c->exp)
        return lbx_error_set(e, LBX_ERR_ARG, "exp must follow iat and nbf");
    if (c->exp - c->iat > LBX_GRANT_MAX_LIFETIME)
        return lbx_error_set(e, LBX_ERR_LIFETIME_CAP, "exp - iat = %lld s",
                             (long long)(c->exp - c->iat));
    if ((r = b64_segment(&scratch, header_text(key, &scratch), &h64)) != LBX_OK ||
        (r = b64_segment(&scratch, claims_text(c, &scratch), &p64)) != LBX_OK) {
        r = lbx_error_set(e, r, "claims are not valid UTF-8 strings");
        goto out;
    }
    if ((r = lbx_buf_printf(&b, "%s.%s", h64, p64)) != LBX_OK ||
        (r = lbx_key_sign_es256(key, b.data, b.len, sig)) != LBX_OK ||
        (r = lbx_b64url_encode(sig, sizeof(sig), &s64)) != LBX_OK ||
        (r = lbx_buf_printf(&b, ".%s", s64)) != LBX_OK) {
        lbx_error_set(e, r, "signing token");
        goto out;
    }
    *out = lbx_buf_steal(&b);
out:
    lbx_buf_free(&b);
    lbx_buf_free(&scratch);
    free(h64);
    free(p64);
    free(s64);
    return r;
}

/* ---- verification ---- */

/* Token text quoted in an error detail is the attacker's: bounded, control characters and
 * invalid UTF-8 replaced, since the detail reaches syslog and the engineer's terminal. */
#define SHOWN_MAX 65
static const char *shown(char buf[SHOWN_MAX], const char *s)
{
    return lbx_sanitize(buf, SHOWN_MAX, s);
}

/* Exactly three non-empty segments of the base64url alphabet, nothing else. */
lbx_err lbx_jws_split(const char *t, size_t len, struct lbx_jws *s, struct lbx_error *e)
{
    size_t i, n = 0, start = 0;

    if (len > LBX_TOKEN_MAX_LEN)
        return lbx_error_set(e, LBX_ERR_TOKEN_TOO_LONG, "%zu bytes, limit %d", len,
                             LBX_TOKEN_MAX_LEN);
    for (i = 0; i <= len; i++) {
        if (i < len && lbx_b64url_is_alphabet((unsigned char)t[i]))
            continue;
        if (i < len && t[i] != '.')
            return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "character 0x%02x at offset %zu",
                                 (unsigned char)t[i], i);
        if (n == 3)
            return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "more than three segments");
        if (i == start)
            return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "empty segment");
        s->part[n] = t + start;
        s->len[n] = i - start;
        n++;
        start = i + 1;
    }
    if (n != 3)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "%zu segments, expected three", n);
    return LBX_OK;
}

lbx_err lbx_jws_decode_json(const char *seg, size_t len, lbx_err code, const char *what,
                            json_t **out, struct lbx_error *e)
{
    struct lbx_error je;
    uint8_t *raw;
    size_t rawlen;
    lbx_err r;

    *out = NULL;
    if (lbx_b64url_decode(seg, len, &raw, &rawlen) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "%s is not canonical base64url", what);
    r = lbx_json_parse_object((const char *)raw, rawlen, LBX_TOKEN_MAX_LEN, TOKEN_JSON_MAX_DEPTH,
                              out, &je);
    free(raw);
    if (r != LBX_OK)
        return lbx_error_set(e, code, "%s: %s", what, je.detail);
    return LBX_OK;
}

static lbx_err check_header(const json_t *h, const struct lbx_keyring *keys,
                            const struct lbx_key **key, struct lbx_error *e)
{
    struct lbx_error unknown;
    const char *alg, *typ, *kid;
    char buf[SHOWN_MAX];

    /* The algorithm first: nothing else about a non-ES256 token deserves attention. */
    if (lbx_json_get_string(h, "alg", &alg) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg missing or not a string");
    if (strcmp(alg, "ES256") != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ALG, "alg '%s'", shown(buf, alg));
    if (lbx_json_only_keys(h, header_members, &unknown) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_HEADER, "%s", unknown.detail);
    if (lbx_json_get_string(h, "typ", &typ) != LBX_OK || strcmp(typ, "JWT") != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_HEADER, "typ must be \"JWT\"");
    if (lbx_json_get_string(h, "kid", &kid) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_KID, "kid missing or not a string");
    if ((*key = lbx_keyring_find(keys, kid)) == NULL)
        return lbx_error_set(e, LBX_ERR_TOKEN_KID, "kid '%s' not trusted", shown(buf, kid));
    return LBX_OK;
}

static lbx_err check_signature(const struct lbx_jws *s, const struct lbx_key *key,
                               struct lbx_error *e)
{
    uint8_t *sig;
    size_t siglen;
    lbx_err r;

    if (lbx_b64url_decode(s->part[2], s->len[2], &sig, &siglen) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "signature is not canonical base64url");
    /* The signed input is the first two segments and the dot between them, as sent. */
    r = lbx_key_verify_es256(key, s->part[0], s->len[0] + 1 + s->len[1], sig, siglen);
    free(sig);
    if (r != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOKEN_SIGNATURE, "%s",
                             siglen != LBX_ES256_SIG_LEN ? "signature is not 64 bytes of r||s"
                                                         : "signature does not verify");
    return LBX_OK;
}

static lbx_err claim_string(const json_t *p, const char *name, int required, char **out,
                            struct lbx_error *e)
{
    const char *v;
    lbx_err r = lbx_json_get_string(p, name, &v);

    *out = NULL;
    if (r == LBX_ERR_TOKEN_CLAIM_MISSING && !required)
        return LBX_OK;
    if (r != LBX_OK)
        return lbx_error_set(e, r, "%s", name);
    if (*v == '\0')
        return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_TYPE, "%s is empty", name);
    if ((*out = strdup(v)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "%s", name);
    return LBX_OK;
}

static lbx_err claim_int(const json_t *p, const char *name, int64_t *out, struct lbx_error *e)
{
    lbx_err r = lbx_json_get_int(p, name, out);

    return r == LBX_OK ? LBX_OK : lbx_error_set(e, r, "%s", name);
}

static lbx_err read_claims(const json_t *p, struct lbx_claims *c, struct lbx_error *e)
{
    lbx_err r;

    if ((r = lbx_json_only_keys(p, claim_members, e)) != LBX_OK)
        return r;
    if ((r = claim_string(p, "iss", 1, &c->iss, e)) != LBX_OK ||
        (r = claim_string(p, "sub", 1, &c->sub, e)) != LBX_OK ||
        (r = claim_string(p, "aud", 1, &c->aud, e)) != LBX_OK ||
        (r = claim_string(p, "jti", 1, &c->jti, e)) != LBX_OK ||
        (r = claim_string(p, "lbx_req", 0, &c->req, e)) != LBX_OK ||
        (r = claim_string(p, "lbx_ticket", 0, &c->ticket, e)) != LBX_OK ||
        (r = claim_int(p, "iat", &c->iat, e)) != LBX_OK ||
        (r = claim_int(p, "nbf", &c->nbf, e)) != LBX_OK ||
        (r = claim_int(p, "exp", &c->exp, e)) != LBX_OK)
        return r;
    return LBX_OK;
}

static lbx_err check_claims(const struct lbx_claims *c, const struct lbx_verify_opts *o,
                            struct lbx_error *e)
{
    int64_t leeway = o->leeway < 0 ? LBX_LEEWAY_DEFAULT : o->leeway;
    char buf[SHOWN_MAX];

    if (strcmp(c->iss, o->iss) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_ISSUER, "iss '%s'", shown(buf, c->iss));
    if (strcmp(c->aud, o->aud) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_AUDIENCE, "aud '%s'", shown(buf, c->aud));
    if (strcmp(c->sub, o->sub) != 0)
        return lbx_error_set(e, LBX_ERR_TOKEN_SUBJECT, "sub '%s'", shown(buf, c->sub));
    /* Guard the subtraction: exp and iat are attacker-chosen 64-bit integers. */
    if (c->exp < c->iat || (c->iat < 0 && c->exp > INT64_MAX + c->iat) ||
        c->exp - c->iat > LBX_GRANT_MAX_LIFETIME)
        return lbx_error_set(e, LBX_ERR_TOKEN_LIFETIME, "exp %lld, iat %lld", (long long)c->exp,
                             (long long)c->iat);
    if (c->nbf > o->now + leeway)
        return lbx_error_set(e, LBX_ERR_TOKEN_NOT_YET_VALID, "nbf %lld, now %lld",
                             (long long)c->nbf, (long long)o->now);
    if (c->iat > o->now + leeway)
        return lbx_error_set(e, LBX_ERR_TOKEN_IAT_FUTURE, "iat %lld, now %lld", (long long)c->iat,
                             (long long)o->now);
    if (o->now >= c->exp + leeway)
        return lbx_error_set(e, LBX_ERR_TOKEN_EXPIRED, "exp %lld, now %lld", (long long)c->exp,
                             (long long)o->now);
    return LBX_OK;
}

static lbx_err check_options(const struct lbx_verify_opts *o, struct lbx_error *e)
{
    if (o == NULL || o->keys == NULL || lbx_keyring_count(o->keys) == 0)
        return lbx_error_set(e, LBX_ERR_KEY, "no trusted keys");
    if (empty(o->iss) || empty(o->aud) || empty(o->sub))
        return lbx_error_set(e, LBX_ERR_ARG, "issuer, audience and subject are required");
    if (o->leeway > LBX_LEEWAY_MAX)
        return lbx_error_set(e, LBX_ERR_ARG, "leeway over %d s", LBX_LEEWAY_MAX);
    if (o->now <= 0 || o->now > INT64_MAX / 2)
        return lbx_error_set(e, LBX_ERR_ARG, "bad clock");
    return LBX_OK;
}

lbx_err lbx_token_verify(const char *token, size_t len, const struct lbx_verify_opts *opts,
                         struct lbx_claims *claims, struct lbx_error *e)
{
    struct lbx_claims c = {0};
    const struct lbx_key *key = NULL;
    json_t *header = NULL, *payload = NULL;
    struct lbx_jws s;
    lbx_err r;

    memset(claims, 0, sizeof(*claims));
    if ((r = check_options(opts, e)) != LBX_OK)
        return r;
    if (token == NULL)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "no token");
    if ((r = lbx_jws_split(token, len, &s, e)) != LBX_OK)
        goto out;
    if ((r = lbx_jws_decode_json(s.part[0], s.len[0], LBX_ERR_TOKEN_HEADER, "header", &header,
                                 e)) != LBX_OK ||
        (r = check_header(header, opts->keys, &key, e)) != LBX_OK ||
        (r = check_signature(&s, key, e)) != LBX_OK ||
        (r = lbx_jws_decode_json(s.part[1], s.len[1], LBX_ERR_TOKEN_JSON, "payload", &payload,
                                 e)) != LBX_OK ||
        (r = read_claims(payload, &c, e)) != LBX_OK || (r = check_claims(&c, opts, e)) != LBX_OK)
        goto out;
    *claims = c;
    memset(&c, 0, sizeof(c));
out:
    lbx_claims_free(&c);
    json_decref(header);
    json_decref(payload);
    return r;
}

void lbx_claims_free(struct lbx_claims *c)
{
    free(c->iss);
    free(c->sub);
    free(c->aud);
    free(c->jti);
    free(c->req);
    free(c->ticket);
    memset(c, 0, sizeof(*c));
}

char *lbx_claims_to_json(const struct lbx_claims *c)
{
    struct lbx_buf b;
    char *text;

    lbx_buf_init(&b, LBX_TOKEN_MAX_LEN);
    text = claims_text(c, &b) == LBX_OK ? lbx_buf_steal(&b) : NULL;
    lbx_buf_free(&b);
    return text;
}
