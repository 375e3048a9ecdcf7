/* The host configuration: one struct from the file and the module arguments, arguments win,
 * unknown keys and unsafe files are errors, and the support group is still known when the
 * configuration is broken (so only support users are refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_config.h"

static char dir[] = "/tmp/lbx-hostconf-test.XXXXXX";
static char path[256], arg_config[300];

static void write_conf(const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_defaults_and_override(void **state)
{
    const char *argv[] = {arg_config, "timeout=1s", "support_group=ops"};
    struct lbx_host_config c;

    write_conf("broker_url = https://b:8443\nhost_id = node-7\ntimeout = 5s\n"
               "support_group = support\nallow_file_transfer = no\n",
               0644);
    assert_int_equal(lbx_host_config_load(&c, 3, argv, LBX_FILE_TRUSTED, NULL), LBX_OK);
    assert_string_equal(c.broker_url, "https://b:8443");
    assert_int_equal(c.timeout, 1); /* argument beats file */
    assert_string_equal(c.support_group, "ops");
    assert_int_equal(c.poll_interval, 5); /* default */
    assert_int_equal(c.long_poll, 25);    /* default: revocation seen at once */
    assert_int_equal(c.leeway, 30);
    assert_string_equal(c.run_dir, "/run/lockbox");
    assert_string_equal(c.cgroup_mode, "auto");
    assert_int_equal(lbx_host_config_require_broker(&c, NULL), LBX_ERR_CONFIG);
    lbx_host_config_free(&c);
}

static void test_errors(void **state)
{
    const char *argv[] = {arg_config};
    const char *unknown_arg[] = {arg_config, "nosuchoption=1"};
    const char *missing[] = {"config=/nonexistent/lockbox.conf"};
    struct lbx_host_config c;
    struct lbx_error e = {0};

    write_conf("broker_url = https://b\nfrobnicate = yes\n", 0644);
    assert_int_equal(lbx_host_config_load(&c, 1, argv, LBX_FILE_TRUSTED, &e), LBX_ERR_CONFIG);
    assert_non_null(strstr(e.detail, ":2: unknown key"));
    lbx_host_config_free(&c);
    write_conf("timeout = 90s\n", 0644);
    assert_int_equal(lbx_host_config_load(&c, 1, argv, LBX_FILE_TRUSTED, NULL), LBX_ERR_CONFIG);
    lbx_host_config_free(&c);
    write_conf("cgroup_mode = v3\n", 0644);
    assert_int_equal(lbx_host_config_load(&c, 1, argv, LBX_FILE_TRUSTED, NULL), LBX_ERR_CONFIG);
    lbx_host_config_free(&c);
    write_conf("host_id = a\n", 0666);
    assert_int_equal(lbx_host_config_load(&c, 1, argv, LBX_FILE_TRUSTED, NULL), LBX_ERR_FILE_PERM);
    lbx_host_config_free(&c);
    write_conf("host_id = a\n", 0644);
    assert_int_equal(lbx_host_config_load(&c, 2, unknown_arg, LBX_FILE_TRUSTED, NULL),
                     LBX_ERR_CONFIG);
    lbx_host_config_free(&c);
    assert_int_not_equal(lbx_host_config_load(&c, 1, missing, LBX_FILE_TRUSTED, NULL), LBX_OK);
    lbx_host_config_free(&c);
}

static void test_fallback_groups(void **state)
{
    const char *with_arg[] = {arg_config, "support_group=from-arg"};
    const char *file_only[] = {arg_config};
    const char *nothing[] = {"config=/nonexistent"};
    char g[LBX_FALLBACK_GROUPS][256];

    write_conf("broken line\nsupport_group = \"from-file\"  \nunknown = 1\n", 0644);
    assert_int_equal(lbx_host_config_fallback_groups(2, with_arg, g), 3);
    assert_string_equal(g[0], "from-arg");
    assert_string_equal(g[1], "from-file");
    assert_string_equal(g[2], "lockbox-support");
    /* A file that failed its ownership check still names its group: it can only add one. */
    write_conf("support_group = from-file\n", 0666);
    assert_int_equal(lbx_host_config_fallback_groups(1, file_only, g), 2);
    assert_string_equal(g[0], "from-file");
    assert_int_equal(lbx_host_config_fallback_groups(1, nothing, g), 1);
    assert_string_equal(g[0], "lockbox-support");
}

