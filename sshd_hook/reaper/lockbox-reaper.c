/* lockbox-reaper --session SID [--go-fd N] [-- key=value ...]
 *
 * Started by pam_lockbox.so (root, own session, no inherited descriptors, not sshd's child).
 * Loads its configuration and the trusted keys, waits for the module's go on --go-fd (the
 * record is written: the module does its own part while this one loads), reads the session
 * record, checks that it names this process and checks the token once more, arms its timer
 * and marks the session armed (<sid>.armed: lockbox-session waits for it), then waits for the
 * first of: LBX_END_LEAD_MS before the token's exp (timerfd on CLOCK_REALTIME, re-armed when the
 * clock is set), a broker answer that the grant is revoked or ended, the session ending by
 * itself, SIGTERM.
 * A record that names this process is the module's; if it cannot be armed, the session it
 * describes is torn down (fail closed: sshd has already gone on). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "broker_host.h"
#include "grant_check.h"
#include "http_client.h"
#include "keys.h"
#include "log.h"
#include "proc.h"
#include "run_dir.h"
#include "reaper.h"
#include "systemd_unit.h"
#include "token.h"

#define TICK_MS 1000
#define GO_TIMEOUT_MS 5000 /* the module writes a file or two before its go */
#define REAPER_STARTUP_NICE 10
#define SCOPE_TIMEOUT_MS 2000

struct args {
    const char *sid;
    int go_fd;
    int cfg_argc;
    const char **cfg_argv;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    int i;

    memset(a, 0, sizeof(*a));
    a->go_fd = -1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
            a->sid = argv[++i];
        else if (strcmp(argv[i], "--go-fd") == 0 && i + 1 < argc)
            a->go_fd = atoi(argv[++i]);
        else if (strcmp(argv[i], "--") == 0)
            break;
        else
            return -1;
    }
    if (i < argc) {
        a->cfg_argc = argc - i - 1;
        a->cfg_argv = (const char **)argv + i + 1;
    }
    return a->sid != NULL && lbx_session_id_valid(a->sid) ? 0 : -1;
}

/* The record is root-owned, but the token in it is checked as if it came from the network. */
static lbx_err check_token(const struct lbx_reaper *rp, const struct lbx_keyring *ring,
                           struct lbx_error *e)
{
    struct lbx_claims c;
    lbx_err r;

    if (rp->rec.token == NULL)
        return lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "record without token");
    if ((r = lbx_grant_check(&rp->cfg, ring, rp->rec.token, rp->rec.user, &c, e)) != LBX_OK)
        return r;
    if (strcmp(c.jti, rp->rec.grant_id) != 0 || c.exp != rp->rec.exp)
        r = lbx_error_set(e, LBX_ERR_TOKEN_MALFORMED, "record and token disagree");
    lbx_claims_free(&c);
    return r;
}

/* The module's go: one byte once the record is written. Its pipe closing instead (the module
 * gave up, or died) or nothing within GO_TIMEOUT_MS: there is no session to guard. */
