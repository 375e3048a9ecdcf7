/* Starting lockbox-reaper from inside sshd's monitor. The reaper must not inherit anything of
 * sshd: it gets its own session, default signal dispositions, an empty signal mask, /dev/null
 * on 0-2, a minimal environment and no descriptor but the ready pipe. It must not stay sshd's
 * child either (sshd would reap it): started with --detach, its first process forks the reaper
 * proper and exits, and that one exit is all we wait for, with sshd's SIGCHLD handling saved
 * and restored around it.
 *
 * posix_spawn, not fork: glibc spawns with CLONE_VM|CLONE_VFORK, so nothing of the monitor's
 * address space (which holds libcurl and its ~30 libraries) is copied; the fork happens in the
 * fresh reaper, which is small. Measured in session open: 2.4 ms for fork + fork + exit of a
 * copy of the monitor, 1.1 ms for spawn + exec + the reaper's own fork.
 *
 * The reaper is started before the module's own part of session open and loads (exec, its
 * libraries, configuration, trusted keys: ~2-3 ms) while the module takes and checks the token
 * and writes the record; the module's go (one byte on a socket, which cannot raise SIGPIPE in
 * sshd) then lets it read the record. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pam_internal.h"

#define REAPER_READY_FD 3
#define REAPER_GO_FD 4
#define REAPER_MAX_ARGS 64
#define REAPER_READY_TIMEOUT_MS 5000 /* it reads a file and verifies a token: no network */

/* Descriptors and signals as the reaper must start; 0 or an errno value. ready_fd and go_fd
 * are above REAPER_GO_FD (see fd_high), so placing one cannot overwrite the other. */
static int spawn_detached(const char *path, char *const argv[], int ready_fd, int go_fd,
                          pid_t *child)
{
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all, none;
    int rc;

    sigfillset(&all);
    sigemptyset(&none);
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        return rc;
    if ((rc = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    if ((rc = posix_spawn_file_actions_adddup2(&fa, ready_fd, REAPER_READY_FD)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&fa, go_fd, REAPER_GO_FD)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&fa, 0, 1)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&fa, 0, 2)) == 0 &&
        (rc = posix_spawn_file_actions_addclosefrom_np(&fa, REAPER_GO_FD + 1)) == 0 &&
        (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
        (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
        (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSID)) == 0)
        rc = posix_spawn(child, path, &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static int build_argv(const struct lbx_pam *p, const char *sid, char **argv)
{
    int n = 0, i;

    argv[n++] = (char *)"lockbox-reaper";
    argv[n++] = (char *)"--session";
    argv[n++] = (char *)sid;
    argv[n++] = (char *)"--ready-fd";
    argv[n++] = (char *)"3";
    argv[n++] = (char *)"--go-fd";
    argv[n++] = (char *)"4";
    argv[n++] = (char *)"--detach";
    argv[n++] = (char *)"--";
    for (i = 0; i < p->argc && n < REAPER_MAX_ARGS - 1; i++)
        argv[n++] = (char *)p->argv[i];
    argv[n] = NULL;
    return i == p->argc;
}

/* Reads "ready <pid> <start>\n" within the remaining deadline. */
static lbx_err read_ready(int fd, long timeout_ms, pid_t *pid, uint64_t *start,
                          struct lbx_error *e)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    char line[128];
    size_t got = 0;
    unsigned long long st;
    long pidl;
    ssize_t n;

    while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
        if (poll(&pfd, 1, (int)(timeout_ms > 0 ? timeout_ms : 1)) <= 0)
            return lbx_error_set(e, LBX_ERR_BROKER_TIMEOUT, "reaper did not report ready");
        n = read(fd, line + got, sizeof(line) - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return lbx_error_set(e, LBX_ERR_SYSTEM, "reaper exited before it was ready");
        got += (size_t)n;
    }
    line[got] = '\0';
    if (sscanf(line, "ready %ld %llu", &pidl, &st) != 2 || pidl <= 1)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "reaper said something else than ready");
    *pid = (pid_t)pidl;
    *start = st;
    return LBX_OK;
}

/* fd moved above the descriptors the reaper is given (close-on-exec); -1 on failure. */
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
    struct sigaction dfl;
    char *argv[REAPER_MAX_ARGS];
    int ready[2] = {-1, -1}, go[2] = {-1, -1}, rc;

    *l = (struct lbx_reaper_launch){.child = -1, .ready_fd = -1, .go_fd = -1};
    if (!build_argv(p, sid, argv))
        return lbx_error_set(e, LBX_ERR_ARG, "too many module arguments");
    if (access(p->cfg.reaper_path, X_OK) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", p->cfg.reaper_path, strerror(errno));
    if (pipe2(ready, O_CLOEXEC) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0 ||
        (ready[1] = fd_high(ready[1])) < 0 || (go[1] = fd_high(go[1])) < 0) {
        rc = errno;
        close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "pipe: %s", strerror(rc));
    }
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &l->saved);
    l->held = 1; /* from here every path, the failed spawn too, puts sshd's handling back */
    rc = spawn_detached(p->cfg.reaper_path, argv, ready[1], go[1], &l->child);
    close(ready[1]);
    close(go[1]);
    l->ready_fd = ready[0];
    l->go_fd = go[0];
    if (rc != 0) {
        l->child = -1;
        lbx_pam_reaper_abandon(l);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "spawn %s: %s", p->cfg.reaper_path, strerror(rc));
    }
    return LBX_OK;
}

/* Its first process exits once the reaper proper runs (anything else: it never says ready,
 * and the read fails at once, nobody holding the pipe); then sshd's SIGCHLD handling is back. */
static void wait_detached(struct lbx_reaper_launch *l)
{
    int status;

    while (l->child > 0 && waitpid(l->child, &status, 0) < 0 && errno == EINTR)
        ;
    l->child = -1;
    if (l->held)
        sigaction(SIGCHLD, &l->saved, NULL);
    l->held = 0;
}

lbx_err lbx_pam_reaper_go(struct lbx_reaper_launch *l, struct lbx_error *e)
{
    ssize_t n;

    wait_detached(l);
    n = send(l->go_fd, "g", 1, MSG_NOSIGNAL);
    close(l->go_fd);
    l->go_fd = -1;
    return n == 1 ? LBX_OK : lbx_error_set(e, LBX_ERR_SYSTEM, "reaper exited before it was ready");
}

void lbx_pam_reaper_abandon(struct lbx_reaper_launch *l)
{
    wait_detached(l);
    if (l->go_fd >= 0)
        close(l->go_fd);
    if (l->ready_fd >= 0)
        close(l->ready_fd);
    l->go_fd = l->ready_fd = -1;
}

/* Waits for the "ready" line and closes ready_fd. */
lbx_err lbx_pam_reaper_ready(struct lbx_reaper_launch *l, pid_t *pid, uint64_t *start,
                             struct lbx_error *e)
{
    lbx_err r = read_ready(l->ready_fd, REAPER_READY_TIMEOUT_MS, pid, start, e);

    close(l->ready_fd);
    l->ready_fd = -1;
    return r;
}
