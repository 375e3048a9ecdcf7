/* lbx_proc_kill_uid against the real kernel, with processes of a uid that no account owns:
 * a fork bomb outside any cgroup of ours, a process that kills its own uid's processes (the
 * killer among them) in a loop, a process that holds the uid only as its effective uid, and
 * root, which is never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

static uid_t test_uid(void)
{
    return (uid_t)(61000 + getpid() % 3000);
}

static void become(uid_t ruid, uid_t euid, uid_t suid)
{
    struct rlimit nproc = {400, 400}; /* the bomb is bounded: the machine stays usable */

    if (setrlimit(RLIMIT_NPROC, &nproc) != 0 || syscall(SYS_setresuid, ruid, euid, suid) != 0)
        _exit(3);
}

static void wait_for(uid_t uid, int at_least)
{
    int i;

    for (i = 0; i < 500 && lbx_proc_for_uid(uid, NULL, NULL) < at_least; i++)
        usleep(2000);
}

/* Dying processes need a moment to leave /proc. */
static void wait_for_none(uid_t uid)
{
    int i;

    for (i = 0; i < 500 && lbx_proc_for_uid(uid, NULL, NULL) > 0; i++)
        usleep(2000);
}

/* A child of ours that becomes uid and runs body; reaped by the caller. */
static pid_t spawn_as(uid_t uid, void (*body)(void))
{
    pid_t p = fork();

    if (p == 0) {
        setsid();
        become(uid, uid, uid);
        body();
        _exit(0);
    }
    return p;
}

static void fork_bomb(void)
{
    for (;;)
        if (fork() < 0)
            usleep(100);
}

static void uid_killer(void)
{
    if (fork() == 0)
        fork_bomb();
    for (;;)
        kill(-1, SIGKILL); /* kills every process of the uid it may: the sweeper's child too */
}

static void reap_all(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void test_fork_bomb(void **state)
{
    uid_t uid = test_uid();
    pid_t bomb;

    if (geteuid() != 0)
        skip();
    bomb = spawn_as(uid, fork_bomb);
    wait_for(uid, 50);
    assert_true(lbx_proc_for_uid(uid, NULL, NULL) >= 50);
    assert_int_equal(lbx_proc_kill_uid(uid, 3000), 0);
    usleep(100000); /* and it stays so: nothing was left to fork again */
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 0);
    waitpid(bomb, NULL, 0);
    reap_all();
}

static void test_killer_of_its_own_uid(void **state)
{
    uid_t uid = test_uid() + 1;
    pid_t p;

    if (geteuid() != 0)
        skip();
    p = spawn_as(uid, uid_killer);
    wait_for(uid, 2);
    assert_int_equal(lbx_proc_kill_uid(uid, 3000), 0);
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 0);
    waitpid(p, NULL, 0);
    reap_all();
}

static void test_effective_uid_only(void **state)
{
    uid_t uid = test_uid() + 2;
    pid_t p;

    if (geteuid() != 0)
        skip();
    if ((p = fork()) == 0) {
        become(0, uid, 0); /* kill(-1) as uid cannot reach it: root must */
        for (;;)
            pause();
    }
    wait_for(uid, 1);
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 1);
    assert_int_equal(lbx_proc_kill_uid(uid, 1000), 0);
    waitpid(p, NULL, 0);
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 0);
}

static void test_nothing_to_kill_and_root(void **state)
{
    assert_int_equal(lbx_proc_kill_uid(0, 1000), -1);
    if (geteuid() != 0)
        skip();
    assert_int_equal(lbx_proc_kill_uid(test_uid() + 3, 1000), 0);
    assert_true(kill(getppid(), 0) == 0); /* whoever runs us is untouched */
    reap_all();
}

static volatile sig_atomic_t sigchld_seen;

static void on_sigchld(int sig)
{
    sigchld_seen++;
}

/* Inside sshd a SIGCHLD of ours would reach sshd's handler: the killer raises none. */
static void test_no_sigchld(void **state)
{
    uid_t uid = test_uid() + 4;
    pid_t middle;

    if (geteuid() != 0)
        skip();
    if ((middle = fork()) == 0) {
        if (fork() == 0) {
            become(uid, uid, uid);
            for (;;)
                pause();
        }
        _exit(0);
    }
    waitpid(middle, NULL, 0);
    wait_for(uid, 1);
    signal(SIGCHLD, on_sigchld);
    sigchld_seen = 0;
    assert_int_equal(lbx_proc_kill_uid(uid, 1000), 0);
    usleep(50000);
    signal(SIGCHLD, SIG_DFL);
    assert_int_equal(sigchld_seen, 0);
}

static void sleeper(void)
{
    pause();
}

/* A logout's one pass: a fork bomb of the uid dies whole (the pass is atomic against fork),
 * and a process of the uid that starts after the pass is not touched; root never is. */
static void test_one_pass(void **state)
{
    uid_t uid = test_uid() + 5;
    pid_t bomb, later;

    if (geteuid() != 0)
        skip();
    bomb = spawn_as(uid, fork_bomb);
    wait_for(uid, 50);
    lbx_proc_kill_uid_once(uid);
    waitpid(bomb, NULL, 0);
    reap_all();
    wait_for_none(uid);
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 0);
    later = spawn_as(uid, sleeper);
    wait_for(uid, 1);
    usleep(50000);
    assert_int_equal(lbx_proc_for_uid(uid, NULL, NULL), 1);
    kill(later, SIGKILL);
    waitpid(later, NULL, 0);
    lbx_proc_kill_uid_once(0); /* refused: nothing happens to root */
    assert_int_equal(kill(getpid(), 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_bomb),          cmocka_unit_test(test_killer_of_its_own_uid),
        cmocka_unit_test(test_effective_uid_only), cmocka_unit_test(test_nothing_to_kill_and_root),
        cmocka_unit_test(test_no_sigchld),         cmocka_unit_test(test_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
