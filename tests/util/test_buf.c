/* lbx_buf: the bound is the number of content bytes, overflow-proof; lbx_error_set may quote
 * its own previous detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "lbx_err.h"

static void test_max_bound(void **state)
{
    struct lbx_buf b;

    lbx_buf_init(&b, 10);
    assert_int_equal(lbx_buf_append(&b, "0123456789", 10), LBX_OK); /* exactly max */
    assert_int_equal(lbx_buf_append(&b, "x", 1), LBX_ERR_TOO_LARGE);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789"); /* a refused append changes nothing */
    assert_int_equal(lbx_buf_append(&b, "", 0), LBX_OK);
    assert_int_equal(lbx_buf_printf(&b, "%s", ""), LBX_OK);
    assert_int_equal(lbx_buf_printf(&b, "%d", 1), LBX_ERR_TOO_LARGE);
    assert_string_equal(b.data, "0123456789");
    lbx_buf_free(&b);

    lbx_buf_init(&b, 10);
    assert_int_equal(lbx_buf_printf(&b, "%s", "01234567890"), LBX_ERR_TOO_LARGE);
    assert_int_equal(lbx_buf_printf(&b, "%05d%s", 42, "abcde"), LBX_OK);
    assert_string_equal(b.data, "00042abcde");
    lbx_buf_free(&b);
}

static void test_no_size_overflow(void **state)
{
    struct lbx_buf b;

    lbx_buf_init(&b, 0); /* 0 = the default bound */
    assert_int_equal(b.max, LBX_BUF_DEFAULT_MAX);
    assert_int_equal(lbx_buf_append(&b, "abc", 3), LBX_OK);
    assert_int_equal(lbx_buf_append(&b, "x", SIZE_MAX), LBX_ERR_TOO_LARGE);
    assert_int_equal(lbx_buf_append(&b, "x", SIZE_MAX - 2), LBX_ERR_TOO_LARGE);
    assert_int_equal(lbx_buf_append(&b, "x", LBX_BUF_DEFAULT_MAX - 2), LBX_ERR_TOO_LARGE);
    assert_string_equal(b.data, "abc");
    lbx_buf_free(&b);

    lbx_buf_init(&b, SIZE_MAX); /* no bound at all must not wrap the capacity arithmetic */
    assert_int_equal(lbx_buf_append(&b, "x", SIZE_MAX), LBX_ERR_TOO_LARGE);
    assert_int_equal(lbx_buf_append(&b, "x", SIZE_MAX - 1), LBX_ERR_TOO_LARGE);
    assert_int_equal(lbx_buf_printf(&b, "%s", "abc"), LBX_OK);
    assert_int_equal(lbx_buf_append(&b, "x", SIZE_MAX - 1), LBX_ERR_TOO_LARGE);
    lbx_buf_free(&b);
}

static void test_growth_keeps_content(void **state)
{
    struct lbx_buf b;
    char *s;
    int i;

    lbx_buf_init(&b, 1 << 20);
    for (i = 0; i < 5000; i++)
        assert_int_equal(lbx_buf_printf(&b, "%d,", i % 10), LBX_OK);
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(b.data), 10000);
    assert_memory_equal(b.data + 9990, "5,6,7,8,9,", 10);
    s = lbx_buf_steal(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(strlen(s), 10000);
    free(s);
    s = lbx_buf_steal(&b); /* an empty buffer hands out "" */
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(lbx_buf_append(&b, "again", 5), LBX_OK);
    lbx_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    lbx_buf_free(&b);
    lbx_buf_free(&b); /* twice is harmless */
    lbx_freezero(NULL, 10);
    lbx_free_secret(NULL);
}

/* Appending a buffer to itself, or formatting it into itself, across growth (ASan watches). */
static void test_self_append(void **state)
{
    struct lbx_buf b;
    int i;

    lbx_buf_init(&b, 1 << 20);
    assert_int_equal(lbx_buf_append(&b, "ab", 2), LBX_OK);
    for (i = 0; i < 10; i++)
        assert_int_equal(lbx_buf_append(&b, b.data, b.len), LBX_OK);
    assert_int_equal(b.len, 2048);
    assert_memory_equal(b.data + 2040, "abababab", 8);
    for (i = 0; i < 3; i++)
        assert_int_equal(lbx_buf_printf(&b, "<%s>", b.data + b.len - 4), LBX_OK);
    assert_string_equal(b.data + 2048, "<abab><bab>><ab>>>");
    assert_int_equal(lbx_buf_append(&b, b.data + 1, 3), LBX_OK);
    assert_string_equal(b.data + b.len - 3, "bab");
    lbx_buf_free(&b);
}

static void test_error_set_may_quote_itself(void **state)
{
    struct lbx_error e;
    char buf[300];

    lbx_error_set(&e, LBX_ERR_KEY, "not a PEM key");
    lbx_error_set(&e, e.code, "%s: %s", "/etc/lockbox/k.pub", e.detail);
    assert_string_equal(e.detail, "/etc/lockbox/k.pub: not a PEM key");
    assert_string_equal(lbx_error_text(&e, buf, sizeof(buf)),
                        "unusable key: /etc/lockbox/k.pub: not a PEM key");
    lbx_error_set(&e, LBX_ERR_IO, NULL);
    assert_string_equal(lbx_error_text(&e, buf, sizeof(buf)), "i/o error");
    assert_int_equal(lbx_error_set(NULL, LBX_ERR_IO, "x"), LBX_ERR_IO);
    lbx_error_clear(&e);
    assert_int_equal(e.code, LBX_OK);
    assert_string_equal(lbx_strerror(LBX_ERR__COUNT), "unknown error");
    assert_string_equal(lbx_strerror((lbx_err)-1), "unknown error");
    assert_string_equal(lbx_strerror(LBX_ERR_TOKEN_EXPIRED), "expired");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_bound),
        cmocka_unit_test(test_no_size_overflow),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_self_append),
        cmocka_unit_test(test_error_set_may_quote_itself),
    };

    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
