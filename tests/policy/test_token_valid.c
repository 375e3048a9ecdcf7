/* Grant tokens that must verify (time-window boundaries, round trips, interop with libjwt, key
 * rotation), the verifier's option checks, and mint refusals. Hostile tokens: test_token.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>

#include "buf.h"
#include "token.h"
#include "token_forge.h"

#define T0 1700000000LL
#define HOUR 3600

static struct {
    struct lbx_key *key;
    struct lbx_keyring *ring;
    char *priv_pem, *pub_pem;
} fx;

static struct lbx_verify_opts opts(int64_t now, int leeway)
{
    return (struct lbx_verify_opts){.keys = fx.ring,
                                    .iss = "lbx",
                                    .aud = "node-7",
                                    .sub = "support-alice",
                                    .now = now,
                                    .leeway = leeway};
}

static struct lbx_claims claims(int64_t iat, int64_t nbf, int64_t exp)
{
    return (struct lbx_claims){.iss = "lbx",
                               .sub = "support-alice",
                               .aud = "node-7",
                               .jti = "g-1",
                               .iat = iat,
                               .nbf = nbf,
                               .exp = exp};
}

static char *mint(const struct lbx_claims *c)
{
    char *tok = NULL;
    struct lbx_error e = {0};

    if (lbx_token_mint(fx.key, c, &tok, &e) != LBX_OK)
        fail_msg("mint: %s", e.detail);
    return tok;
}

/* Verifies tok at now/leeway and returns the code (claims freed). */
static lbx_err verify_at(const char *tok, int64_t now, int leeway)
{
    struct lbx_verify_opts o = opts(now, leeway);
    struct lbx_claims c;
    struct lbx_error e = {0};
    lbx_err r = lbx_token_verify(tok, strlen(tok), &o, &c, &e);

    if (r != LBX_OK)
        print_message("# verify at %lld: %s: %s\n", (long long)now, lbx_strerror(r), e.detail);
    lbx_claims_free(&c);
    return r;
}

static void test_lifetime_exactly_8h(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + LBX_GRANT_MAX_LIFETIME);
    char *tok = mint(&c);

    assert_int_equal(verify_at(tok, T0 + 1, -1), LBX_OK);
    assert_int_equal(verify_at(tok, T0 + LBX_GRANT_MAX_LIFETIME - 1, -1), LBX_OK);
    lbx_free_secret(tok);
}

static void test_expiry_boundary(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + HOUR);
    char *tok = mint(&c);

    assert_int_equal(verify_at(tok, T0 + HOUR + 30 - 1, -1), LBX_OK); /* exp + leeway - 1 */
    assert_int_equal(verify_at(tok, T0 + HOUR + 30, -1), LBX_ERR_TOKEN_EXPIRED);
    assert_int_equal(verify_at(tok, T0 + HOUR - 1, 0), LBX_OK); /* no leeway: exp is exclusive */
    assert_int_equal(verify_at(tok, T0 + HOUR, 0), LBX_ERR_TOKEN_EXPIRED);
    assert_int_equal(verify_at(tok, T0 + HOUR + 119, LBX_LEEWAY_MAX), LBX_OK);
    assert_int_equal(verify_at(tok, T0 + HOUR + 120, LBX_LEEWAY_MAX), LBX_ERR_TOKEN_EXPIRED);
    lbx_free_secret(tok);
}

static void test_not_before_boundary(void **state)
{
    struct lbx_claims c = claims(T0, T0 + 600, T0 + HOUR);
    char *tok = mint(&c);

    assert_int_equal(verify_at(tok, T0 + 600 - 30, -1), LBX_OK); /* nbf = now + leeway */
    assert_int_equal(verify_at(tok, T0 + 600 - 31, -1), LBX_ERR_TOKEN_NOT_YET_VALID);
    assert_int_equal(verify_at(tok, T0 + 600, 0), LBX_OK);
    assert_int_equal(verify_at(tok, T0 + 599, 0), LBX_ERR_TOKEN_NOT_YET_VALID);
    lbx_free_secret(tok);
}

