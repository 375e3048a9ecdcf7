/* Interactive sessions: the grant on the terminal, the shell (or command) under a pty of ours
 * so every byte it prints is recorded (asciicast v2), warnings 15, 5 and 1 minutes before the
 * end, and one clear last line when the reaper ends the session (it sends SIGUSR1 first). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "file.h"
#include "hook.h"

#define PTY_BUF 16384

static const int warn_before[] = {15 * 60, 5 * 60, 60, 0};

struct pty_state {
    struct lbx_hook *h;
    struct lbx_recording rc;
    int master, sfd, tfd;
    pid_t child;
    int status, child_done, told_end, next_warning;
};

static void say(struct pty_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of ours on the engineer's terminal, recorded like everything else. */
static void say(struct pty_state *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (write(STDOUT_FILENO, line, (size_t)n) < 0)
        return;
    lbx_cast_event(&s->rc, "o", line, (size_t)n);
}

static void utc(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void banner(struct pty_state *s)
{
    const struct lbx_session_record *r = &s->h->rec;
    char until[40], left[32];

    utc(r->exp, until, sizeof(until));
    lbx_duration_format(r->exp - time(NULL), left, sizeof(left));
    say(s, "lockbox: support session for %s under grant %s\r\n", r->user, r->grant_id);
    say(s, "lockbox: request %s, ticket %s, approved by %s\r\n",
        r->request_id ? r->request_id : "-", r->ticket ? r->ticket : "-",
        r->approved_by ? r->approved_by : "-");
    say(s, "lockbox: access ends %s (%s left); this session is recorded\r\n", until, left);
}

/* Arms the timer for the next warning still ahead; none is left after the 1-minute one. */
static void arm_next_warning(struct pty_state *s)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    int64_t now = (int64_t)lbx_now();

    while (warn_before[s->next_warning] > 0 && s->h->rec.exp - warn_before[s->next_warning] <= now)
        s->next_warning++; /* already past: a login late in the grant gets no stale warnings */
    if (warn_before[s->next_warning] > 0)
        its.it_value.tv_sec = (time_t)(s->h->rec.exp - warn_before[s->next_warning]);
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static void on_timer(struct pty_state *s)
{
    int before = warn_before[s->next_warning];
    uint64_t ticks;
    char until[40];

    /* ECANCELED means the clock was set: only re-arm against the new time. */
    if (read(s->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) && before > 0 &&
        (int64_t)lbx_now() >= s->h->rec.exp - before) {
        utc(s->h->rec.exp, until, sizeof(until));
        say(s, "\r\n*** lockbox: access ends in %d minute%s (%s) ***\r\n", before / 60,
            before == 60 ? "" : "s", until);
        s->next_warning++;
    }
    arm_next_warning(s);
}

static void last_line(struct pty_state *s)
{
    char reason[32];

    lbx_hook_end_reason(s->h, reason, sizeof(reason));
    say(s, "\r\n*** lockbox: grant %s %s \xe2\x80\x94 this session is closed ***\r\n",
        s->h->rec.grant_id, reason[0] ? reason : "ended");
}

static void copy_winsize(struct pty_state *s)
{
    struct winsize ws;
    char size[32];

    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0)
        return;
    ioctl(s->master, TIOCSWINSZ, &ws);
    snprintf(size, sizeof(size), "%ux%u", ws.ws_col, ws.ws_row);
    lbx_cast_event(&s->rc, "r", size, strlen(size));
}

/* 1 when the loop should end. */
static int on_signal(struct pty_state *s)
{
    struct signalfd_siginfo si;

    if (read(s->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return 0;
    switch (si.ssi_signo) {
    case SIGWINCH:
        copy_winsize(s);
        return 0;
    case SIGCHLD:
        if (waitpid(s->child, &s->status, WNOHANG) == s->child)
            s->child_done = 1;
        return 0;
    case SIGUSR1:
        last_line(s);
        s->told_end = 1;
        return 1;
    default: /* SIGHUP, SIGTERM: the connection is gone */
        kill(-s->child, SIGHUP);
        return 1;
    }
}

/* 1 when the pty is closed (the session's programs are done with it). */
static int pump(int from, int to, struct lbx_recording *rc)
{
    char buf[PTY_BUF];
    ssize_t n = read(from, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return 1;
    if (rc != NULL)
        lbx_cast_event(rc, "o", buf, (size_t)n);
    return lbx_write_all(to, buf, (size_t)n) != LBX_OK;
}

static void relay(struct pty_state *s)
{
    struct pollfd p[4] = {{STDIN_FILENO, POLLIN, 0},
                          {s->master, POLLIN, 0},
                          {s->sfd, POLLIN, 0},
                          {s->tfd, POLLIN, 0}};

    for (;;) {
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && pump(s->master, STDOUT_FILENO, &s->rc))
            return;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && pump(STDIN_FILENO, s->master, NULL))
            p[0].fd = -1; /* no more input; keep showing output */
        if ((p[2].revents & POLLIN) && on_signal(s))
            return;
        if (p[3].revents & POLLIN)
            on_timer(s);
    }
}

static int start(struct pty_state *s, struct termios *saved, sigset_t *set)
{
    struct winsize ws = {24, 80, 0, 0};
    int slave;

    /* The child's pty starts with the engineer's original (cooked) settings. */
    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
    if (openpty(&s->master, &slave, NULL, saved->c_cflag ? saved : NULL, &ws) != 0)
        return -1;
    fcntl(s->master, F_SETFD, FD_CLOEXEC);
    if (lbx_cast_header(&s->rc, s->h, ws.ws_col, ws.ws_row) != 0)
        return -1;
    banner(s);
    if ((s->child = fork()) < 0)
        return -1;
    if (s->child == 0) {
        sigprocmask(SIG_UNBLOCK, set, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) != 0 || dup2(slave, 0) < 0 ||
            dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
            _exit(126);
        if (slave > 2)
            close(slave);
        lbx_exec_user(s->h, s->h->command == NULL);
    }
    close(slave);
    return 0;
}

int lbx_pty_session(struct lbx_hook *h)
{
    struct pty_state s = {h, {0}, -1, -1, -1, 0, 0, 0, 0, 0};
    struct termios saved, raw;
    sigset_t set;
    int rc = 1, have_tio;

    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (lbx_recording_open(h, "cast", &s.rc) != 0) {
        lbx_hook_say("cannot record this session (%s); refusing", h->cfg.record_dir);
        return 1;
    }
    /* Raw at once, and TCSANOW: TCSAFLUSH would drop what the engineer typed ahead. */
    memset(&saved, 0, sizeof(saved));
    if ((have_tio = tcgetattr(STDIN_FILENO, &saved) == 0)) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    if ((s.sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
        (s.tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC)) < 0 || start(&s, &saved, &set) != 0) {
        lbx_hook_say("cannot start the session: %s", strerror(errno));
        goto out;
    }
    arm_next_warning(&s);
    relay(&s);
    /* Told the end: the reaper waits for this process to leave before it kills the session. */
    if (s.told_end)
        s.status = 0;
    else if (!s.child_done && waitpid(s.child, &s.status, 0) != s.child)
        s.status = 0;
    rc = WIFEXITED(s.status) ? WEXITSTATUS(s.status) : 128 + WTERMSIG(s.status);
out:
    if (have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    lbx_recording_close(&s.rc);
    return rc;
}
