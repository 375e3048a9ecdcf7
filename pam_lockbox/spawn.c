/* Starting lockbox-reaper from inside sshd's monitor. The reaper must not inherit anything of
 * sshd: it gets its own session, default signal dispositions, an empty signal mask, /dev/null
 * on 0-2, a minimal environment and no descriptor but its go socket. It must not be sshd's
 * child either: sshd would see it end (and reap it, or keep its zombie), and it must outlive
 * the monitor when the monitor is killed.
 *
 * So a short-lived helper starts it: clone(CLONE_VM | CLONE_VFORK) with no exit signal. The
 * helper shares the monitor's memory (nothing of it is copied) while the monitor waits; it
 * posix_spawns the reaper, writes its pid to a pipe and exits, and the reaper is left to init.
 * The monitor waits only until the reaper's exec has started, not until it has loaded: no
 * SIGCHLD is ever raised in sshd (the helper has no exit signal; waited for with __WCLONE) and
 * its handling is never touched. (Under valgrind the clone becomes a fork: the pid comes back
 * through the pipe either way.)
 *
 * The reaper loads (exec, its libraries, configuration, trusted keys) while the module takes
 * and checks the token and writes the record naming it; the module's go (one byte on a
 * socket, which cannot raise SIGPIPE in sshd) then lets it read that record. The module does
 * not wait for it to be armed: sshd forks the user's side meanwhile, and lockbox-session lets
 * nothing of the session's command run before the reaper has marked it armed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pam_internal.h"
#include "proc.h"

#define REAPER_GO_FD 3
#define REAPER_MAX_ARGS 64
#define HELPER_STACK (64 * 1024)
#define HELPER_GUARD 4096

struct spawn_job {
    const char *path;
    char *const *argv;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int pid_fd; /* the helper writes "rc pid" here */
};

/* Descriptors and signals as the reaper must start; 0 or an errno value. go_fd is above
 * REAPER_GO_FD (see fd_high), so placing it cannot overwrite anything the actions use. */
static int job_init(struct spawn_job *j, int go_fd)
{
    sigset_t all, none;
    int rc;

    sigfillset(&all);
    sigemptyset(&none);
    if ((rc = posix_spawn_file_actions_init(&j->fa)) != 0)
        return rc;
    if ((rc = posix_spawnattr_init(&j->at)) != 0) {
        posix_spawn_file_actions_destroy(&j->fa);
        return rc;
    }
    if ((rc = posix_spawn_file_actions_adddup2(&j->fa, go_fd, REAPER_GO_FD)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(&j->fa, 0, "/dev/null", O_RDWR, 0)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&j->fa, 0, 1)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&j->fa, 0, 2)) == 0 &&
        (rc = posix_spawn_file_actions_addclosefrom_np(&j->fa, REAPER_GO_FD + 1)) == 0 &&
        (rc = posix_spawnattr_setsigdefault(&j->at, &all)) == 0 &&
        (rc = posix_spawnattr_setsigmask(&j->at, &none)) == 0)
        rc = posix_spawnattr_setflags(&j->at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSID);
    if (rc != 0) {
        posix_spawnattr_destroy(&j->at);
        posix_spawn_file_actions_destroy(&j->fa);
    }
    return rc;
}

/* The helper: runs on its own stack in the monitor's memory, every signal blocked. */
__attribute__((no_sanitize_address)) static int helper_main(void *arg)
{
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    struct spawn_job *j = arg;
    char line[32];
    pid_t pid = -1;
    int rc, n;

    rc = posix_spawn(&pid, j->path, &j->fa, &j->at, j->argv, envp);
    n = snprintf(line, sizeof(line), "%d %ld", rc, rc == 0 ? (long)pid : -1L);
    if (write(j->pid_fd, line, (size_t)n) != n)
        _exit(1);
    _exit(0);
}

