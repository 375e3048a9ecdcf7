/* Session confinement against the real kernel: processes that daemonize every way we know
 * (setsid, double fork, ignoring SIGHUP/SIGTERM, forking in a loop) are put in a real cgroup
 * (v2 and v1 freezer), and one lbx_cgroup_kill() must leave none of them alive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "proc.h"

#define ESCAPEES 4

static const char hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_parse_mountinfo(void **state)
{
    struct lbx_cgroup_mounts m;

    assert_int_equal(lbx_cgroup_parse_mountinfo(hybrid, &m), LBX_OK);
    assert_string_equal(m.v2, "/sys/fs/cgroup/unified");
    assert_string_equal(m.freezer, "/sys/fs/cgroup/freezer");
    assert_int_equal(lbx_cgroup_parse_mountinfo("25 1 0:22 / /sys/fs/cgroup rw shared:4 - cgroup2 "
                                                "cgroup2 rw,nsdelegate\n",
                                                &m),
                     LBX_OK);
    assert_string_equal(m.v2, "/sys/fs/cgroup");
    assert_string_equal(m.freezer, "");
    /* "freezer" must be a whole option, a blank in the mount point is escaped: neither counts. */
    assert_int_equal(lbx_cgroup_parse_mountinfo("1 1 0:1 / /x rw - cgroup c rw,notfreezer\n"
                                                "2 1 0:2 / /a\\040b rw - cgroup2 c rw\n"
                                                "garbage line\n",
                                                &m),
                     LBX_ERR_NOT_FOUND);
}

static void test_parse_proc(void **state)
{
    const char *text = "9:name=systemd:/user.slice/session-3.scope\n"
                       "6:cpu,freezer:/lockbox/s-abc\n"
                       "0::/lockbox/s-def:odd\n";
    char out[256];

    assert_int_equal(lbx_cgroup_parse_proc(text, LBX_CGROUP_V2, out, sizeof(out)), LBX_OK);
    assert_string_equal(out, "/lockbox/s-def:odd");
    assert_int_equal(lbx_cgroup_parse_proc(text, LBX_CGROUP_FREEZER, out, sizeof(out)), LBX_OK);
    assert_string_equal(out, "/lockbox/s-abc");
    assert_int_equal(lbx_cgroup_parse_proc("1:cpu:/\n", LBX_CGROUP_V2, out, sizeof(out)),
                     LBX_ERR_NOT_FOUND);
    assert_int_not_equal(lbx_cgroup_parse_proc("0::/x\n", LBX_CGROUP_V2, out, 2), LBX_OK);
}

/* In the cgroup: a process that starts every kind of escapee and reports their pids. */
static void escape_artist(int report)
{
    pid_t p;
    int i;

    for (i = 0; i < ESCAPEES; i++) {
        if ((p = fork()) == 0) {
            signal(SIGHUP, SIG_IGN);
            signal(SIGTERM, SIG_IGN);
            if (i == 1)
                setsid();
            if (i == 2 && fork() != 0) /* double fork: the parent goes, the child stays */
                _exit(0);
            if (i == 3)
                for (;;)
                    if (fork() == 0) /* keeps forking short-lived children */
                        _exit(0);
            pid_t me = getpid();
            if (write(report, &me, sizeof(me)) != sizeof(me))
                _exit(1);
            for (;;)
                pause();
        }
        if (i == 3 && write(report, &p, sizeof(p)) != sizeof(p))
            _exit(1);
    }
    for (;;)
        pause();
}

/* A "sshd monitor" (pauses) and a session (every kind of escapee) in cg; pids[] gets the
 * escapees, *monitor and *child (the session's first process); returns the read end of the pipe
 * the escapees reported on. */
static int populate(const struct lbx_cgroup *cg, pid_t *monitor, pid_t *child, pid_t *pids)
{
    int fds[2], i;

    assert_int_equal(pipe(fds), 0);
    if ((*monitor = fork()) == 0) {
        for (;;)
            pause();
    }
    assert_int_equal(lbx_cgroup_attach(cg, *monitor, NULL), LBX_OK);
    if ((*child = fork()) == 0) {
        if (lbx_cgroup_attach(cg, getpid(), NULL) != LBX_OK)
            _exit(1);
        close(fds[0]);
        escape_artist(fds[1]);
    }
    close(fds[1]);
    for (i = 0; i < ESCAPEES; i++)
        assert_int_equal(read(fds[0], &pids[i], sizeof(pids[i])), sizeof(pids[i]));
    return fds[0];
}