/* loads the defaults with session_shell = shell; returns the result, e.detail in why */
static lbx_err load_shell(const char *shell, char *why, size_t len)
{
    char arg[4200];
    const char *argv[] = {arg_config, arg};
    struct lbx_host_config c;
    struct lbx_error e = {0};
    lbx_err r;

    write_conf("host_id = a\n", 0644);
    snprintf(arg, sizeof(arg), "session_shell=%s", shell);
    r = lbx_host_config_load(&c, 2, argv, LBX_FILE_ANY, &e);
    snprintf(why, len, "%s", e.detail);
    lbx_host_config_free(&c);
    return r;
}

static void test_session_shell_paths(void **state)
{
    const char *argv[] = {arg_config};
    struct lbx_host_config c;
    char why[256], link[300];

    write_conf("host_id = a\n", 0644);
    assert_int_equal(lbx_host_config_load(&c, 1, argv, LBX_FILE_ANY, NULL), LBX_OK);
    assert_string_equal(c.session_shell, "/bin/bash");
    lbx_host_config_free(&c);
    assert_int_equal(load_shell("/bin/sh", why, sizeof(why)), LBX_OK); /* a link root keeps */
    assert_int_equal(load_shell("bash", why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "session_shell bash: not an absolute path"));
    assert_int_equal(load_shell("", why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(load_shell("/nonexistent/sh", why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(load_shell("/etc/passwd", why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "not executable"));
    assert_int_equal(load_shell("/usr/bin", why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "not a regular file"));
    /* a link to bash placed where anyone may write (/tmp): swappable, so refused */
    snprintf(link, sizeof(link), "%s/sh", dir);
    assert_int_equal(symlink("/bin/bash", link), 0);
    assert_int_equal(load_shell(link, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "/tmp is not a root-owned directory only root may write"));
    unlink(link);
}

/* A copy of /bin/true in a directory under /run (root's, 0755): mode and owner decide. */
static void test_session_shell_modes(void **state)
{
    char rundir[] = "/run/lbx-shell-test.XXXXXX", prog[64], cmd[128], why[256];

    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(rundir));
    assert_int_equal(chmod(rundir, 0755), 0);
    snprintf(prog, sizeof(prog), "%s/sh", rundir);
    snprintf(cmd, sizeof(cmd), "cp /bin/true %s", prog);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(prog, 0755), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_OK);
    assert_int_equal(chmod(prog, 02755), 0); /* set-ID: the hook itself is one */
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "set-user/group-ID"));
    assert_int_equal(chmod(prog, 04755), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(chmod(prog, 0775), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(chmod(prog, 0750), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(chmod(prog, 0755), 0);
    assert_int_equal(chown(prog, 65534, 0), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_non_null(strstr(why, "not root-owned"));
    assert_int_equal(chown(prog, 0, 0), 0);
    assert_int_equal(chmod(rundir, 0777), 0); /* the directory: anyone could swap the file */
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    assert_int_equal(chmod(rundir, 0755), 0);
    assert_int_equal(chown(rundir, 65534, 0), 0);
    assert_int_equal(load_shell(prog, why, sizeof(why)), LBX_ERR_CONFIG);
    unlink(prog);
    rmdir(rundir);
}

static int setup(void **state)
{
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/host.conf", dir);
    snprintf(arg_config, sizeof(arg_config), "config=%s", path);
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_override), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fallback_groups),       cmocka_unit_test(test_session_shell_paths),
        cmocka_unit_test(test_session_shell_modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
