/* Prefork workers (`workers = N`, N > 1): the parent has loaded the configuration, the keys
 * and the TLS material and migrated the store (then closed it: it never touches the store
 * again). It binds N listening sockets on the one port with SO_REUSEPORT, one per worker, and
 * keeps them all open: the kernel spreads new connections over them evenly (a shared socket
 * would let whichever worker wakes first take every connection of a burst), and connections
 * queued on a dead worker's socket wait there for its replacement instead of being reset.
 *
 * The parent then forks the workers and supervises: SIGTERM/SIGINT go to every worker and the
 * parent exits once all are gone; SIGHUP reloads the parent's copy (for workers it restarts)
 * and goes to every worker, which reloads as a lone broker does; a worker that dies otherwise
 * is logged and restarted, at most RESTART_BURST times in RESTART_WINDOW seconds, after which
 * the parent stops the rest and exits 1. Workers die with the parent (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "file.h"
#include "log.h"

#define RESTART_BURST 5
#define RESTART_WINDOW 10
#define STARTUP_TIMEOUT_MS 30000
#define STOP_GRACE 30 /* seconds before a worker that ignores SIGTERM is killed */

struct supervisor {
    struct broker *b;
    int (*serve)(struct broker *b);
    void (*reload)(struct broker *b);
    int n, listen_fds[BROKER_WORKERS_MAX];
    pid_t pids[BROKER_WORKERS_MAX];
    int *wake_rd;
    int ready[2]; /* each worker writes one byte once it serves */
    time_t restarts[RESTART_BURST];
    int nrestarts;
    sigset_t mask, old_mask;
    pid_t self;
};

static int ready_wr = -1; /* in a worker: the ready pipe */

static void worker_main(struct supervisor *s, int i)
{
    struct broker *b = s->b;
    int j;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != s->self) /* the parent died before prctl */
        _exit(1);
    for (j = 0; j < s->n; j++) {
        if (j != i) {
            close(s->listen_fds[j]);
            close(s->wake_rd[j]);
        }
    }
    close(s->ready[0]);
    ready_wr = s->ready[1];
    b->worker = i;
    b->listen_fd = s->listen_fds[i];
    b->wake_rd = s->wake_rd[i];
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    exit(s->serve(b));
}

void workers_ready(struct broker *b)
{
    if (ready_wr >= 0 && write(ready_wr, "r", 1) != 1)
        lbx_warn_f("worker %d: cannot report ready", b->worker);
}

static int spawn(struct supervisor *s, int i)
{
    pid_t pid = fork();

    if (pid < 0) {
        lbx_error_f("fork worker %d: %s", i, strerror(errno));
        return -1;
    }
    if (pid == 0)
        worker_main(s, i);
    s->pids[i] = pid;
    lbx_info_f("worker %d started (pid %d)", i, (int)pid);
    return 0;
}

static void signal_all(struct supervisor *s, int sig)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (s->pids[i] > 0)
            kill(s->pids[i], sig);
}

static int alive(const struct supervisor *s)
{
    int i, n = 0;

    for (i = 0; i < s->n; i++)
        n += s->pids[i] > 0;
    return n;
}

static void log_death(int i, pid_t pid, int status)
{
    if (WIFSIGNALED(status))
        lbx_error_f("worker %d (pid %d) died: signal %d (%s)", i, (int)pid, WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
    else
        lbx_error_f("worker %d (pid %d) exited with status %d", i, (int)pid, WEXITSTATUS(status));
}

/* 0 while restarts stay within the budget. */
static int restart_allowed(struct supervisor *s)
{
    time_t now = time(NULL), oldest = s->restarts[s->nrestarts % RESTART_BURST];

    if (s->nrestarts >= RESTART_BURST && now - oldest < RESTART_WINDOW)
        return 0;
    s->restarts[s->nrestarts++ % RESTART_BURST] = now;
    return 1;
}

/* The worker index of pid, now gone; -1 when not a worker. */
static int forget(struct supervisor *s, pid_t pid)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (s->pids[i] == pid) {
            s->pids[i] = 0;
            return i;
        }
    return -1;
}

