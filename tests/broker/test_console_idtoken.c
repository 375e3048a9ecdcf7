/* The console's ID token verifier against tokens signed here with real RSA and P-256 keys (a
 * JWKS the test controls), and the session table's cookie, CSRF and timeout logic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "console.h"
#include "keys.h"

#define NOW 1800000000
#define ISS "https://idp.example.test/api/oidc"
#define CLIENT "lockbox-console"
#define NONCE "n0nce-of-this-sign-in-aaaaaaaaaaaaaaaaaaaaaa"

static EVP_PKEY *rsa, *ec;
static json_t *jwks;

static char *b64(const void *p, size_t n)
{
    char *s = NULL;

    assert_int_equal(lbx_b64url_encode(p, n, &s), LBX_OK);
    return s;
}

static char *bn_b64(EVP_PKEY *k, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[512];
    int n;

    assert_true(EVP_PKEY_get_bn_param(k, name, &bn));
    n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64(buf, (size_t)n);
}

static json_t *make_jwks(void)
{
    char *n = bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, 0);
    char *x = bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_X, 32),
         *y = bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    json_t *j = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys",
                          "kty", "RSA", "kid", "rsa-1", "use", "sig", "n", n, "e", e, "kty", "EC",
                          "kid", "ec-1", "use", "sig", "crv", "P-256", "x", x, "y", y);

    free(n);
    free(e);
    free(x);
    free(y);
    return j;
}

static int setup(void **state)
{
    rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    jwks = make_jwks();
    return rsa && ec && jwks ? 0 : -1;
}

static int teardown(void **state)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    json_decref(jwks);
    return 0;
}

/* header.payload signed by key as alg (RS256, ES256, HS256 with secret, none). */
static char *sign(const char *alg, const char *header, json_t *claims, EVP_PKEY *key,
                  const char *hmac_secret)
{
    char *c = json_dumps(claims, JSON_COMPACT), *h64 = b64(header, strlen(header)),
         *p64 = b64(c, strlen(c)), *out, *s64 = NULL, *input;
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);

    assert_true(asprintf(&input, "%s.%s", h64, p64) > 0);
    if (strcmp(alg, "RS256") == 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, strlen(input)),
                         1);
        EVP_MD_CTX_free(md);
    } else if (strcmp(alg, "ES256") == 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[128];
        size_t dlen = sizeof(der);
        const unsigned char *p = der;
        ECDSA_SIG *es;
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(md, der, &dlen, (unsigned char *)input, strlen(input)), 1);
        es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
        siglen = 64;
        ECDSA_SIG_free(es);
        EVP_MD_CTX_free(md);
    } else if (strcmp(alg, "HS256") == 0) {
        unsigned int l = 0;
        HMAC(EVP_sha256(), hmac_secret, (int)strlen(hmac_secret), (unsigned char *)input,
             strlen(input), sig, &l);
        siglen = l;
    } else {
        siglen = 0;
    }
    s64 = siglen ? b64(sig, siglen) : strdup("AA");
    assert_true(asprintf(&out, "%s.%s", input, s64) > 0);
    free(c);
    free(h64);
    free(p64);
    free(s64);
    free(input);
    json_decref(claims);
    return out;
}

static json_t *claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", ISS, "sub", "carol-sub", "aud",
                     CLIENT, "exp", (json_int_t)NOW + 300, "iat", (json_int_t)NOW - 5, "nonce",
                     NONCE, "email", "carol@example.test");
}

static lbx_err verify(const char *tok)
{
    struct idtoken_expect x = {.issuer = ISS,
                               .client_id = CLIENT,
                               .nonce = NONCE,
                               .now = NOW,
                               .leeway = 30,
                               .max_age = 600};
    struct lbx_error e = {0};
    json_t *out = NULL;
    lbx_err r = console_idtoken_verify(tok, strlen(tok), jwks, &x, &out, &e);

    if (r == LBX_OK)
        assert_string_equal(json_string_value(json_object_get(out, "email")), "carol@example.test");
    else
        assert_null(out);
    json_decref(out);
    return r;
}

#define RS_HDR "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JWT\"}"
#define ES_HDR "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}"

static void check(const char *alg, const char *hdr, json_t *c, EVP_PKEY *k, lbx_err want)
{
    char *t = sign(alg, hdr, c, k, NULL);

    assert_int_equal(verify(t), want);
    free(t);
}

static void test_good_tokens(void **state)
{
    check("RS256", RS_HDR, claims(), rsa, LBX_OK);
    check("ES256", ES_HDR, claims(), ec, LBX_OK);
}

