/* The strict JSON layer: size, depth (strings do not count), duplicates, NUL, objects (and arrays
 * through their own parser) only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static lbx_err parse_len(const char *text, size_t len, size_t max, int depth)
{
    struct lbx_error e = {0};
    json_t *v = (json_t *)1;
    lbx_err r = lbx_json_parse_object(text, len, max, depth, &v, &e);

    if (r != LBX_OK) {
        print_message("# %s\n", e.detail);
        assert_null(v);
        assert_int_equal(e.code, r);
    } else {
        assert_true(json_is_object(v));
    }
    json_decref(v);
    return r;
}

static lbx_err parse(const char *text)
{
    return parse_len(text, strlen(text), 1024, 4);
}

static void test_objects_only(void **state)
{
    assert_int_equal(parse("{}"), LBX_OK);
    assert_int_equal(parse(" {\"a\":1} \n"), LBX_OK);
    assert_int_equal(parse("[]"), LBX_ERR_JSON);
    assert_int_equal(parse("\"s\""), LBX_ERR_JSON);
    assert_int_equal(parse("1"), LBX_ERR_JSON);
    assert_int_equal(parse("null"), LBX_ERR_JSON);
    assert_int_equal(parse(""), LBX_ERR_JSON);
    assert_int_equal(parse("{} {}"), LBX_ERR_JSON); /* trailing garbage */
    assert_int_equal(parse("{\"a\":1,}"), LBX_ERR_JSON);
    assert_int_equal(parse("{'a':1}"), LBX_ERR_JSON);
    assert_int_equal(parse("{\"a\":NaN}"), LBX_ERR_JSON);
}

static void test_duplicates_and_nul(void **state)
{
    assert_int_equal(parse("{\"a\":1,\"a\":2}"), LBX_ERR_JSON);
    assert_int_equal(parse("{\"a\":{\"b\":1,\"b\":1}}"), LBX_ERR_JSON);
    assert_int_equal(parse("{\"a\":1,\"\\u0061\":2}"), LBX_ERR_JSON); /* same name, escaped */
    assert_int_equal(parse("{\"a\":\"x\\u0000y\"}"), LBX_ERR_JSON);
    assert_int_equal(parse("{\"a\\u0000\":1}"), LBX_ERR_JSON);
    assert_int_equal(parse_len("{\"a\":\"x\0y\"}", 11, 1024, 4), LBX_ERR_JSON); /* raw NUL */
    assert_int_equal(parse_len("{}\0", 3, 1024, 4), LBX_ERR_JSON);
    assert_int_equal(parse("{\"a\":\"\xc3\x28\"}"), LBX_ERR_JSON); /* invalid UTF-8 */
}

static void test_size_and_depth(void **state)
{
    char big[40];

    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    assert_int_equal(parse_len(big, sizeof(big), sizeof(big), 4), LBX_OK);
    assert_int_equal(parse_len(big, sizeof(big), sizeof(big) - 1, 4), LBX_ERR_TOO_LARGE);
    assert_int_equal(parse("{\"a\":{\"b\":[[1]]}}"), LBX_OK);         /* depth 4 */
    assert_int_equal(parse("{\"a\":{\"b\":[[[1]]]}}"), LBX_ERR_JSON); /* depth 5 */
    /* brackets inside strings, and escaped quotes, are not nesting */
    assert_int_equal(parse("{\"a\":\"[[[[[[{{{{{{\"}"), LBX_OK);
    assert_int_equal(parse("{\"a\":\"\\\"[[[[[[\\\\\",\"b\":\"]]]]]]\"}"), LBX_OK);
    assert_int_equal(parse("{\"a\":\"\\\\\",\"b\":[[[[[]]]]]}"), LBX_ERR_JSON);
}

static lbx_err parse_array(const char *text, int depth)
{
    struct lbx_error e = {0};
    json_t *v = (json_t *)1;
    lbx_err r = lbx_json_parse_array(text, strlen(text), 64, depth, &v, &e);

    if (r != LBX_OK)
        assert_null(v);
    else
        assert_true(json_is_array(v));
    json_decref(v);
    return r;
}

/* The array parser (asciicast event lines) keeps every rule of the object parser. */
static void test_arrays(void **state)
{
    assert_int_equal(parse_array("[1.5, \"o\", \"text\"]", 2), LBX_OK);
    assert_int_equal(parse_array("[]", 2), LBX_OK);
    assert_int_equal(parse_array("{}", 2), LBX_ERR_JSON);
    assert_int_equal(parse_array("\"s\"", 2), LBX_ERR_JSON);
    assert_int_equal(parse_array("[1] [2]", 2), LBX_ERR_JSON);
    assert_int_equal(parse_array("[\"x\\u0000y\"]", 2), LBX_ERR_JSON);
    assert_int_equal(parse_array("[{\"a\":1,\"a\":2}]", 2), LBX_ERR_JSON);
    assert_int_equal(parse_array("[[[1]]]", 2), LBX_ERR_JSON);
    assert_int_equal(
        parse_array("[\"0123456789012345678901234567890123456789012345678901234567890\"]", 2),
        LBX_ERR_TOO_LARGE);
}

static void test_getters_and_only_keys(void **state)
{
    static const char *const allowed[] = {"s", "i", "f", NULL};
    struct lbx_error e = {0};
    const char *s;
    int64_t i;
    json_t *v;
    char *dump;

    const char *text = "{\"s\":\"x\",\"i\":-9223372036854775808,\"f\":1.0}";

    assert_int_equal(lbx_json_parse_object(text, strlen(text), 1024, 4, &v, NULL), LBX_OK);
    assert_int_equal(lbx_json_get_string(v, "s", &s), LBX_OK);
    assert_string_equal(s, "x");
    assert_int_equal(lbx_json_get_int(v, "i", &i), LBX_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(lbx_json_get_int(v, "f", &i), LBX_ERR_TOKEN_CLAIM_TYPE);
    assert_int_equal(lbx_json_get_int(v, "s", &i), LBX_ERR_TOKEN_CLAIM_TYPE);
    assert_int_equal(lbx_json_get_string(v, "i", &s), LBX_ERR_TOKEN_CLAIM_TYPE);
    assert_null(s);
    assert_int_equal(lbx_json_get_string(v, "zz", &s), LBX_ERR_TOKEN_CLAIM_MISSING);
    assert_int_equal(lbx_json_only_keys(v, allowed, &e), LBX_OK);
    json_object_set_new(v, "evil\x1b[2J", json_true());
    assert_int_equal(lbx_json_only_keys(v, allowed, &e), LBX_ERR_TOKEN_CLAIM_UNKNOWN);
    assert_string_equal(e.detail, "unexpected member 'evil?[2J'");
    json_object_del(v, "evil\x1b[2J");
    dump = lbx_json_dump(v);
    assert_string_equal(dump, "{\"f\":1.0,\"i\":-9223372036854775808,\"s\":\"x\"}"); /* sorted */
    free(dump);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_only),          cmocka_unit_test(test_duplicates_and_nul),
        cmocka_unit_test(test_size_and_depth),        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_getters_and_only_keys),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
