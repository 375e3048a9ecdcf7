/* base64url: RFC 4648 vectors, round trips of every length, one accepted encoding per input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"

static void expect_encode(const char *in, const char *want)
{
    char *out = NULL;
    uint8_t *back = NULL;
    size_t n;

    assert_int_equal(lbx_b64url_encode((const uint8_t *)in, strlen(in), &out), LBX_OK);
    assert_string_equal(out, want);
    assert_int_equal(lbx_b64url_decode(out, strlen(out), &back, &n), LBX_OK);
    assert_int_equal(n, strlen(in));
    assert_memory_equal(back, in, n);
    assert_int_equal(back[n], '\0'); /* decoded output is NUL-terminated */
    free(out);
    free(back);
}

static void test_rfc4648_vectors(void **state)
{
    expect_encode("", "");
    expect_encode("f", "Zg");
    expect_encode("fo", "Zm8");
    expect_encode("foo", "Zm9v");
    expect_encode("foob", "Zm9vYg");
    expect_encode("fooba", "Zm9vYmE");
    expect_encode("foobar", "Zm9vYmFy");
    expect_encode("\xfb\xff", "-_8"); /* the two URL-safe characters */
}

static void test_round_trip_every_length(void **state)
{
    uint8_t in[200], *back;
    char *out;
    size_t len, n, i;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 37 + 11);
    for (len = 0; len <= sizeof(in); len++) {
        assert_int_equal(lbx_b64url_encode(in, len, &out), LBX_OK);
        assert_int_equal(strlen(out), (len * 8 + 5) / 6);
        assert_int_equal(lbx_b64url_decode(out, strlen(out), &back, &n), LBX_OK);
        assert_int_equal(n, len);
        assert_memory_equal(back, in, len);
        free(out);
        free(back);
    }
}

static lbx_err decode(const char *s)
{
    uint8_t *out = (uint8_t *)1;
    size_t n = 99;
    lbx_err r = lbx_b64url_decode(s, strlen(s), &out, &n);

    if (r != LBX_OK) {
        assert_null(out);
        assert_int_equal(n, 0);
    }
    free(out);
    return r;
}

static void test_strict_decoding(void **state)
{
    assert_int_equal(decode("Zm9v"), LBX_OK);
    assert_int_equal(decode("Zg=="), LBX_ERR_TOKEN_MALFORMED); /* padding */
    assert_int_equal(decode("Zg="), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode("Zm+v"), LBX_ERR_TOKEN_MALFORMED); /* standard alphabet */
    assert_int_equal(decode("Zm/v"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode("Zm9 v"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode("Zm9v\n"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode("Z"), LBX_ERR_TOKEN_MALFORMED); /* 4k+1 characters */
    assert_int_equal(decode("Zm9vY"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode("Zh"), LBX_ERR_TOKEN_MALFORMED);  /* unused bits set ("f" is Zg) */
    assert_int_equal(decode("Zm9"), LBX_ERR_TOKEN_MALFORMED); /* "fo" is Zm8 */
    assert_int_equal(decode("Zm8"), LBX_OK);
    assert_int_equal(decode("\xc3\xa9"), LBX_ERR_TOKEN_MALFORMED);
    assert_int_equal(decode(""), LBX_OK);
}

/* Every 2- and 3-character string decodes only when it is the encoding of its output. */
static void test_one_encoding_per_input(void **state)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char s[3], *again;
    uint8_t *out;
    size_t n;
    int i, j, ok = 0, c;

    for (c = 0; c < 256; c++)
        ok += lbx_b64url_is_alphabet(c);
    assert_int_equal(ok, 64);
    ok = 0;
    for (i = 0; i < 64; i++)
        for (j = 0; j < 64; j++) {
            s[0] = a[i];
            s[1] = a[j];
            if (lbx_b64url_decode(s, 2, &out, &n) != LBX_OK)
                continue;
            ok++;
            assert_int_equal(lbx_b64url_encode(out, n, &again), LBX_OK);
            assert_memory_equal(again, s, 2);
            free(again);
            free(out);
        }
    assert_int_equal(ok, 256); /* one per byte value */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_round_trip_every_length),
        cmocka_unit_test(test_strict_decoding),
        cmocka_unit_test(test_one_encoding_per_input),
    };

    return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}
