/* The one config parser: every bad line is refused with file:line, the file's owner and mode are
 * checked, module arguments go through the same table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "token_forge.h"

struct conf {
    char *broker_url;
    long port;
    int enabled;
    int64_t timeout;
};

static const struct lbx_opt table[] = {
    {"broker_url", LBX_OPT_STRING, offsetof(struct conf, broker_url), 0, 0},
    {"port", LBX_OPT_INT, offsetof(struct conf, port), 1, 65535},
    {"enabled", LBX_OPT_BOOL, offsetof(struct conf, enabled), 0, 1},
    {"timeout", LBX_OPT_DURATION, offsetof(struct conf, timeout), 1, 300},
    {NULL, 0, 0, 0, 0},
};

/* Parses text; on failure checks the detail is exactly want_detail (when given). */
static lbx_err parse(const char *text, const char *want_detail)
{
    struct conf c = {0};
    struct lbx_error e = {0};
    lbx_err r = lbx_config_parse(text, "t.conf", table, &c, &e);

    if (r != LBX_OK) {
        print_message("# %s\n", e.detail);
        assert_int_equal(e.code, r);
        if (want_detail != NULL)
            assert_string_equal(e.detail, want_detail);
    }
    lbx_config_free(table, &c);
    return r;
}

static void test_valid_file(void **state)
{
    struct conf c = {0};
    const char *text = "# lockbox\n\n  broker_url = \"https://b:8443/x=y\"  \n"
                       "port=8443\r\nenabled = Yes\n\ttimeout = 1m30s\n# end";

    assert_int_equal(lbx_config_parse(text, "t.conf", table, &c, NULL), LBX_OK);
    assert_string_equal(c.broker_url, "https://b:8443/x=y");
    assert_int_equal(c.port, 8443);
    assert_int_equal(c.enabled, 1);
    assert_int_equal(c.timeout, 90);
    lbx_config_free(table, &c);
    assert_null(c.broker_url);
    assert_int_equal(parse("", NULL), LBX_OK);
    assert_int_equal(parse("enabled = off\n", NULL), LBX_OK);
    assert_int_equal(parse("port = 1\nport2 = 2\n", "t.conf:2: unknown key 'port2'"),
                     LBX_ERR_CONFIG);
}

