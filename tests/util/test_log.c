/* lbx_sanitize and the logger's sinks: escape sequences, C1 controls, malformed UTF-8 and
 * truncation never reach a terminal or log reader; structured lines cannot be forged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static void expect_clean(const char *in, const char *want)
{
    char out[256];

    lbx_sanitize(out, sizeof(out), in);
    if (strcmp(out, want) != 0)
        print_error("sanitize: got '%s', want '%s'\n", out, want);
    assert_string_equal(out, want);
}

static void test_escape_sequences(void **state)
{
    expect_clean("plain user-7", "plain user-7");
    expect_clean("\x1b[31mred\x1b[0m", "?[31mred?[0m");
    expect_clean("\x1b]0;title\x07", "?]0;title?");
    expect_clean("a\rb\nc\td\x7f", "a?b?c?d?");
    expect_clean("\x01\x1f", "??");
}

static void test_c1_controls(void **state)
{
    expect_clean("\xc2\x9b"
                 "31m",
                 "?31m"); /* CSI as a C1 control */
    expect_clean("\xc2\x80\xc2\x85\xc2\x9f", "???");
    expect_clean("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is printable */
}

/* Characters that make a terminal show text in another order than it is read. */
static void test_bidi_and_separators(void **state)
{
    expect_clean("a\xe2\x80\xae"
                 "b",
                 "a?b"); /* U+202E RIGHT-TO-LEFT OVERRIDE */
    expect_clean("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", "????");
    expect_clean("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "????"); /* isolates */
    expect_clean("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "???");                  /* LRM, RLM, ALM */
    expect_clean("\xe2\x80\xa8\xe2\x80\xa9", "??"); /* line / paragraph separator */
    expect_clean("\xe2\x80\x94\xe2\x80\xa2\xe2\x81\xa0", "\xe2\x80\x94\xe2\x80\xa2\xe2\x81\xa0");
    expect_clean("\xd8\xa7\xd9\x84", "\xd8\xa7\xd9\x84"); /* Arabic letters are text */
}

/* The same rule decides what the broker refuses: the offset of the first unsafe character. */
static void test_unsafe_at_and_multiline(void **state)
{
    char buf[32];

    assert_true(lbx_text_unsafe_at("plain text", 0) == (size_t)-1);
    assert_int_equal(lbx_text_unsafe_at("ab\x1b[2J", 0), 2);
    assert_int_equal(lbx_text_unsafe_at("caf\xc3\xa9\xc2\x9b", 0), 5);
    assert_int_equal(lbx_text_unsafe_at("x\xff", 0), 1);
    assert_int_equal(lbx_text_unsafe_at("line\nnext", 0), 4);
    assert_true(lbx_text_unsafe_at("line\nnext\tcol", LBX_TEXT_MULTILINE) == (size_t)-1);
    assert_int_equal(lbx_text_unsafe_at("line\r\nnext", LBX_TEXT_MULTILINE), 4);
    assert_int_equal(lbx_text_unsafe_at("a\n\x7f", LBX_TEXT_MULTILINE), 2);
    snprintf(buf, sizeof(buf), "a\n\tb\x1b\xc2\x9b\xff\xe2\x80\xae");
    lbx_sanitize_text(buf, sizeof(buf), buf, LBX_TEXT_MULTILINE); /* in place */
    assert_string_equal(buf, "a\n\tb????");
    snprintf(buf, sizeof(buf), "a\n\tb");
    assert_string_equal(lbx_sanitize_text(buf, sizeof(buf), buf, 0), "a??b");
}

static void test_invalid_utf8(void **state)
{
    expect_clean("\x80", "?"); /* lone continuation */
    expect_clean("\xff\xfe", "??");
    expect_clean("\xc0\xaf", "??");           /* overlong '/' */
    expect_clean("\xc1\x9b", "??");           /* overlong ESC */
    expect_clean("\xe0\x80\xaf", "???");      /* overlong, three bytes */
    expect_clean("\xe0\x81\x9b", "???");      /* overlong CSI */
    expect_clean("\xf0\x80\x80\xaf", "????"); /* overlong, four bytes */
    expect_clean("\xed\xa0\x80", "???");      /* UTF-16 surrogate */
    expect_clean("\xf4\x90\x80\x80", "????"); /* above U+10FFFF */
    expect_clean("\xf5\x80\x80\x80", "????");
    expect_clean("\xe2\x82", "??"); /* truncated at the end of the input */
    expect_clean("\xe2\x82x", "??x");
    expect_clean("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf");
    expect_clean("\xed\x9f\xbf", "\xed\x9f\xbf"); /* U+D7FF, just below the surrogates */
}

static void test_truncation(void **state)
{
    char out[8];

    memset(out, 'Z', sizeof(out));
    lbx_sanitize(out, sizeof(out), "abcdefghij");
    assert_string_equal(out, "abcdefg");
    lbx_sanitize(out, sizeof(out), "abcde\xe2\x82\xac"); /* the euro sign would not fit whole */
    assert_string_equal(out, "abcde");
    lbx_sanitize(out, sizeof(out), "abcd\xe2\x82\xac");
    assert_string_equal(out, "abcd\xe2\x82\xac");
    lbx_sanitize(out, 1, "abc");
    assert_string_equal(out, "");
    out[0] = 'Z';
    lbx_sanitize(out, 0, "abc"); /* no room at all: untouched */
    assert_int_equal(out[0], 'Z');
    lbx_sanitize(out, sizeof(out), NULL);
    assert_string_equal(out, "(null)");
}

/* Runs fn with stderr sent to a temporary file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    int saved = dup(2);
    static char text[4096];
    size_t n;

    fflush(stderr);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static void log_hostile_stderr(void)
{
    lbx_log_init("lbx-test", LBX_LOG_STDERR, LOG_INFO);
    lbx_info_f("user %s", "eve\x1b[2J\nfake: line");
    lbx_debug_f("hidden at info level");
}

static void log_hostile_structured(void)
{
    lbx_log_init("lbx-test", LBX_LOG_STRUCTURED, LOG_DEBUG);
    lbx_warn_f("justification %s", "x\" level=crit msg=\"forged \\");
}

static void test_stderr_sink(void **state)
{
    const char *out = capture_stderr(log_hostile_stderr);

    assert_string_equal(out, "lbx-test: user eve?[2J?fake: line\n");
}

static void test_structured_sink_cannot_be_forged(void **state)
{
    const char *out = capture_stderr(log_hostile_structured);

    print_message("# %s", out);
    assert_non_null(strstr(out, " level=warn func=log_hostile_structured msg=\"justification "
                                "x\\\" level=crit msg=\\\"forged \\\\\"\n"));
    assert_int_equal(strncmp(out, "ts=", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_c1_controls),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_bidi_and_separators),
        cmocka_unit_test(test_unsafe_at_and_multiline),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_stderr_sink),
        cmocka_unit_test(test_structured_sink_cannot_be_forged),
    };

    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