static void test_forged_signature(void **state)
{
    EVP_PKEY *other = EVP_RSA_gen(2048);
    char *t;

    check("RS256", RS_HDR, claims(), other, LBX_ERR_TOKEN_SIGNATURE);
    EVP_PKEY_free(other);
    /* One claim changed after signing. */
    t = sign("RS256", RS_HDR, claims(), rsa, NULL);
    t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
    assert_int_not_equal(verify(t), LBX_OK);
    free(t);
}

static void test_alg_confusion(void **state)
{
    char *pem = NULL, *t;
    BIO *bio = BIO_new(BIO_s_mem());
    long n;

    /* HS256 keyed with the provider's public key (the libjwt 1.x trap), and alg none. */
    PEM_write_bio_PUBKEY(bio, rsa);
    n = BIO_get_mem_data(bio, &pem);
    pem = strndup(pem, (size_t)n);
    t = sign("HS256", "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", claims(), NULL, pem);
    assert_int_equal(verify(t), LBX_ERR_TOKEN_ALG);
    free(t);
    t = sign("none", "{\"alg\":\"none\",\"kid\":\"rsa-1\"}", claims(), NULL, NULL);
    assert_int_equal(verify(t), LBX_ERR_TOKEN_ALG);
    free(t);
    /* The key decides the algorithm: ES256 over the RSA kid, RS256 over the EC kid. */
    check("ES256", "{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", claims(), ec, LBX_ERR_TOKEN_ALG);
    check("RS256", "{\"alg\":\"RS256\",\"kid\":\"ec-1\"}", claims(), rsa, LBX_ERR_TOKEN_ALG);
    check("RS256", "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", claims(), rsa, LBX_ERR_TOKEN_ALG);
    /* Key injection through the header. */
    check("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":\"https://evil\"}", claims(), rsa,
          LBX_ERR_TOKEN_HEADER);
    check("RS256", "{\"alg\":\"RS256\",\"kid\":\"nope\"}", claims(), rsa, LBX_ERR_TOKEN_KID);
    free(pem);
    BIO_free(bio);
}

static void test_claims(void **state)
{
    json_t *c;

    c = claims();
    json_object_set_new(c, "exp", json_integer(NOW - 100));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_EXPIRED);
    c = claims();
    json_object_set_new(c, "aud", json_string("another-client"));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_AUDIENCE);
    c = claims();
    json_object_set_new(c, "aud", json_pack("[s, s]", CLIENT, "other"));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_AUDIENCE); /* several, no azp */
    c = claims();
    json_object_set_new(c, "aud", json_pack("[s, s]", CLIENT, "other"));
    json_object_set_new(c, "azp", json_string(CLIENT));
    check("RS256", RS_HDR, c, rsa, LBX_OK);
    c = claims();
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_ISSUER);
    c = claims();
    json_object_set_new(c, "nonce", json_string("another-sign-in"));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_CLAIM_MISSING);
    c = claims();
    json_object_del(c, "nonce");
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_CLAIM_MISSING);
    c = claims();
    json_object_set_new(c, "iat", json_integer(NOW - 7200)); /* replayed old token */
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_EXPIRED);
    c = claims();
    json_object_set_new(c, "exp", json_string("soon"));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_CLAIM_TYPE);
    c = claims();
    json_object_set_new(c, "sub", json_string(""));
    check("RS256", RS_HDR, c, rsa, LBX_ERR_TOKEN_CLAIM_TYPE);
}

