/* lib/host/systemd_unit.c opens libsystemd at its first bus call instead of linking it. Each
 * case runs in a fresh copy of this program (the library is opened once per process) whose
 * LD_LIBRARY_PATH puts a stand-in first: none at all (the system's own library, on a host
 * without a system bus here), a file that is no library, and a library without sd-bus. Every
 * case must end in an error that says why, never in a crash or a success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "systemd_unit.h"

static char self[4096];

/* Runs this program as `--case` with LD_LIBRARY_PATH=dir (NULL: unset); returns its output. */
static char *run_case(const char *dir)
{
    static char out[1024];
    int fds[2], status;
    ssize_t n, got = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        if (dir != NULL)
            setenv("LD_LIBRARY_PATH", dir, 1);
        else
            unsetenv("LD_LIBRARY_PATH");
        execl(self, self, "--case", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while ((n = read(fds[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
        got += n;
    close(fds[0]);
    out[got] = '\0';
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return out;
}

/* The case itself: both calls fail, and say why. */
static int one_case(void)
{
    struct lbx_error e1 = {0}, e2 = {0};
    lbx_err r1 = lbx_systemd_enter_scope("lockbox-test-x.scope", "test", 10, &e1);
    lbx_err r2 = lbx_systemd_forget_user_manager(61999, 10, &e2);

    printf("%d %d|%s|%s", r1, r2, e1.detail, e2.detail);
    return 0;
}

static void stand_in(char *dir, const char *content_from)
{
    char path[4200];
    int fd;

    strcpy(dir, "/tmp/lbx-sdunit.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/libsystemd.so.0", dir);
    if (content_from == NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "not a library\n", 14), 14);
        close(fd);
    } else {
        assert_int_equal(symlink(content_from, path), 0);
    }
}

static void remove_stand_in(const char *dir)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/libsystemd.so.0", dir);
    unlink(path);
    rmdir(dir);
}

static void expect_error(const char *out, const char *reason)
{
    char want[64];

    snprintf(want, sizeof(want), "%d %d|", LBX_ERR_SYSTEM, LBX_ERR_SYSTEM);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    assert_non_null(strstr(out, reason));
}

static void test_real_library_no_bus(void **state)
{
    /* The library loads and is called: what fails is the bus, absent on this machine. */
    char *out;

    if (access("/run/systemd/private", F_OK) == 0 ||
        access("/run/dbus/system_bus_socket", F_OK) == 0)
        skip(); /* a real bus would answer: not this case */
    out = run_case(NULL);
    expect_error(out, "systemd's bus: ");
    assert_null(strstr(out, "libsystemd.so.0"));
}

static void test_not_a_library(void **state)
{
    char dir[64];
    char *out;

    stand_in(dir, NULL);
    out = run_case(dir);
    remove_stand_in(dir);
    expect_error(out, "systemd's bus: ");
    expect_error(out, "libsystemd.so.0");
}

/* The path of a shared library this program has loaded (jansson, linked by the host code). */
static void loaded_library(const char *name, char *path, size_t len)
{
    char line[4400], *p;
    FILE *f = fopen("/proc/self/maps", "re");

    path[0] = '\0';
    while (f != NULL && path[0] == '\0' && fgets(line, sizeof(line), f) != NULL)
        if ((p = strchr(line, '/')) != NULL && strstr(p, name) != NULL) {
            p[strcspn(p, "\n")] = '\0';
            snprintf(path, len, "%s", p);
        }
    if (f != NULL)
        fclose(f);
    assert_true(path[0] == '/');
}

static void test_library_without_sd_bus(void **state)
{
    char dir[64], lib[4096];
    char *out;

    /* A real shared library that is not libsystemd: it loads, its symbols are missing. */
    loaded_library("libjansson.so", lib, sizeof(lib));
    stand_in(dir, lib);
    out = run_case(dir);
    remove_stand_in(dir);
    expect_error(out, "libsystemd.so.0 has no sd_bus_new");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_library_no_bus),
        cmocka_unit_test(test_not_a_library),
        cmocka_unit_test(test_library_without_sd_bus),
    };
    ssize_t n;

    if (argc == 2 && strcmp(argv[1], "--case") == 0)
        return one_case();
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    return cmocka_run_group_tests(tests, NULL, NULL);
}
