/* The direct object writer (json_out.c): byte for byte what lbx_json_dump makes of the same
 * object, for every kind of string (escapes, control characters, UTF-8 of every length),
 * refuses what json_string refuses (bad UTF-8), and stops at the buffer's bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"

/* {"a": s, "b": n, "c": null, "d": {"x":[1]}} both ways; 1 when s was written. */
static int both_ways(const char *s, int64_t n)
{
    struct lbx_json_out o;
    struct lbx_buf b;
    json_t *obj, *nested = json_pack("{s:[i]}", "x", 1);
    char *want = NULL, *nested_text = lbx_json_dump(nested);
    lbx_err r;

    lbx_buf_init(&b, 0);
    lbx_json_out_begin(&o, &b);
    lbx_json_out_str(&o, "a", s);
    lbx_json_out_int(&o, "b", n);
    lbx_json_out_null(&o, "c");
    lbx_json_out_raw(&o, "d", nested_text);
    r = lbx_json_out_end(&o);
    obj = json_pack("{s:s?, s:I, s:n, s:O}", "a", s, "b", (json_int_t)n, "c", "d", nested);
    if (obj != NULL)
        want = lbx_json_dump(obj);
    if (r == LBX_OK) {
        assert_non_null(want);
        assert_string_equal(b.data, want);
    } else {
        assert_int_equal(r, LBX_ERR_ARG);
        assert_null(obj); /* jansson refuses the same string */
    }
    free(want);
    free(nested_text);
    json_decref(obj);
    json_decref(nested);
    lbx_buf_free(&b);
    return r == LBX_OK;
}

static void same_as_jansson(void **state)
{
    static const char *const ok[] = {
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "\b\f\n\r\t",
        "\x01\x1f\x7f",
        "caf\xc3\xa9",
        "\xe2\x82\xac euro",
        "\xf0\x9f\x94\x92 lock",
        "\xe2\x80\xa8 line sep",
        "'=cmd|x' <script>",
        NULL,
    };
    size_t i;
    char all[128];

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(both_ways(ok[i], (int64_t)i - 3));
    for (i = 1; i < sizeof(all); i++) /* every ASCII character, one string */
        all[i - 1] = (char)i;
    all[sizeof(all) - 1] = '\0';
    assert_true(both_ways(all, INT64_MAX));
    assert_true(both_ways("x", INT64_MIN));
}

static void bad_utf8_refused(void **state)
{
    static const char *const bad[] = {
        "\xc3", "\xc3(",    "\xe2\x82",     "\xf0\x9f\x94",
        "\xff", "\xc0\xaf", "\xed\xa0\x80", "ok then \x80",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(both_ways(bad[i], 0));
}

static void bounded(void **state)
{
    struct lbx_json_out o;
    struct lbx_buf b;
    char big[200];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lbx_buf_init(&b, 64);
    lbx_json_out_begin(&o, &b);
    lbx_json_out_str(&o, "a", "short");
    lbx_json_out_str(&o, "b", big);
    lbx_json_out_int(&o, "c", 1); /* after the failure: ignored, the error stays */
    assert_int_equal(lbx_json_out_end(&o), LBX_ERR_TOO_LARGE);
    assert_true(b.len <= 64);
    lbx_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_jansson),
        cmocka_unit_test(bad_utf8_refused),
        cmocka_unit_test(bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
