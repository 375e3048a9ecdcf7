/* Starting lockbox-reaper from inside sshd's monitor. The reaper must not inherit anything of
 * sshd: it is double-forked (so sshd never sees it as a child to reap), gets its own session,
 * default signal dispositions, an empty signal mask, /dev/null on 0-2, a minimal environment
 * and no descriptor but the ready pipe. sshd's SIGCHLD handling is saved and restored around
 * the one child we wait for. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pam_internal.h"

#define REAPER_READY_FD 3
#define REAPER_MAX_ARGS 64
#define REAPER_READY_TIMEOUT_MS 5000 /* it reads a file and verifies a token: no network */

/* Runs in the grandchild between fork and exec: async-signal-safe calls only. */
static void exec_reaper(const char *path, char *const argv[], int ready_fd, int max_fd)
{
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    struct sigaction dfl;
    sigset_t none;
    int sig, fd;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, RT gaps */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(ready_fd, REAPER_READY_FD) < 0)
        _exit(126);
    if ((fd = open("/dev/null", O_RDWR)) < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
        dup2(fd, 2) < 0)
        _exit(126);
    /* glibc 2.36 has no close_range() wrapper; the system call exists since Linux 5.9. */
    if (syscall(SYS_close_range, REAPER_READY_FD + 1, ~0U, 0) != 0)
        for (fd = REAPER_READY_FD + 1; fd < max_fd; fd++)
            close(fd);
    execve(path, argv, envp);
    _exit(127);
}

static int build_argv(const struct lbx_pam *p, const char *sid, char **argv)
{
    int n = 0, i;

    argv[n++] = (char *)"lockbox-reaper";
    argv[n++] = (char *)"--session";
    argv[n++] = (char *)sid;
    argv[n++] = (char *)"--ready-fd";
    argv[n++] = (char *)"3";
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

/* Forks the reaper and returns at once with *ready_fd to read its "ready" line from, so the
 * caller can do other work while the reaper loads. */
lbx_err lbx_pam_reaper_start(const struct lbx_pam *p, const char *sid, int *ready_fd,
                             struct lbx_error *e)
{
    struct sigaction dfl, saved;
    char *argv[REAPER_MAX_ARGS];
    int fds[2], status = 0, max_fd = (int)sysconf(_SC_OPEN_MAX);
    pid_t child;

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
    child = fork();
    if (child == 0) {
        close(fds[0]);
        setsid();
        if (fork() == 0)
            exec_reaper(p->cfg.reaper_path, argv, fds[1], max_fd > 0 ? max_fd : 65536);
        _exit(0);
    }
    close(fds[1]);
    while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGCHLD, &saved, NULL);
    if (child < 0) {
        close(fds[0]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "fork: %s", strerror(errno));
    }
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
