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
 * copy of the monitor, 1.1 ms for spawn + exec + the reaper's own fork. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pam_internal.h"

#define REAPER_READY_FD 3
#define REAPER_MAX_ARGS 64
#define REAPER_READY_TIMEOUT_MS 5000 /* it reads a file and verifies a token: no network */

/* Descriptors and signals as the reaper must start; 0 or an errno value. */
static int spawn_detached(const char *path, char *const argv[], int ready_fd, pid_t *child)
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
    /* In this order: the pipe is placed on 3 before 0-2 are replaced (it could be one of
     * them); dup2 onto itself clears close-on-exec (glibc >= 2.29). */
    if ((rc = posix_spawn_file_actions_adddup2(&fa, ready_fd, REAPER_READY_FD)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&fa, 0, 1)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&fa, 0, 2)) == 0 &&
        (rc = posix_spawn_file_actions_addclosefrom_np(&fa, REAPER_READY_FD + 1)) == 0 &&
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

/* Starts the reaper and returns once it is detached, with *ready_fd to read its "ready" line
 * from, so the caller can do other work while the reaper loads. */
lbx_err lbx_pam_reaper_start(const struct lbx_pam *p, const char *sid, int *ready_fd,
                             struct lbx_error *e)
{
    struct sigaction dfl, saved;
    char *argv[REAPER_MAX_ARGS];
    int fds[2], status = 0, rc;
    pid_t child = -1;

    *ready_fd = -1;
    if (!build_argv(p, sid, argv))
        return lbx_error_set(e, LBX_ERR_ARG, "too many module arguments");
    if (access(p->cfg.reaper_path, X_OK) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", p->cfg.reaper_path, strerror(errno));
    if (pipe2(fds, O_CLOEXEC) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "pipe: %s", strerror(errno));
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &saved);
    rc = spawn_detached(p->cfg.reaper_path, argv, fds[1], &child);
    close(fds[1]);
    while (rc == 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGCHLD, &saved, NULL);
    if (rc != 0) {
        close(fds[0]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "spawn %s: %s", p->cfg.reaper_path, strerror(rc));
    }
    /* Its first process exits 0 once the reaper proper runs; anything else means it will
     * never say ready (the read below then fails at once: nobody holds the pipe). */
    *ready_fd = fds[0];
    return LBX_OK;
}

/* Waits for the "ready" line and closes ready_fd. */
lbx_err lbx_pam_reaper_ready(int ready_fd, pid_t *pid, uint64_t *start, struct lbx_error *e)
{
    lbx_err r = read_ready(ready_fd, REAPER_READY_TIMEOUT_MS, pid, start, e);

    close(ready_fd);
    return r;
}