/* Runs the helper and reads what it did: 0 and *pid, or an errno value. */
static int spawn_via_helper(struct spawn_job *j, pid_t *pid)
{
    sigset_t all, old;
    char line[32] = {0}, *stack;
    int fds[2], helper, status, rc = 0;
    long got = -1;
    ssize_t n;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    /* its stack, with a guard page below it: an overflow faults instead of writing into sshd */
    stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED || mprotect(stack, HELPER_GUARD, PROT_NONE) != 0) {
        rc = errno;
        if (stack != MAP_FAILED)
            munmap(stack, HELPER_STACK);
        close(fds[0]), close(fds[1]);
        return rc;
    }
    j->pid_fd = fds[1];
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old); /* no handler of sshd's may run on the helper */
    helper = clone(helper_main, stack + HELPER_STACK, CLONE_VM | CLONE_VFORK, j);
    if (helper < 0)
        rc = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(fds[1]);
    while (helper > 0 && waitpid(helper, &status, __WCLONE) < 0 && errno == EINTR)
        ;
    munmap(stack, HELPER_STACK);
    while ((n = read(fds[0], line, sizeof(line) - 1)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (rc == 0 && (n <= 0 || sscanf(line, "%d %ld", &rc, &got) != 2))
        rc = EIO; /* the helper died before it could say */
    if (rc == 0 && got <= 1)
        rc = EIO;
    *pid = (pid_t)got;
    return rc;
}

static int build_argv(const struct lbx_pam *p, const char *sid, char **argv)
{
    int n = 0, i;

    argv[n++] = (char *)"lockbox-reaper";
    argv[n++] = (char *)"--session";
    argv[n++] = (char *)sid;
    argv[n++] = (char *)"--go-fd";
    argv[n++] = (char *)"3";
    argv[n++] = (char *)"--";
    for (i = 0; i < p->argc && n < REAPER_MAX_ARGS - 1; i++)
        argv[n++] = (char *)p->argv[i];
    argv[n] = NULL;
    return i == p->argc;
}

/* fd moved above the descriptor the reaper is given (close-on-exec); -1 on failure. */
static int fd_high(int fd)
{
    int high;

    if (fd < 0 || fd > REAPER_GO_FD)
        return fd;
    high = fcntl(fd, F_DUPFD_CLOEXEC, REAPER_GO_FD + 1);
    close(fd);
    return high;
}

lbx_err lbx_pam_reaper_spawn(const struct lbx_pam *p, const char *sid, struct lbx_reaper_launch *l,
                             struct lbx_error *e)
{
    struct spawn_job job = {0};
    char *argv[REAPER_MAX_ARGS];
    int go[2] = {-1, -1}, rc;

    *l = (struct lbx_reaper_launch){.pid = -1, .go_fd = -1};
    if (!build_argv(p, sid, argv))
        return lbx_error_set(e, LBX_ERR_ARG, "too many module arguments");
    if (access(p->cfg.reaper_path, X_OK) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", p->cfg.reaper_path, strerror(errno));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0 ||
        (go[1] = fd_high(go[1])) < 0) {
        rc = errno;
        close(go[0]), close(go[1]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "socketpair: %s", strerror(rc));
    }
    job.path = p->cfg.reaper_path;
    job.argv = argv;
    if ((rc = job_init(&job, go[1])) == 0) {
        rc = spawn_via_helper(&job, &l->pid);
        posix_spawnattr_destroy(&job.at);
        posix_spawn_file_actions_destroy(&job.fa);
    }
    close(go[1]);
    l->go_fd = go[0];
    /* Its start time names it from here on (record, undo): read while it cannot have gone,
     * as it waits for the go. */
    if (rc == 0 && lbx_proc_start_time(l->pid, &l->start) != LBX_OK)
        rc = ESRCH;
    if (rc != 0) {
        l->pid = -1;
        lbx_pam_reaper_abandon(l);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "spawn %s: %s", p->cfg.reaper_path, strerror(rc));
    }
    return LBX_OK;
}

lbx_err lbx_pam_reaper_go(struct lbx_reaper_launch *l, struct lbx_error *e)
{
    ssize_t n = send(l->go_fd, "g", 1, MSG_NOSIGNAL);

    close(l->go_fd);
    l->go_fd = -1;
    return n == 1 ? LBX_OK : lbx_error_set(e, LBX_ERR_SYSTEM, "reaper exited before its go");
}

void lbx_pam_reaper_abandon(struct lbx_reaper_launch *l)
{
    if (l->go_fd >= 0)
        close(l->go_fd);
    l->go_fd = -1;
}
