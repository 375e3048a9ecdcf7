/* Durations ("4h", "1h30m"): what parses, what is refused, how they print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

static int64_t secs(const char *s)
{
    int64_t v = -1;

    if (lbx_duration_parse(s, &v) != LBX_OK)
        fail_msg("'%s' refused", s);
    return v;
}

static void test_valid(void **state)
{
    assert_int_equal(secs("0"), 0);
    assert_int_equal(secs("90"), 90);
    assert_int_equal(secs("45s"), 45);
    assert_int_equal(secs("30m"), 1800);
    assert_int_equal(secs("4h"), 14400);
    assert_int_equal(secs("8h"), 28800);
    assert_int_equal(secs("2d"), 172800);
    assert_int_equal(secs("1h30m"), 5400);
    assert_int_equal(secs("1d2h3m4s"), 93784);
    assert_int_equal(secs("007m"), 420);
    assert_int_equal(secs("3660d"), 3660LL * 86400); /* just under the 10-year ceiling */
}

static void test_refused(void **state)
{
    static const char *bad[] = {
        "",
        "-1",
        "-1h",
        "+1h",
        "h",
        "1x",
        "1H",
        "4h ",
        " 4h",
        "4 h",
        "1.5h",
        "1h-",
        "1hm",
        "1e3",
        "0x10",
        "99999999999999999999",
        "3661d",
        "87841h",
        "316224001",
        "1h\n",
        "\xe2\x82\xac",
    };
    size_t i;
    int64_t v;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 77;
        print_message("# '%s'\n", bad[i]);
        assert_int_equal(lbx_duration_parse(bad[i], &v), LBX_ERR_ARG);
        assert_int_equal(v, 0);
    }
    assert_int_equal(lbx_duration_parse(NULL, &v), LBX_ERR_ARG);
}

static void expect_format(int64_t s, const char *want)
{
    char buf[32];

    lbx_duration_format(s, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    char small[3];

    expect_format(0, "0s");
    expect_format(45, "45s");
    expect_format(60, "1m");
    expect_format(90, "1m30s");
    expect_format(3600, "1h");
    expect_format(5400, "1h30m");
    expect_format(28800, "8h");
    expect_format(3601, "1h"); /* seconds are dropped once hours show */
    expect_format(-5, "0s");
    lbx_duration_format(5400, small, sizeof(small));
    assert_string_equal(small, "1h"); /* truncated, still terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