/* Reaps every exited worker; restarts them unless stopping. -1: give up. */
static int reap(struct supervisor *s, int stopping)
{
    int status, i;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((i = forget(s, pid)) < 0 || stopping)
            continue;
        log_death(i, pid, status);
        if (!restart_allowed(s)) {
            lbx_error_f("workers keep dying (%d restarts in %d s): stopping", RESTART_BURST,
                        RESTART_WINDOW);
            return -1;
        }
        if (spawn(s, i) != 0)
            return -1;
    }
    return 0;
}

/* Waits for every worker's ready byte; -1 when one dies first or it takes too long. */
static int await_ready(struct supervisor *s)
{
    struct pollfd p = {.fd = s->ready[0], .events = POLLIN};
    int got = 0, waited = 0, status;
    pid_t pid;
    char c;

    while (got < s->n && waited < STARTUP_TIMEOUT_MS) {
        if (poll(&p, 1, 100) > 0 && read(s->ready[0], &c, 1) == 1) {
            got++;
            continue;
        }
        waited += 100;
        if ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            log_death(forget(s, pid), pid, status);
            return -1;
        }
    }
    return got == s->n ? 0 : -1;
}

/* Stops every worker: SIGTERM, then SIGKILL after STOP_GRACE seconds. */
static void stop_all(struct supervisor *s)
{
    struct timespec second = {1, 0};
    time_t until = time(NULL) + STOP_GRACE;

    signal_all(s, SIGTERM);
    while (alive(s) > 0) {
        sigtimedwait(&s->mask, NULL, &second);
        reap(s, 1);
        if (time(NULL) >= until) {
            lbx_error_f("workers still running after %d s: killing them", STOP_GRACE);
            signal_all(s, SIGKILL);
            until = time(NULL) + STOP_GRACE;
        }
    }
}

static int supervise(struct supervisor *s)
{
    struct timespec second = {1, 0};
    int sig;

    for (;;) {
        sig = sigtimedwait(&s->mask, NULL, &second);
        if (sig == SIGTERM || sig == SIGINT) {
            lbx_info_f("signal %d: stopping %d workers", sig, alive(s));
            stop_all(s);
            return 0;
        }
        if (sig == SIGHUP) {
            s->reload(s->b);
            signal_all(s, SIGHUP);
        }
        if (reap(s, 0) != 0) {
            stop_all(s);
            return 1;
        }
    }
}

int workers_run(struct broker *b, int (*serve)(struct broker *b), void (*reload)(struct broker *b))
{
    struct supervisor s = {.b = b,
                           .serve = serve,
                           .reload = reload,
                           .n = (int)b->cfg.workers,
                           .ready = {-1, -1},
                           .self = getpid()};
    struct lbx_error e = {0};
    int i, rc = 1;

    b->nworkers = s.n;
    sigemptyset(&s.mask);
    sigaddset(&s.mask, SIGTERM), sigaddset(&s.mask, SIGINT);
    sigaddset(&s.mask, SIGHUP), sigaddset(&s.mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &s.mask, &s.old_mask);
    if (server_bind(b->cfg.listen, s.n, s.listen_fds, &b->port, &e) != LBX_OK ||
        peer_wake_pipes(s.n, &b->wake_wr, &s.wake_rd, &e) != LBX_OK)
        goto out;
    if (pipe(s.ready) != 0) {
        lbx_error_set(&e, LBX_ERR_SYSTEM, "ready pipe: %s", strerror(errno));
        goto out;
    }
    for (i = 0; i < s.n; i++)
        if (spawn(&s, i) != 0)
            goto stop;
    if (await_ready(&s) != 0 || server_ready(b, &e) != LBX_OK)
        goto stop;
    lbx_info_f("lockboxd ready: %d workers on port %d (signing key %s)", s.n, b->port,
               lbx_key_kid(b->signing_key));
    rc = supervise(&s);
    lbx_info_f("lockboxd stopped");
    goto out;
stop:
    stop_all(&s);
out:
    if (e.code != LBX_OK)
        lbx_error_f("%s", e.detail);
    free(s.wake_rd);
    return rc;
}
