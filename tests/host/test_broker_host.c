/* The host's parsing of broker answers: a broker (or something pretending to be one) can send
 * anything; only well-formed answers count, everything else is an error, never a grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "broker_host.h"

static lbx_err token(long status, const char *body, struct lbx_broker_grant *g,
                     struct lbx_broker_refusal *ref)
{
    return lbx_broker_parse_token(status, body, strlen(body), g, ref, NULL);
}

static void test_token_ok(void **state)
{
    struct lbx_broker_grant g;
    struct lbx_broker_refusal ref;

    assert_int_equal(token(200,
                           "{\"token\":\"a.b.c\",\"grant_id\":\"G-1\",\"request_id\":"
                           "\"LBX-42\",\"ticket\":\"123\",\"approved_by\":\"carol\","
                           "\"access_end\":1795477754}",
                           &g, &ref),
                     LBX_OK);
    assert_string_equal(g.token, "a.b.c");
    assert_string_equal(g.grant_id, "G-1");
    assert_string_equal(g.approved_by, "carol");
    assert_int_equal(g.access_end, 1795477754);
    lbx_broker_grant_free(&g);
}

static void test_token_refusal(void **state)
{
    struct lbx_broker_grant g;
    struct lbx_broker_refusal ref;

    assert_int_equal(token(403,
                           "{\"error\":\"pending\",\"message\":\"awaits\",\"request_id\":"
                           "\"LBX-42\",\"awaiting\":\"subscription owner\"}",
                           &g, &ref),
                     LBX_ERR_NO_GRANT);
    assert_string_equal(ref.code, "pending");
    assert_string_equal(ref.request_id, "LBX-42");
    assert_string_equal(ref.awaiting, "subscription owner");
    assert_null(g.token);
    /* A 403 without a code, or any other status, is not a refusal we can explain. */
    assert_int_equal(token(403, "{}", &g, &ref), LBX_ERR_HTTP);
    assert_int_equal(token(401, "{\"error\":\"unauthenticated\"}", &g, &ref), LBX_ERR_AUTH);
    assert_int_equal(token(500, "{\"error\":\"internal\"}", &g, &ref), LBX_ERR_HTTP);
}

static void test_token_hostile(void **state)
{
    static const char *bodies[] = {
        "",
        "not json",
        "[\"token\"]",
        "{\"token\":\"a.b.c\"}",
        "{\"token\":1,\"grant_id\":\"G-1\",\"access_end\":1}",
        "{\"token\":\"a.b.c\",\"grant_id\":\"G-1\",\"access_end\":\"1\"}",
        "{\"token\":\"a.b.c\",\"grant_id\":\"../../etc\",\"access_end\":1}",
        "{\"token\":\"a.b.c\",\"grant_id\":\"G 1\",\"access_end\":1}",
        "{\"token\":\"a.b.c\",\"token\":\"d.e.f\",\"grant_id\":\"G-1\",\"access_end\":1}",
        "{\"token\":\"a\\u0000b\",\"grant_id\":\"G-1\",\"access_end\":1}",
        "{\"token\":\"a.b.c\",\"grant_id\":\"G-1\",\"access_end\":1}trailing",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
    };
    struct lbx_broker_grant g;
    struct lbx_broker_refusal ref;
    char *big;
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_not_equal(token(200, bodies[i], &g, &ref), LBX_OK);
        assert_null(g.token);
    }
    /* A token longer than any token we accept, and an answer over the size bound. */
    big = malloc(200 * 1024);
    assert_non_null(big);
    memset(big, 'a', 200 * 1024 - 1);
    big[200 * 1024 - 1] = '\0';
    memcpy(big, "{\"token\":\"", 10);
    assert_int_not_equal(token(200, big, &g, &ref), LBX_OK);
    free(big);
}

static void test_status(void **state)
{
    enum lbx_grant_status st;
    int64_t end = 0;
    const char *active = "{\"grant_id\":\"G-1\",\"status\":\"active\",\"access_end\":5}";
    const char *revoked = "{\"grant_id\":\"G-1\",\"status\":\"revoked\",\"access_end\":5}";
    const char *unknown = "{\"grant_id\":\"G-1\",\"status\":\"ok\",\"access_end\":5}";

    assert_int_equal(lbx_broker_parse_status(200, active, strlen(active), "G-1", &st, &end, NULL),
                     LBX_OK);
    assert_int_equal(st, LBX_GRANT_ACTIVE);
    assert_int_equal(end, 5);
    assert_int_equal(lbx_broker_parse_status(200, revoked, strlen(revoked), "G-1", &st, &end, NULL),
                     LBX_OK);
    assert_int_equal(st, LBX_GRANT_REVOKED);
    /* Another grant's answer, an unknown status, a wrong type: errors, not "active". */
    assert_int_equal(lbx_broker_parse_status(200, active, strlen(active), "G-2", &st, &end, NULL),
                     LBX_ERR_HTTP);
    assert_int_equal(lbx_broker_parse_status(200, unknown, strlen(unknown), "G-1", &st, &end, NULL),
                     LBX_ERR_HTTP);
    assert_int_equal(lbx_broker_parse_status(404, "", 0, "G-1", &st, &end, NULL),
                     LBX_ERR_NOT_FOUND);
    assert_int_equal(lbx_broker_parse_status(403, "", 0, "G-1", &st, &end, NULL),
                     LBX_ERR_FORBIDDEN);
    assert_int_equal(lbx_broker_parse_status(503, "", 0, "G-1", &st, &end, NULL), LBX_ERR_HTTP);
}

