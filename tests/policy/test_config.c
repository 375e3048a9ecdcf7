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
    assert_int_equal(parse("port = 1\nport2 = 2\n", "t.conf:2: unknown key 'port2'"), LBX_ERR_CONFIG);
}

static void test_bad_lines(void **state)
{
    char long_line[1100];

    assert_int_equal(parse("port = 22\nbogus = 1\n", "t.conf:2: unknown key 'bogus'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("Port = 22\n", "t.conf:1: unknown key 'Port'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("port = 22\n\nport = 23\n", "t.conf:3: 'port' set twice"), LBX_ERR_CONFIG);
    assert_int_equal(parse("# c\nenabled\n", "t.conf:2: expected 'key = value'"), LBX_ERR_CONFIG);
    assert_int_equal(parse(" = 5\n", "t.conf:1: expected 'key = value'"), LBX_ERR_CONFIG);
    assert_int_equal(parse("broker_url = a\x1b[2Jb\n", "t.conf:1: control character"), LBX_ERR_CONFIG);
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
        "port = 0", "port = 65536", "port = -1", "port = 12abc", "port = ", "port = 0x10",
        "port = 99999999999999999999", "port = 1.5", "enabled = maybe", "enabled = 2",
        "enabled = ", "enabled = yess", "timeout = 0", "timeout = 301", "timeout = 5x",
        "timeout = -5", "timeout = ", "timeout = 1h", "timeout = 99999999999999999999s",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("# '%s'\n", bad[i]);
        assert_int_equal(parse(bad[i], NULL), LBX_ERR_CONFIG);
    }
    assert_int_equal(parse("port = 70000", "t.conf:1: port must be an integer in [1, 65535]"),
                     LBX_ERR_CONFIG);
    assert_int_equal(parse("timeout = 5m1s", "t.conf:1: timeout must be a duration between 1s and 300s"),
                     LBX_ERR_CONFIG);
    assert_int_equal(parse("port = 65535\ntimeout = 300\nenabled = FALSE", NULL), LBX_OK);
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
    assert_int_equal(load(dir, ok, sizeof(ok) - 1, 0644, 65534, LBX_FILE_TRUSTED), LBX_ERR_FILE_PERM);
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
    lbx_config_free(table, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_file_trust),
        cmocka_unit_test(test_module_arguments),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