static void run_kill(enum lbx_cgroup_kind kind, const char *mount)
{
    struct lbx_cgroup cg = {kind, "", ""}, keeper;
    pid_t child, pids[ESCAPEES + 1], monitor;
    int fd, i, status;
    char origin[LBX_CGROUP_PATH_MAX];

    strcpy(cg.mount, mount);
    snprintf(cg.path, sizeof(cg.path), "/lockbox-unit-%d/s-test", (int)getpid());
    assert_int_equal(lbx_cgroup_create(&cg, NULL), LBX_OK);
    assert_int_not_equal(lbx_cgroup_create(&cg, NULL), LBX_OK); /* a session id is never reused */
    assert_int_equal(lbx_cgroup_of_pid(getpid(), kind, origin, sizeof(origin)), LBX_OK);
    /* The "sshd monitor": in the cgroup, moved out before the kill, must survive it. */
    fd = populate(&cg, &monitor, &child, pids);
    pids[ESCAPEES] = child;
    assert_true(lbx_cgroup_procs(&cg, NULL, 0) >= ESCAPEES + 2);
    keeper = cg;
    assert_int_equal(lbx_cgroup_attach_path(&keeper, origin, monitor, NULL), LBX_OK);
    assert_int_equal(lbx_cgroup_kill(&cg, 2000, NULL), LBX_OK);
    assert_int_equal(lbx_cgroup_procs(&cg, NULL, 0), 0);
    waitpid(child, &status, 0);
    for (i = 0; i < ESCAPEES; i++) {
        char st = lbx_proc_state(pids[i]);
        assert_true(st == 0 || st == 'Z' || st == 'X');
    }
    assert_true(kill(monitor, 0) == 0 && lbx_proc_state(monitor) != 'Z');
    assert_int_equal(lbx_cgroup_remove(&cg, NULL), LBX_OK);
    assert_int_equal(lbx_cgroup_remove(&cg, NULL), LBX_OK); /* gone already is fine */
    assert_int_equal(lbx_cgroup_procs(&cg, NULL, 0), -1);
    kill(monitor, SIGKILL);
    waitpid(monitor, &status, 0);
    snprintf(origin, sizeof(origin), "%s/lockbox-unit-%d", mount, (int)getpid());
    rmdir(origin);
    close(fd);
}

static void test_kill_v2(void **state)
{
    struct lbx_cgroup_mounts m;

    if (lbx_cgroup_find_mounts(&m, NULL) != LBX_OK || m.v2[0] == '\0' || geteuid() != 0)
        skip();
    run_kill(LBX_CGROUP_V2, m.v2);
}

static void test_kill_freezer(void **state)
{
    struct lbx_cgroup_mounts m;

    if (lbx_cgroup_find_mounts(&m, NULL) != LBX_OK || m.freezer[0] == '\0' || geteuid() != 0)
        skip();
    run_kill(LBX_CGROUP_FREEZER, m.freezer);
}

/* The logind case: the "monitor" stays in the cgroup and must be the one survivor, whether the
 * caller is outside (the reaper: frozen kill) or inside it (sshd's close: round by round). */
static void run_kill_except(const char *mount, int caller_inside)
{
    struct lbx_cgroup cg = {LBX_CGROUP_V2, "", ""}, home = cg;
    char origin[LBX_CGROUP_PATH_MAX];
    pid_t child, monitor, pids[ESCAPEES];
    int fd, i, status;

    strcpy(cg.mount, mount);
    home = cg;
    snprintf(cg.path, sizeof(cg.path), "/lockbox-unit-%d/s-except", (int)getpid());
    assert_int_equal(lbx_cgroup_create(&cg, NULL), LBX_OK);
    assert_int_equal(lbx_cgroup_of_pid(getpid(), LBX_CGROUP_V2, origin, sizeof(origin)), LBX_OK);
    fd = populate(&cg, &monitor, &child, pids);
    if (caller_inside)
        assert_int_equal(lbx_cgroup_attach(&cg, getpid(), NULL), LBX_OK);
    pid_t keep[2] = {monitor, getpid()};
    assert_int_equal(lbx_cgroup_kill_except(&cg, keep, 2, 2000, NULL), LBX_OK);
    waitpid(child, &status, 0);
    for (i = 0; i < ESCAPEES; i++) {
        char st = lbx_proc_state(pids[i]);
        assert_true(st == 0 || st == 'Z' || st == 'X');
    }
    assert_true(lbx_proc_state(monitor) != 0 && lbx_proc_state(monitor) != 'Z');
    assert_int_equal(lbx_cgroup_procs(&cg, NULL, 0), caller_inside ? 2 : 1);
    /* Not left frozen. */
    assert_int_equal(lbx_cgroup_attach_path(&home, origin, getpid(), NULL), LBX_OK);
    kill(monitor, SIGKILL);
    waitpid(monitor, &status, 0);
    assert_int_equal(lbx_cgroup_procs(&cg, NULL, 0), 0);
    assert_int_equal(lbx_cgroup_remove(&cg, NULL), LBX_OK);
    snprintf(origin, sizeof(origin), "%s/lockbox-unit-%d", mount, (int)getpid());
    rmdir(origin);
    close(fd);
}

static void test_kill_except_outside(void **state)
{
    struct lbx_cgroup_mounts m;

    if (lbx_cgroup_find_mounts(&m, NULL) != LBX_OK || m.v2[0] == '\0' || geteuid() != 0)
        skip();
    run_kill_except(m.v2, 0);
}

static void test_kill_except_inside(void **state)
{
    struct lbx_cgroup_mounts m;

    if (lbx_cgroup_find_mounts(&m, NULL) != LBX_OK || m.v2[0] == '\0' || geteuid() != 0)
        skip();
    run_kill_except(m.v2, 1);
}

static void test_plan(void **state)
{
    struct lbx_cgroup cg;

    if (lbx_cgroup_plan("auto", "lockbox", "s-x", &cg, NULL) != LBX_OK)
        skip();
    assert_true(cg.kind != LBX_CGROUP_NONE);
    if (cg.kind != LBX_CGROUP_LOGIND)
        assert_string_equal(cg.path, "/lockbox/s-x");
    assert_int_not_equal(lbx_cgroup_plan("v3", "lockbox", "s-x", &cg, NULL), LBX_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mountinfo),
        cmocka_unit_test(test_parse_proc),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_kill_v2),
        cmocka_unit_test(test_kill_freezer),
        cmocka_unit_test(test_kill_except_outside),
        cmocka_unit_test(test_kill_except_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