static void test_malformed(void **state)
{
    char *t = sign("RS256", RS_HDR, claims(), rsa, NULL), *big;

    assert_int_equal(verify("a.b"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(verify("a.b.c.d"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(verify(".."), LBX_ERR_TOKEN_MALFORMED);
    big = malloc(8192);
    memset(big, 'A', 8191);
    big[8191] = '\0';
    assert_int_equal(verify(big), LBX_ERR_TOKEN_TOO_LONG);
    free(big);
    /* Padding and whitespace are not the compact form. */
    assert_true(asprintf(&big, "%s==", t) > 0);
    assert_int_equal(verify(big), LBX_ERR_TOKEN_MALFORMED);
    free(big);
    assert_true(asprintf(&big, " %s", t) > 0);
    assert_int_equal(verify(big), LBX_ERR_TOKEN_MALFORMED);
    free(big);
    free(t);
}

/* ---- sessions, cookies, CSRF ---- */

static void test_cookie_parsing(void **state)
{
    char v[CONSOLE_SECRET_LEN + 1];
    const char *good = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

    assert_int_equal(strlen(good), CONSOLE_SECRET_LEN);
    char h[256];
    snprintf(h, sizeof(h), "a=1; __Host-lbx_session=%s; b=2", good);
    assert_int_equal(console_cookie_value(h, "__Host-lbx_session", v), 0);
    assert_string_equal(v, good);
    snprintf(h, sizeof(h), "__Host-lbx_session=%s; __Host-lbx_session=%s", good, good);
    assert_int_equal(console_cookie_value(h, "__Host-lbx_session", v), -1); /* planted second */
    assert_int_equal(console_cookie_value("__Host-lbx_session=short", "__Host-lbx_session", v), -1);
    snprintf(h, sizeof(h), "__Host-lbx_session=%.42s!", good);
    assert_int_equal(console_cookie_value(h, "__Host-lbx_session", v), -1);
    snprintf(h, sizeof(h), "x__Host-lbx_session=%s", good);
    assert_int_equal(console_cookie_value(h, "__Host-lbx_session", v), -1);
    assert_int_equal(console_cookie_value("", "__Host-lbx_session", v), -1);
}

static void test_sessions_and_csrf(void **state)
{
    struct console_table *t = NULL;
    struct console_session s, found;
    char sid[CONSOLE_SECRET_LEN + 1];

    assert_int_equal(console_table_new(&t, NULL), LBX_OK);
    assert_int_equal(console_session_open(t, "carol", 1000, sid, &s), LBX_OK);
    assert_int_equal(console_session_find(t, sid, 1010, 60, 3600, &found), 0);
    assert_string_equal(found.identity, "carol");
    /* CSRF: token and Origin both needed. */
    assert_null(console_csrf_refusal(&found, found.csrf, "https://c.example", "https://c.example"));
    assert_non_null(console_csrf_refusal(&found, NULL, "https://c.example", "https://c.example"));
    assert_non_null(console_csrf_refusal(&found, "x", "https://c.example", "https://c.example"));
    assert_non_null(console_csrf_refusal(&found, found.csrf, NULL, "https://c.example"));
    assert_non_null(console_csrf_refusal(&found, found.csrf, "https://evil", "https://c.example"));
    assert_non_null(console_csrf_refusal(&found, "", "https://c.example", "https://c.example"));
    /* Idle: last use at 1010, 61 s later it is over, and stays over. */
    assert_int_equal(console_session_find(t, sid, 1071, 60, 3600, &found), -1);
    assert_int_equal(console_session_find(t, sid, 1072, 600, 3600, &found), -1);
    /* Absolute lifetime, even when used all the time. */
    assert_int_equal(console_session_open(t, "dave", 1000, sid, &s), LBX_OK);
    for (int now = 1030; now < 1000 + 3600; now += 30)
        assert_int_equal(console_session_find(t, sid, now, 60, 3600, &found), 0);
    assert_int_equal(console_session_find(t, sid, 1000 + 3601, 60, 3600, &found), -1);
    /* Sign-out. */
    assert_int_equal(console_session_open(t, "erin", 5000, sid, &s), LBX_OK);
    assert_int_equal(console_session_close(t, sid), 0);
    assert_int_equal(console_session_find(t, sid, 5001, 60, 3600, &found), -1);
    assert_int_equal(console_session_find(t, "nope", 5001, 60, 3600, &found), -1);
    console_table_free(t);
}

static void test_login_state_once(void **state)
{
    struct console_table *t = NULL;
    struct console_login l, got;
    char ch[CONSOLE_SECRET_LEN + 1];

    assert_int_equal(console_table_new(&t, NULL), LBX_OK);
    assert_int_equal(console_login_begin(t, 100, &l), LBX_OK);
    assert_int_equal(console_login_take(t, l.state, 101, &got), 0);
    assert_string_equal(got.nonce, l.nonce);
    assert_int_equal(console_login_take(t, l.state, 102, &got), -1); /* used */
    assert_int_equal(console_login_begin(t, 100, &l), LBX_OK);
    assert_int_equal(console_login_take(t, l.state, 100 + CONSOLE_LOGIN_TTL + 1, &got), -1);
    /* RFC 7636 appendix B. */
    console_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
    assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    console_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_tokens),       cmocka_unit_test(test_forged_signature),
        cmocka_unit_test(test_alg_confusion),     cmocka_unit_test(test_claims),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_cookie_parsing),
        cmocka_unit_test(test_sessions_and_csrf), cmocka_unit_test(test_login_state_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