static void test_iat_boundary(void **state)
{
    struct lbx_claims c = claims(T0 + 30, T0, T0 + HOUR);
    char *tok = mint(&c);

    assert_int_equal(verify_at(tok, T0, -1), LBX_OK); /* iat = now + leeway: a clock skew */
    assert_int_equal(verify_at(tok, T0 - 1, -1), LBX_ERR_TOKEN_IAT_FUTURE);
    lbx_free_secret(tok);
}

static void assert_round_trip(const struct lbx_claims *in)
{
    struct lbx_verify_opts o = opts(in->iat + 5, -1);
    struct lbx_claims out;
    struct lbx_error e = {0};
    char *tok = mint(in), *json;

    assert_int_equal(lbx_token_verify(tok, strlen(tok), &o, &out, &e), LBX_OK);
    assert_string_equal(out.iss, in->iss);
    assert_string_equal(out.sub, in->sub);
    assert_string_equal(out.aud, in->aud);
    assert_string_equal(out.jti, in->jti);
    assert_int_equal(out.iat, in->iat);
    assert_int_equal(out.nbf, in->nbf);
    assert_int_equal(out.exp, in->exp);
    if (in->req != NULL)
        assert_string_equal(out.req, in->req);
    else
        assert_null(out.req);
    if (in->ticket != NULL)
        assert_string_equal(out.ticket, in->ticket);
    else
        assert_null(out.ticket);
    json = lbx_claims_to_json(&out);
    assert_non_null(strstr(json, "\"sub\":\"support-alice\""));
    assert_int_equal(strstr(json, "lbx_req") != NULL, in->req != NULL);
    free(json);
    lbx_claims_free(&out);
    lbx_free_secret(tok);
}

static void test_round_trip_optional_claims(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + 4 * HOUR);

    assert_round_trip(&c);
    c.req = "LBX-42";
    c.ticket = "INC-123 \"quoted\" \xc3\xa9";
    assert_round_trip(&c);
    c.req = NULL;
    assert_round_trip(&c);
}

/* The longest token the verifier takes is exactly LBX_TOKEN_MAX_LEN bytes. */
static void test_longest_token(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + HOUR);
    char ticket[LBX_TOKEN_MAX_LEN], *tok = NULL, *best = NULL;
    size_t n;

    for (n = 2500; n < sizeof(ticket) - 1; n++) {
        memset(ticket, 'x', n);
        ticket[n] = '\0';
        c.ticket = ticket;
        if (lbx_token_mint(fx.key, &c, &tok, NULL) != LBX_OK)
            break;
        free(best);
        best = tok;
    }
    assert_int_equal(lbx_token_mint(fx.key, &c, &tok, NULL), LBX_ERR_TOO_LARGE);
    assert_non_null(best);
    assert_in_range(strlen(best), LBX_TOKEN_MAX_LEN - 3, LBX_TOKEN_MAX_LEN);
    assert_int_equal(verify_at(best, T0 + 1, -1), LBX_OK);
    free(best);
}

/* libjwt, given our key and the right header, makes a token we accept: we speak standard JWS. */
static void test_interop_libjwt_mints(void **state)
{
    char *tok = forge_libjwt(JWT_ALG_ES256, fx.priv_pem, lbx_key_kid(fx.key),
                             "{\"iss\":\"lbx\",\"sub\":\"support-alice\",\"aud\":\"node-7\","
                             "\"jti\":\"g-9\",\"iat\":1700000000,\"nbf\":1700000000,"
                             "\"exp\":1700003600}");

    assert_int_equal(verify_at(tok, T0 + 10, -1), LBX_OK);
    free(tok);
}

/* Our token verifies under libjwt with the public PEM. */
static void test_interop_libjwt_verifies(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + HOUR);
    char *tok = mint(&c);
    jwt_t *jwt = NULL;

    assert_int_equal(
        jwt_decode(&jwt, tok, (const unsigned char *)fx.pub_pem, (int)strlen(fx.pub_pem)), 0);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_ES256);
    assert_string_equal(jwt_get_header(jwt, "kid"), lbx_key_kid(fx.key));
    assert_string_equal(jwt_get_grant(jwt, "sub"), "support-alice");
    assert_int_equal(jwt_get_grant_int(jwt, "exp"), T0 + HOUR);
    jwt_free(jwt);
    lbx_free_secret(tok);
}