static int wait_go(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char go = 0;
    int rc;

    if (fd < 0)
        return 0;
    while ((rc = poll(&p, 1, GO_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    rc = rc > 0 && read(fd, &go, 1) == 1 && go == 'g' ? 0 : -1;
    close(fd);
    return rc;
}

static int arm_timer(int tfd, int64_t end_s)
{
    int64_t at = lbx_grant_end_ms(end_s);
    struct itimerspec its = {{0, 0}, {(time_t)(at / 1000), (long)(at % 1000) * 1000000L}};

    return timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static int record_present(const struct lbx_reaper *rp)
{
    char path[4352];

    snprintf(path, sizeof(path), "%s/%s.json", rp->sessions_dir, rp->rec.sid);
    return access(path, F_OK) == 0;
}

/* Returns the reason to end the session now, or NULL to keep waiting. "" = closed normally. */
static const char *on_watch(struct lbx_reaper *rp, int wfd, int tfd, int64_t *end)
{
    struct lbx_watch_msg m;

    if (read(wfd, &m, sizeof(m)) != (ssize_t)sizeof(m))
        return NULL;
    if (m.status == LBX_GRANT_REVOKED)
        return "revoked";
    if (m.status == LBX_GRANT_ENDED)
        return "expired";
    if (m.access_end > 0 && m.access_end < *end) {
        /* The broker shortened the window: the earlier end wins, never a later one. */
        *end = m.access_end;
        arm_timer(tfd, *end);
    }
    return lbx_grant_over(*end) ? "expired" : NULL;
}

static const char *on_tick(struct lbx_reaper *rp, int64_t end)
{
    int procs;

    if (lbx_grant_over(end))
        return "expired";
    if (!record_present(rp) || lbx_session_end_claimed(rp->sessions_dir, rp->rec.sid))
        return ""; /* pam_close_session is ending it, or has: the session is over */
    if (lbx_proc_is(rp->rec.monitor_pid, rp->rec.monitor_start))
        return NULL;
    procs = lbx_cgroup_procs(&rp->rec.cgroup, NULL, 0);
    return procs > 0 ? "error" : "exited"; /* no session may outlive its sshd */
}

static const char *wait_for_end(struct lbx_reaper *rp, int tfd, int wfd, int sfd)
{
    struct pollfd p[3] = {{tfd, POLLIN, 0}, {wfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    struct signalfd_siginfo si;
    int64_t end = rp->rec.exp;
    const char *why = NULL;
    uint64_t ticks;

    while (why == NULL) {
        if (poll(p, 3, TICK_MS) < 0 && errno != EINTR)
            return "error";
        if (p[0].revents & POLLIN) {
            /* ECANCELED: the clock was set. Re-arm against the new clock and look again. */
            if (read(tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
                return "expired";
            if (errno == ECANCELED)
                arm_timer(tfd, end);
        }
        if ((p[1].revents & POLLIN) && (why = on_watch(rp, wfd, tfd, &end)) != NULL)
            break;
        if ((p[2].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            return "error"; /* stopped by an administrator: fail closed */
        why = on_tick(rp, end);
    }
    return why;
}

/* Only the module that started this process writes a record naming it (pid and start time):
 * such a record is trusted enough to tear its session down when it cannot be guarded. */
static int names_me(const struct lbx_session_record *r)
{
    uint64_t start = 0;

    return r->reaper_pid == getpid() && lbx_proc_start_time(getpid(), &start) == LBX_OK &&
           start == r->reaper_start;
}

/* 0: ready to arm. SETUP_LEAVE: nothing to guard (no go, no record, not ours). SETUP_TEARDOWN:
 * our session, but it cannot be guarded; SETUP_EXPIRED: our session, and its grant has ended
 * since the module checked it. */
enum { SETUP_LEAVE = -1, SETUP_TEARDOWN = -2, SETUP_EXPIRED = -3 };

static int check_record(struct lbx_reaper *rp, const struct lbx_keyring *ring, const char *sid)
{
    struct lbx_error e = {0};

    if (lbx_session_record_read(rp->sessions_dir, sid, 0, &rp->rec, &e) != LBX_OK) {
        lbx_error_f("session %s: %s (%s)", sid, lbx_strerror(e.code), e.detail);
        return SETUP_LEAVE;
    }
    if (lbx_group_gid(rp->cfg.record_group, &rp->view_gid, &e) != LBX_OK) {
        lbx_error_f("session %s: record_group: %s", sid, e.detail);
        rp->view_gid = (gid_t)-1;
    }
    if (check_token(rp, ring, &e) != LBX_OK) {
        lbx_error_f("session %s: %s (%s)", sid, lbx_strerror(e.code), e.detail);
        if (!names_me(&rp->rec))
            return SETUP_LEAVE;
        return e.code == LBX_ERR_TOKEN_EXPIRED ? SETUP_EXPIRED : SETUP_TEARDOWN;
    }
    if (!names_me(&rp->rec)) {
        lbx_error_f("session %s: the record names reaper %ld, not this one", sid,
                    (long)rp->rec.reaper_pid);
        return SETUP_LEAVE;
    }
    return 0;
}

/* On systemd, sshd's monitor (and so this process, its child) is in the session's scope, or in
 * some service's cgroup for cron and at: whatever ends that unit would end the reaper before its
 * sweep and its report. A transient scope of its own keeps it out of every session's reach.
 * Returns 0 when it could not leave: such a session cannot be guarded. */
static int leave_session_scope(const char *sid)
{
    struct lbx_error e = {0};
    char unit[LBX_SID_MAX + 32];

    if (!lbx_systemd_booted())
        return 1;
    size_t n = strlen(sid);

    /* On logind's path the session id is its scope's name: "session-N.scope". */
    if (n > 6 && strcmp(sid + n - 6, ".scope") == 0)
        n -= 6;
    snprintf(unit, sizeof(unit), "lockbox-reaper-%.*s.scope", (int)n, sid);
    if (lbx_systemd_enter_scope(unit, "lockbox reaper of one support session", SCOPE_TIMEOUT_MS,
                                &e) == LBX_OK)
        return 1;
    lbx_error_f("session %s: cannot leave the session's scope: %s", sid, e.detail);
    return 0;
}

static int setup(struct lbx_reaper *rp, const struct args *a)
{
    struct lbx_keyring *ring = NULL;
    struct lbx_error e = {0};
    int rc = SETUP_LEAVE, escaped;

    if (lbx_host_config_load(&rp->cfg, a->cfg_argc, a->cfg_argv, LBX_FILE_ROOT, &e) != LBX_OK) {
        lbx_error_f("configuration: %s", e.detail);
        return SETUP_LEAVE;
    }
    lbx_log_set_level(rp->cfg.debug ? LOG_DEBUG : LOG_INFO);
    lbx_run_path(&rp->cfg, LBX_RUN_SESSIONS, rp->sessions_dir, sizeof(rp->sessions_dir));
    escaped = leave_session_scope(a->sid);
    /* Before the go: the keys (OpenSSL's first decode and fetches, ~1 ms in a new process)
     * load while the module writes the record. */
    if (lbx_keyring_new(&ring) != LBX_OK ||
        lbx_keyring_load_path(ring, rp->cfg.trusted_keys, &e) != LBX_OK)
        lbx_error_f("session %s: trusted keys: %s", a->sid, e.detail);
    else if (wait_go(a->go_fd) != 0)
        lbx_info_f("session %s: the module gave no go; nothing to guard", a->sid);
    else
        rc = check_record(rp, ring, a->sid);
    lbx_keyring_free(ring);
    return rc == 0 && !escaped ? SETUP_TEARDOWN : rc;
}

static int run(struct lbx_reaper *rp)
{
    struct lbx_watch w = {0};
    struct lbx_error e = {0};
    const char *why;
    sigset_t set;
    int tfd, sfd, pipefd[2];

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL); /* before the thread starts: it inherits the mask */
    if ((tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC)) < 0 ||
        arm_timer(tfd, rp->rec.exp) != 0 || (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
        pipe2(pipefd, O_CLOEXEC) != 0) {
        lbx_error_f("timer setup: %s", strerror(errno));
        return SETUP_TEARDOWN;
    }
    if (lbx_session_mark_armed(rp->sessions_dir, rp->rec.sid, &e) != LBX_OK) {
        lbx_error_f("session %s: %s", rp->rec.sid, e.detail);
        return SETUP_TEARDOWN;
    }
    /* From here to the loop the reaper reports the start over TLS (~3 ms of CPU) while the
     * user's side of the session starts: a lower priority lets it go first. Nothing here is
     * urgent, and the loop runs at the normal one: the timer is armed and the loop sees it
     * when it starts. */
    setpriority(PRIO_PROCESS, 0, REAPER_STARTUP_NICE);
    /* Armed (nothing before calls the broker), before any thread. */
    lbx_http_init();
    lbx_info_f("session %s of %s: grant %s until %lld, %s cgroup %s", rp->rec.sid, rp->rec.user,
               rp->rec.grant_id, (long long)rp->rec.exp, lbx_cgroup_kind_name(rp->rec.cgroup.kind),
               rp->rec.cgroup.path);
    /* One connection for the start report and then the watcher's polls: a TLS handshake less
     * per session for the host and the broker (without it, each call makes its own). */
    if (lbx_http_conn_new(&w.conn, &e) != LBX_OK)
        lbx_debug_f("no kept broker connection: %s", e.detail);
    lbx_reaper_report(rp, w.conn, "start", NULL);
    w.cfg = &rp->cfg;
    w.fd = pipefd[1];
    snprintf(w.grant_id, sizeof(w.grant_id), "%s", rp->rec.grant_id);
    setpriority(PRIO_PROCESS, 0, 0); /* this thread, and so the watcher it starts */
    if (lbx_watch_start(&w) != 0) {
        lbx_error_f("watcher thread did not start: revocation is not seen, expiry still is");
        lbx_http_conn_free(w.conn);
    }
    why = wait_for_end(rp, tfd, pipefd[0], sfd);
    if (why[0] == '\0')
        lbx_info_f("session %s closed by sshd", rp->rec.sid);
    else
        lbx_teardown(rp, why);
    return 0;
}

int main(int argc, char **argv)
{
    struct lbx_reaper rp;
    struct args a;
    int rc = 1;

    memset(&rp, 0, sizeof(rp));
    lbx_log_init("lockbox-reaper",
                 getenv("LOCKBOX_REAPER_STDERR") ? LBX_LOG_STDERR : LBX_LOG_SYSLOG, LOG_INFO);
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: lockbox-reaper --session SID [--go-fd N] [-- key=value ...]\n");
        return 2;
    }
    if (geteuid() != 0) {
        lbx_error_f("must run as root");
        return 1;
    }
    /* sshd went on without waiting for this process: a session of ours it cannot guard is
     * ended (lockbox-session refuses it too, but ~/.bashrc may already run in it). */
    if ((rc = setup(&rp, &a)) == 0)
        rc = run(&rp);
    if (rc == SETUP_TEARDOWN || rc == SETUP_EXPIRED) {
        lbx_http_init();
        lbx_teardown(&rp, rc == SETUP_EXPIRED ? "expired" : "error");
    }
    rc = rc == 0 ? 0 : 1;
    /* The watcher thread may still be inside a TLS request: exit() would run OpenSSL's and
     * curl's atexit cleanup under its feet (and can hang there). Nothing is buffered. */
    lbx_session_record_free(&rp.rec);
    lbx_host_config_free(&rp.cfg);
    _exit(rc);
}