static void test_bad_lines(void **state)
{
    char long_line[1100];

    assert_int_equal(parse("port = 22\nbogus = 1\n", "t.conf:2: unknown key 'bogus'"),
                     LBX_ERR_CONFIG);
    assert_int_equal(parse("Port = 22\n", "t.conf:1: unknown key 'Port'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("port = 22\n\nport = 23\n", "t.conf:3: 'port' set twice"),
                     LBX_ERR_CONFIG);
    assert_int_equal(parse("# c\nenabled\n", "t.conf:2: expected 'key = value'"), LBX_ERR_CONFIG);
    assert_int_equal(parse(" = 5\n", "t.conf:1: expected 'key = value'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("broker_url = a\x1b[2Jb\n", "t.conf:1: control character"),
                     LBX_ERR_CONFIG);
    assert_int_equal(parse("broker_url = a\rb\n", "t.conf:1: control character"), LBX_ERR_CONFIG);
    memset(long_line, 'x', sizeof(long_line));
    memcpy(long_line, "broker_url=", 11);
    long_line[1025] = '\0'; /* 1025 characters */
    assert_int_equal(parse(long_line, "t.conf:1: line too long"), LBX_ERR_CONFIG);
    long_line[1024] = '\0'; /* 1024: the longest accepted */
    assert_int_equal(parse(long_line, NULL), LBX_OK);
}

static void test_bad_values(void **state)
{
    static const char *bad[] = {
        "port = 0",
        "port = 65536",
        "port = -1",
        "port = 12abc",
        "port = ",
        "port = 0x10",
        "port = 99999999999999999999",
        "port = 1.5",
        "enabled = maybe",
        "enabled = 2",
        "enabled = ",
        "enabled = yess",
        "timeout = 0",
        "timeout = 301",
        "timeout = 5x",
        "timeout = -5",
        "timeout = ",
        "timeout = 1h",
        "timeout = 99999999999999999999s",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("# '%s'\n", bad[i]);
        assert_int_equal(parse(bad[i], NULL), LBX_ERR_CONFIG);
    }
    assert_int_equal(parse("port = 70000", "t.conf:1: port must be an integer in [1, 65535]"),
                     LBX_ERR_CONFIG);
    assert_int_equal(
        parse("timeout = 5m1s", "t.conf:1: timeout must be a duration between 1s and 300s"),
        LBX_ERR_CONFIG);
    assert_int_equal(parse("port = 65535\ntimeout = 300\nenabled = FALSE", NULL), LBX_OK);
}

/* One line parsed; the broker_url it set (malloc'd) or NULL when refused (detail checked). */
static char *url_of(const char *text, const char *want_detail)
{
    struct conf c = {0};
    struct lbx_error e = {0};

    if (lbx_config_parse(text, "t.conf", table, &c, &e) != LBX_OK) {
        print_message("# %s\n", e.detail);
        if (want_detail != NULL)
            assert_string_equal(e.detail, want_detail);
        lbx_config_free(table, &c);
        return NULL;
    }
    return c.broker_url;
}

static void assert_url(const char *text, const char *want)
{
    char *got = url_of(text, NULL);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* A comment after a value is a comment in every kind of value, so what the parser keeps is what
 * the program that reads the value sees (a "listen = host:port # note" must not pass a check
 * and then fail the daemon). */
static void test_comments_after_values(void **state)
{
    struct conf c = {0};

    assert_url("broker_url = https://b:8443 # the broker\n", "https://b:8443");
    assert_url("broker_url = https://b:8443\t# tab, then comment\n", "https://b:8443");
    assert_url("broker_url = https://b:8443 #\n", "https://b:8443");
    assert_url("broker_url = https://b:8443 ## twice # and again\n", "https://b:8443");
    assert_url("broker_url = a#b\n", "a#b"); /* no blank before '#': part of the value */
    assert_url("broker_url = https://b/#frag # c\n", "https://b/#frag");
    assert_url("broker_url=https://b#x\n", "https://b#x");
    assert_url("broker_url = https://b:8443   \t  \n", "https://b:8443");
    assert_url("broker_url = https://b:8443 # c\r\n", "https://b:8443"); /* CRLF file */
    assert_url("\t  broker_url\t=\thttps://b  # c\n", "https://b");
    assert_url("broker_url = a = b # c\n", "a = b");
    assert_int_equal(lbx_config_parse("port = 8443 # HTTPS\nenabled = yes # on\n"
                                      "timeout = 30s # half a minute\n",
                                      "t.conf", table, &c, NULL),
                     LBX_OK);
    assert_int_equal(c.port, 8443);
    assert_int_equal(c.enabled, 1);
    assert_int_equal(c.timeout, 30);
    /* A value made only of a comment is no value, not the comment. */
    assert_null(url_of("broker_url = # none yet\n", "t.conf:1: broker_url: no value"));
    assert_null(url_of("broker_url =#none\n", "t.conf:1: broker_url: no value"));
    assert_null(url_of("broker_url =\n", "t.conf:1: broker_url: no value"));
    assert_null(url_of("broker_url =    \t\n", "t.conf:1: broker_url: no value"));
    assert_int_equal(parse("port = # 22\n", "t.conf:1: port: no value"), LBX_ERR_CONFIG);
    assert_int_equal(parse("port = 22#\n", NULL), LBX_ERR_CONFIG); /* "22#" is not a number */
    assert_int_equal(parse("port # = 22\n", "t.conf:1: unknown key 'port #'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("# port = 22\n  # port = x\n\t#\n#\n", NULL), LBX_OK);
}

static void test_quoted_values(void **state)
{
    assert_url("broker_url = \"https://b # not a comment\"\n", "https://b # not a comment");
    assert_url("broker_url = \"https://b\" # a comment\n", "https://b");
    assert_url("broker_url = \"https://b\"# a comment\n", "https://b");
    assert_url("broker_url = \"https://b\"   \n", "https://b");
    assert_url("broker_url = \"  blanks kept  \"\n", "  blanks kept  ");
    assert_url("broker_url = \"#\"\n", "#");
    assert_url("broker_url = \"a=b\"\n", "a=b");
    assert_url("broker_url = \"tab\there\"\n", "tab\there");
    assert_null(url_of("broker_url = \"\"\n", "t.conf:1: broker_url: no value"));
    assert_null(url_of("broker_url = \"https://b\n", "t.conf:1: broker_url: unterminated quote"));
    assert_null(url_of("broker_url = \"\n", "t.conf:1: broker_url: unterminated quote"));
    assert_null(url_of("broker_url = \"a\"b\"\n",
                       "t.conf:1: broker_url: text after the closing quote (a comment starts "
                       "with '#')"));
    assert_null(url_of("broker_url = \"a\" b\n", NULL));
    assert_null(url_of("broker_url = \"a\"\"b\"\n", NULL));
    assert_null(url_of("broker_url = a\"b\n",
                       "t.conf:1: broker_url: quote inside a value (quote the whole value)"));
    assert_null(url_of("broker_url = a \"b # c\"\n", NULL));
    assert_null(url_of("broker_url = https://b\"\n", NULL));
    assert_url("broker_url = https://b # say \"hi\"\n", "https://b"); /* quotes in a comment */
    assert_int_equal(parse("port = \"22\"\nenabled = \"no\" # quoted\n", NULL), LBX_OK);
    assert_int_equal(parse("port = \"22 # x\"\n", NULL), LBX_ERR_CONFIG); /* quoted: no comment */
}

/* Bytes no editor shows: refused with the line, never taken into a value. */
static void test_hostile_bytes(void **state)
{
    char line[3000], *got;
    size_t i;
    static const char *const refused[] = {
        "broker_url = a\rb\n",        "broker_url = a\r\rb # c\n", "broker_url = \"a\rb\"\n",
        "broker_url = a # \x1b[2J\n", "broker_url = a\x7f\n",      "broker_url = a\x01\n",
        "broker_url = \"a\x1b\"\n",   "\x1b[1mbroker_url = a\n",   "broker_url = a\v\n",
        "broker_url = a\f\n",         "broker_url = a\r\r\n",      "# a comment \x1b[2J\n",
        "\vbroker_url = a\n",
    };

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_null(url_of(refused[i], "t.conf:1: control character"));
    assert_url("broker_url = https://b\r\n", "https://b");
    assert_url("broker_url = caf\xc3\xa9 # utf-8\n", "caf\xc3\xa9");
    /* The length limit counts the whole line, comment included: a long comment cannot hide an
     * unchecked tail, and a quoted value cannot outrun the line buffer. */
    memset(line, 'x', sizeof(line));
    memcpy(line, "broker_url = \"", 14);
    line[1023] = '"';
    line[1024] = '\0';
    got = url_of(line, NULL); /* 1024 characters: the longest line accepted */
    assert_non_null(got);
    assert_int_equal(strlen(got), 1024 - 15);
    free(got);
    line[1023] = 'x';
    line[1024] = '"';
    line[1025] = '\0';
    assert_null(url_of(line, "t.conf:1: line too long"));
    memset(line, '#', sizeof(line));
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(parse(line, "t.conf:1: line too long"), LBX_ERR_CONFIG);
    memcpy(line, "broker_url = a ", 15);
    line[1500] = '\0';
    assert_int_equal(parse(line, "t.conf:1: line too long"), LBX_ERR_CONFIG);
}

static lbx_err load(const char *dir, const char *text, size_t len, unsigned mode, int uid,
                    enum lbx_file_trust trust)
{
    char *path = forge_printf("%s/lockbox.conf", dir);
    struct conf c = {0};
    struct lbx_error e = {0};
    lbx_err r;

    unlink(path);
    forge_write_file(path, text, len, mode);
    if (uid >= 0)
        assert_int_equal(chown(path, (uid_t)uid, (gid_t)-1), 0);
    r = lbx_config_load(path, trust, table, &c, &e);
    if (r != LBX_OK) {
        print_message("# %s\n", e.detail);
        assert_non_null(strstr(e.detail, path));
    }
    lbx_config_free(table, &c);
    free(path);
    return r;
}

static void test_file_trust(void **state)
{
    char *dir = forge_tmpdir(), big[LBX_CONFIG_MAX_SIZE + 2], *link, *path;
    const char ok[] = "port = 22\n";

    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0644, -1, LBX_FILE_TRUSTED), LBX_OK);
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0664, -1, LBX_FILE_TRUSTED), LBX_ERR_FILE_PERM);
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0646, -1, LBX_FILE_TRUSTED), LBX_ERR_FILE_PERM);
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0644, 65534, LBX_FILE_TRUSTED),
                     LBX_ERR_FILE_PERM);
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0664, -1, LBX_FILE_ANY), LBX_OK);
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0640, -1, LBX_FILE_SECRET), LBX_ERR_FILE_PERM);
    assert_int_equal(load(dir, "port = 22\0bogus = 1\n", 20, 0644, -1, LBX_FILE_TRUSTED),
                     LBX_ERR_CONFIG); /* NUL byte: the text after it must not be ignored */
    memset(big, '#', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(load(dir, big, sizeof(big), 0644, -1, LBX_FILE_TRUSTED), LBX_ERR_TOO_LARGE);
    path = forge_printf("%s/lockbox.conf", dir);
    link = forge_printf("%s/link.conf", dir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(lbx_config_load(link, LBX_FILE_TRUSTED, table, &(struct conf){0}, NULL),
                     LBX_ERR_FILE_PERM);
    free(link);
    free(path);
    forge_rmdir(dir);
}

static void test_module_arguments(void **state)
{
    struct conf c = {0};
    struct lbx_error e = {0};

    assert_int_equal(lbx_config_set_arg("port=2222", "arg 1", table, &c, &e), LBX_OK);
    assert_int_equal(lbx_config_set_arg("broker_url=https://a", "arg 2", table, &c, &e), LBX_OK);
    assert_int_equal(lbx_config_set_arg("broker_url=https://b", "arg 3", table, &c, &e), LBX_OK);
    assert_string_equal(c.broker_url, "https://b"); /* a later argument replaces (no leak) */
    assert_int_equal(c.port, 2222);
    assert_int_equal(lbx_config_set_arg("debug", "arg 4", table, &c, &e), LBX_ERR_CONFIG);
    assert_string_equal(e.detail, "arg 4: expected 'key = value'");
    assert_int_equal(lbx_config_set_arg("nope=1", "arg 5", table, &c, &e), LBX_ERR_CONFIG);
    assert_string_equal(e.detail, "arg 5: unknown key 'nope'");
    assert_int_equal(lbx_config_set_arg("port=0", "arg 6", table, &c, &e), LBX_ERR_CONFIG);
    assert_int_equal(c.port, 2222); /* a refused value changes nothing */
    {
        char arg[1100];
        memset(arg, 'a', sizeof(arg));
        memcpy(arg, "broker_url=", 11);
        arg[sizeof(arg) - 1] = '\0';
        assert_int_equal(lbx_config_set_arg(arg, "arg 7", table, &c, &e), LBX_ERR_CONFIG);
        assert_string_equal(e.detail, "arg 7: argument too long");
    }
    assert_int_equal(lbx_config_set_arg("broker_url=https://c #note", "arg 8", table, &c, &e),
                     LBX_OK);
    assert_string_equal(c.broker_url, "https://c"); /* same rule as a line of the file */
    assert_int_equal(lbx_config_set_arg("broker_url=", "arg 9", table, &c, &e), LBX_ERR_CONFIG);
    assert_string_equal(e.detail, "arg 9: broker_url: no value");
    assert_string_equal(c.broker_url, "https://c");
    lbx_config_free(table, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file),    cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_bad_values),    cmocka_unit_test(test_comments_after_values),
        cmocka_unit_test(test_quoted_values), cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_file_trust),    cmocka_unit_test(test_module_arguments),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