#define KID "a8Zq3kT0-_LmN4pQrS7uVwXyZ012345678abcdEFGHI"

static lbx_err identity(long status, const char *body, struct lbx_broker_identity *id,
                        struct lbx_error *e)
{
    return lbx_broker_parse_identity(status, body, strlen(body), id, e);
}

static void test_identity(void **state)
{
    struct lbx_broker_identity id;
    struct lbx_error e = {0};
    static const char *hostile[] = {
        "",
        "null",
        "{}",
        "{\"host\":\"node-7\",\"issuer\":\"lockbox\"}",
        "{\"host\":\"node-7\",\"issuer\":\"lockbox\",\"kid\":\"short\"}",
        "{\"host\":\"node-7\",\"issuer\":\"lockbox\",\"kid\":\"" KID "x\"}",
        "{\"host\":\"node-7\",\"issuer\":\"lockbox\",\"kid\":\"a8Zq3kT0/"
        "_LmN4pQrS7uVwXyZ012345678abcdEFGHI\"}",
        "{\"host\":\"../etc\",\"issuer\":\"lockbox\",\"kid\":\"" KID "\"}",
        "{\"host\":\"node 7\",\"issuer\":\"lockbox\",\"kid\":\"" KID "\"}",
        "{\"host\":7,\"issuer\":\"lockbox\",\"kid\":\"" KID "\"}",
        "{\"host\":\"node-7\",\"issuer\":\"\",\"kid\":\"" KID "\"}",
        "{\"host\":\"node-7\",\"kid\":\"" KID "\"}",
        "{\"host\":\"node-7\",\"issuer\":\"lockbox\",\"kid\":\"" KID "\"} trailing",
    };
    size_t i;

    assert_int_equal(
        identity(200, "{\"host\":\"node-7\",\"issuer\":\"lockbox\",\"kid\":\"" KID "\"}", &id, &e),
        LBX_OK);
    assert_string_equal(id.host, "node-7");
    assert_string_equal(id.issuer, "lockbox");
    assert_string_equal(id.kid, KID);
    for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        assert_int_equal(identity(200, hostile[i], &id, &e), LBX_ERR_HTTP);
        assert_string_equal(id.host, ""); /* nothing half-filled is left to be trusted */
        assert_string_equal(id.kid, "");
    }
    /* Refusals carry the broker's words for the administrator. */
    assert_int_equal(identity(401,
                              "{\"error\":\"unauthenticated\",\"message\":\"no valid "
                              "host client certificate\"}",
                              &id, &e),
                     LBX_ERR_AUTH);
    assert_string_equal(e.detail,
                        "broker answered 401 unauthenticated: no valid host client certificate");
    assert_int_equal(identity(403,
                              "{\"error\":\"forbidden\",\"message\":\"host 'x' is not in "
                              "the directory\"}",
                              &id, &e),
                     LBX_ERR_FORBIDDEN);
    assert_string_equal(e.detail,
                        "broker answered 403 forbidden: host 'x' is not in the directory");
    assert_int_equal(identity(404, "not json", &id, &e), LBX_ERR_HTTP);
    assert_string_equal(e.detail, "broker answered 404");
    assert_int_equal(identity(500, "{\"error\":7}", &id, &e), LBX_ERR_HTTP);
    assert_string_equal(id.host, "");
}

static void test_ids(void **state)
{
    char long_id[200];

    assert_true(lbx_broker_id_valid("G-42"));
    assert_true(lbx_broker_id_valid("s-AbC_9"));
    assert_false(lbx_broker_id_valid(""));
    assert_false(lbx_broker_id_valid(".hidden"));
    assert_false(lbx_broker_id_valid("a/b"));
    assert_false(lbx_broker_id_valid("a?wait=1"));
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_false(lbx_broker_id_valid(long_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_ok),      cmocka_unit_test(test_token_refusal),
        cmocka_unit_test(test_token_hostile), cmocka_unit_test(test_status),
        cmocka_unit_test(test_ids),           cmocka_unit_test(test_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