static struct lbx_key *write_pair(const char *dir, const char *name, char **pubpath)
{
    struct lbx_key *k;
    char *sub = forge_printf("%s/%s", dir, name);

    assert_int_equal(lbx_key_generate(&k), LBX_OK);
    assert_int_equal(lbx_key_write_pair(k, sub, NULL), LBX_OK);
    *pubpath = forge_printf("%s/signing.pub", sub);
    free(sub);
    return k;
}

static lbx_err verify_with_dir(const char *dir, const char *tok)
{
    struct lbx_keyring *ring;
    struct lbx_verify_opts o = opts(T0 + 5, -1);
    struct lbx_claims c;
    lbx_err r;

    assert_int_equal(lbx_keyring_new(&ring), LBX_OK);
    assert_int_equal(lbx_keyring_load_dir(ring, dir, NULL), LBX_OK);
    o.keys = ring;
    r = lbx_token_verify(tok, strlen(tok), &o, &c, NULL);
    lbx_claims_free(&c);
    lbx_keyring_free(ring);
    return r;
}

static void test_key_rotation(void **state)
{
    char *dir = forge_tmpdir(), *ringdir = forge_printf("%s/ring", dir), *pa, *pb, *cmd;
    struct lbx_key *a = write_pair(dir, "a", &pa), *b = write_pair(dir, "b", &pb);
    struct lbx_claims c = claims(T0, T0, T0 + HOUR);
    char *ta = NULL, *tb = NULL;

    assert_int_equal(lbx_token_mint(a, &c, &ta, NULL), LBX_OK);
    assert_int_equal(lbx_token_mint(b, &c, &tb, NULL), LBX_OK);
    cmd = forge_printf("mkdir %s && cp %s %s/old.pub && cp %s %s/new.pub", ringdir, pa, ringdir, pb,
                       ringdir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(verify_with_dir(ringdir, ta), LBX_OK);
    assert_int_equal(verify_with_dir(ringdir, tb), LBX_OK);
    free(cmd);
    cmd = forge_printf("%s/old.pub", ringdir);
    assert_int_equal(unlink(cmd), 0); /* the old key is retired */
    assert_int_equal(verify_with_dir(ringdir, ta), LBX_ERR_TOKEN_KID);
    assert_int_equal(verify_with_dir(ringdir, tb), LBX_OK);
    free(cmd);
    free(ta);
    free(tb);
    free(pa);
    free(pb);
    free(ringdir);
    lbx_key_free(a);
    lbx_key_free(b);
    forge_rmdir(dir);
}

static lbx_err mint_code(const struct lbx_key *key, const struct lbx_claims *c)
{
    struct lbx_error e = {0};
    char *tok = (char *)"untouched";
    lbx_err r = lbx_token_mint(key, c, &tok, &e);

    if (r != LBX_OK) {
        assert_null(tok);
        assert_int_equal(e.code, r);
    }
    free(tok);
    return r;
}

static void test_mint_refusals(void **state)
{
    struct lbx_claims c = claims(T0, T0, T0 + LBX_GRANT_MAX_LIFETIME + 1);
    struct lbx_key *pub = NULL;

    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_LIFETIME_CAP);
    c.exp = T0;
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG); /* exp == iat */
    c.exp = T0 - 1;
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG);
    c = claims(T0, T0 + 2 * HOUR, T0 + HOUR);
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG); /* nbf after exp */
    c = claims(T0, T0, T0 + HOUR);
    c.iss = "";
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG);
    c = claims(T0, T0, T0 + HOUR);
    c.sub = NULL;
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG);
    c = claims(T0, T0, T0 + HOUR);
    c.aud = "";
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG);
    c = claims(T0, T0, T0 + HOUR);
    c.jti = "";
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG);
    c = claims(T0, T0, T0 + HOUR);
    c.sub = "support-\xff";
    assert_int_equal(mint_code(fx.key, &c), LBX_ERR_ARG); /* not UTF-8: JSON cannot carry it */
    c = claims(T0, T0, T0 + HOUR);
    assert_int_equal(lbx_key_from_pem(fx.pub_pem, strlen(fx.pub_pem), 0, &pub, NULL), LBX_OK);
    assert_int_equal(mint_code(pub, &c), LBX_ERR_KEY);
    lbx_key_free(pub);
}

