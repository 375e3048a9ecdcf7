/* Starting lockbox-reaper from inside sshd's monitor, and moving the monitor into the session
 * cgroup from a child (lbx_pam_move_*). The reaper must not inherit anything of
 * sshd: it is double-forked (so sshd never sees it as a child to reap), gets its own session,
 * default signal dispositions, an empty signal mask, /dev/null on 0-2, a minimal environment
 * and no descriptor but the ready pipe. sshd's SIGCHLD handling is saved and restored around
 * the children we wait for (lbx_pam_children_begin/end). */
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

void lbx_pam_children_begin(struct sigaction *saved)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, saved);
}

void lbx_pam_children_end(const struct sigaction *saved)
{
    sigaction(SIGCHLD, saved, NULL);
}

/* Forks the intermediate child now, while sshd's monitor is still in its own cgroup, so the
 * reaper (its child) starts outside the session cgroup however soon the monitor moves there.
 * It waits for lbx_pam_reaper_go (the record is written by then) and exits without starting
 * anything if the go pipe closes first. The caller keeps SIGCHLD at its default meanwhile. */
lbx_err lbx_pam_reaper_fork(const struct lbx_pam *p, const char *sid, struct lbx_pam_spawn *sp,
                            struct lbx_error *e)
{
    char *argv[REAPER_MAX_ARGS], go = 0;
    int ready[2], gofd[2], max_fd = (int)sysconf(_SC_OPEN_MAX);
    ssize_t n;

    *sp = (struct lbx_pam_spawn){0, -1, -1};
    if (!build_argv(p, sid, argv))
        return lbx_error_set(e, LBX_ERR_ARG, "too many module arguments");
    if (access(p->cfg.reaper_path, X_OK) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", p->cfg.reaper_path, strerror(errno));
    if (pipe2(ready, O_CLOEXEC) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "pipe: %s", strerror(errno));
    if (pipe2(gofd, O_CLOEXEC) != 0) {
        close(ready[0]);
        close(ready[1]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "pipe: %s", strerror(errno));
    }
    sp->child = fork();
    if (sp->child == 0) {
        close(ready[0]);
        close(gofd[1]);
        do
            n = read(gofd[0], &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1 || go != 'g')
            _exit(1); /* the monitor gave up (or died): start nothing */
        setsid();
        if (fork() == 0)
            exec_reaper(p->cfg.reaper_path, argv, ready[1], max_fd > 0 ? max_fd : 65536);
        _exit(0);
    }
    close(ready[1]);
    close(gofd[0]);
    if (sp->child < 0) {
        sp->child = 0;
        close(ready[0]);
        close(gofd[1]);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "fork: %s", strerror(errno));
    }
    sp->ready_fd = ready[0];
    sp->go_fd = gofd[1];
    return LBX_OK;
}

/* Tells the intermediate child to start the reaper (or, go = 0, to exit) and reaps it. */
static lbx_err finish_fork(struct lbx_pam_spawn *sp, int go, struct lbx_error *e)
{
    int status = 1;
    pid_t w = -1;

    if (sp->go_fd >= 0) {
        if (go && write(sp->go_fd, "g", 1) != 1)
            go = 0;
        close(sp->go_fd);
        sp->go_fd = -1;
    }
    if (sp->child > 0)
        while ((w = waitpid(sp->child, &status, 0)) < 0 && errno == EINTR)
            ;
    sp->child = 0;
    if (go && (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
        return lbx_error_set(e, LBX_ERR_SYSTEM, "reaper could not be started");
    return LBX_OK;
}

lbx_err lbx_pam_reaper_go(struct lbx_pam_spawn *sp, struct lbx_error *e)
{
    return finish_fork(sp, 1, e);
}

void lbx_pam_reaper_abort(struct lbx_pam_spawn *sp)
{
    finish_fork(sp, 0, NULL);
    if (sp->ready_fd >= 0)
        close(sp->ready_fd);
    sp->ready_fd = -1;
}

/* Waits for the "ready" line and closes the ready pipe. */
lbx_err lbx_pam_reaper_ready(struct lbx_pam_spawn *sp, pid_t *pid, uint64_t *start,
                             struct lbx_error *e)
{
    lbx_err r = read_ready(sp->ready_fd, REAPER_READY_TIMEOUT_MS, pid, start, e);

    close(sp->ready_fd);
    sp->ready_fd = -1;
    return r;
}

lbx_err lbx_pam_move_start(const struct lbx_cgroup *cg, struct lbx_pam_move *m,
                           struct lbx_error *e)
{
    pid_t self = getpid();

    if ((m->pid = fork()) == 0)
        _exit(lbx_cgroup_attach(cg, self, NULL) == LBX_OK ? 0 : 1);
    if (m->pid < 0) {
        m->pid = 0;
        return lbx_error_set(e, LBX_ERR_SYSTEM, "fork: %s", strerror(errno));
    }
    return LBX_OK;
}

lbx_err lbx_pam_move_wait(struct lbx_pam_move *m, struct lbx_error *e)
{
    int status = 0;
    pid_t w;

    if (m->pid <= 0)
        return LBX_OK;
    while ((w = waitpid(m->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    m->pid = 0;
    if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "sshd could not be moved into the session cgroup");
    return LBX_OK;
}