static lbx_err verify_opts_code(struct lbx_verify_opts *o)
{
    struct lbx_claims cl = claims(T0, T0, T0 + HOUR), out;
    char *tok = mint(&cl);
    lbx_err r = lbx_token_verify(tok, strlen(tok), o, &out, NULL);

    lbx_claims_free(&out);
    lbx_free_secret(tok);
    return r;
}

static void test_verify_options(void **state)
{
    struct lbx_keyring *empty;
    struct lbx_verify_opts o = opts(T0 + 5, LBX_LEEWAY_MAX + 1);
    struct lbx_claims out;

    assert_int_equal(verify_opts_code(&o), LBX_ERR_ARG); /* leeway 121 s */
    o = opts(T0 + 5, LBX_LEEWAY_MAX);
    assert_int_equal(verify_opts_code(&o), LBX_OK);
    assert_int_equal(lbx_keyring_new(&empty), LBX_OK);
    o.keys = empty;
    assert_int_equal(verify_opts_code(&o), LBX_ERR_KEY); /* zero trusted keys */
    o.keys = NULL;
    assert_int_equal(verify_opts_code(&o), LBX_ERR_KEY);
    lbx_keyring_free(empty);
    o = opts(T0 + 5, -1);
    o.aud = "";
    assert_int_equal(verify_opts_code(&o), LBX_ERR_ARG);
    o = opts(T0 + 5, -1);
    o.sub = NULL;
    assert_int_equal(verify_opts_code(&o), LBX_ERR_ARG);
    o = opts(0, -1);
    assert_int_equal(verify_opts_code(&o), LBX_ERR_ARG); /* no clock */
    o = opts(T0 + 5, -1);
    assert_int_equal(lbx_token_verify(NULL, 0, &o, &out, NULL), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(lbx_token_verify("", 0, &o, &out, NULL), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(lbx_token_verify("..", 2, &o, &out, NULL), LBX_ERR_TOKEN_MALFORMED);
}

/* Claim text quoted in a refusal reaches syslog and a terminal: no escape sequence survives. */
static void test_refusal_detail_is_sanitized(void **state)
{
    char *header =
        forge_printf("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", lbx_key_kid(fx.key));
    char *tok =
        forge_token(fx.key, header,
                    "{\"iss\":\"lbx\",\"sub\":\"support-alice\",\"aud\":\"node-7"
                    "\\u001b]0;owned\\u0007\\n\\u009b31m\",\"jti\":\"g\",\"iat\":1700000000,"
                    "\"nbf\":1700000000,\"exp\":1700003600}");
    struct lbx_verify_opts o = opts(T0 + 5, -1);
    struct lbx_claims c;
    struct lbx_error e = {0};
    const char *p;

    assert_int_equal(lbx_token_verify(tok, strlen(tok), &o, &c, &e), LBX_ERR_TOKEN_AUDIENCE);
    print_message("# %s\n", e.detail);
    assert_non_null(strstr(e.detail, "node-7?]0;owned???31m"));
    for (p = e.detail; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
    free(header);
    free(tok);
}

static int setup(void **state)
{
    assert_int_equal(lbx_key_generate(&fx.key), LBX_OK);
    fx.ring = forge_public_ring(fx.key, &fx.pub_pem);
    fx.priv_pem = forge_private_pem(fx.key);
    return 0;
}

static int teardown(void **state)
{
    lbx_key_free(fx.key);
    lbx_keyring_free(fx.ring);
    lbx_free_secret(fx.priv_pem);
    free(fx.pub_pem);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifetime_exactly_8h),
        cmocka_unit_test(test_expiry_boundary),
        cmocka_unit_test(test_not_before_boundary),
        cmocka_unit_test(test_iat_boundary),
        cmocka_unit_test(test_round_trip_optional_claims),
        cmocka_unit_test(test_longest_token),
        cmocka_unit_test(test_interop_libjwt_mints),
        cmocka_unit_test(test_interop_libjwt_verifies),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_mint_refusals),
        cmocka_unit_test(test_verify_options),
        cmocka_unit_test(test_refusal_detail_is_sanitized),
    };

    return cmocka_run_group_tests_name("valid tokens and mint", tests, setup, teardown);
}
