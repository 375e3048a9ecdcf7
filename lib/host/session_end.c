#include "session_end.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "broker_host.h"
#include "cgroup.h"
#include "handoff.h"
#include "run_dir.h"
#include "proc.h"
#include "systemd_unit.h"

#define HOOK_NOTICE_MS 150
#define HOOK_LOOK_MS 2
#define KILL_TIMEOUT_MS 1000
#define SWEEP_TIMEOUT_MS 1000
#define USER_MANAGER_WAIT_MS 2000
#define MAX_PIDS 4096

static void say(const struct lbx_session_end *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct lbx_session_end *s, int prio, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s->log != NULL)
        s->log(prio, msg, s->log_arg);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Milliseconds since *mark; moves the mark to now. */
static long lap(long *mark)
{
    long now = now_ms(), d = now - *mark;

    *mark = now;
    return d;
}

static void mark_ended(struct lbx_session_end *s, const char *reason)
{
    struct lbx_error e = {0};

    free(s->rec->ended);
    s->rec->ended = strdup(reason);
    s->rec->ended_at = time(NULL);
    if (lbx_session_record_write(s->sessions_dir, s->rec, s->view_gid, &e) != LBX_OK)
        say(s, LOG_WARNING, "session %s: %s", s->rec->sid, e.detail);
}

static int is_hook(pid_t pid)
{
    char path[64], comm[32] = "";
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    if (fgets(comm, sizeof(comm), f) == NULL)
        comm[0] = '\0';
    fclose(f);
    return strcmp(comm, "lockbox-session\n") == 0;
}

/* The hooks print the engineer's last line when told (SIGUSR1) and leave; the kill waits for
 * them, never longer than HOOK_NOTICE_MS. */
static void notify_hooks(const struct lbx_cgroup *cg)
{
    pid_t pids[MAX_PIDS];
    uint64_t starts[MAX_PIDS];
    int n = lbx_cgroup_procs(cg, pids, MAX_PIDS), i, told = 0, waited, left;

    for (i = 0; i < n && i < MAX_PIDS; i++)
        if (is_hook(pids[i]) && lbx_proc_start_time(pids[i], &starts[told]) == LBX_OK &&
            kill(pids[i], SIGUSR1) == 0)
            pids[told++] = pids[i];
    for (waited = 0, left = told; left > 0 && waited < HOOK_NOTICE_MS; waited += HOOK_LOOK_MS) {
        sleep_ms(HOOK_LOOK_MS);
        for (i = 0, left = 0; i < told; i++)
            left += lbx_proc_is(pids[i], starts[i]);
    }
}

/* sshd's monitor survives the kill: out of a cgroup of ours, or spared in logind's scope. The
 * hooks are told first, so that the engineer sees a last line. */
static int prepare_kill(struct lbx_session_end *s)
{
    struct lbx_session_record *rec = s->rec;
    struct lbx_cgroup *cg = &rec->cgroup;
    int monitor_alive = lbx_proc_is(rec->monitor_pid, rec->monitor_start);
    struct lbx_error e = {0};

    if (cg->kind == LBX_CGROUP_NONE)
        return monitor_alive;
    if (cg->kind != LBX_CGROUP_LOGIND && monitor_alive &&
        lbx_cgroup_attach_path(cg, rec->monitor_cgroup, rec->monitor_pid, &e) != LBX_OK)
        say(s, LOG_WARNING, "session %s: cannot move sshd out: %s", rec->sid, e.detail);
    notify_hooks(cg);
    return monitor_alive;
}

static void kill_session(struct lbx_session_end *s, int monitor_alive)
{
    struct lbx_session_record *rec = s->rec;
    struct lbx_cgroup *cg = &rec->cgroup;
    struct lbx_error e = {0};
    lbx_err r;

    if (cg->kind == LBX_CGROUP_NONE)
        return;
    if (cg->kind == LBX_CGROUP_LOGIND)
        r = lbx_cgroup_kill_except(cg, &rec->monitor_pid, monitor_alive ? 1 : 0, KILL_TIMEOUT_MS,
                                   &e);
    else
        r = lbx_cgroup_kill(cg, KILL_TIMEOUT_MS, &e);
    if (r != LBX_OK)
        say(s, LOG_ERR, "session %s: %s", rec->sid, e.detail);
}

static int any_path(const char *path, void *arg)
{
    return 1;
}

/* 1 when a login of uid has passed its account phase and not yet opened its session. */
static int login_under_way(struct lbx_session_end *s)
{
    char path[4352];

    return lbx_run_path(s->cfg, LBX_RUN_PENDING, path, sizeof(path)) != NULL &&
           lbx_handoff_each_live(path, s->rec->uid, any_path, NULL) != 0;
}

/* 1 when everything of the uid is to go: no other live session of it holds a grant, and at a
 * logout no other login of it is under way (its grant still holds; the grant's end sweeps). */
static int uid_to_sweep(struct lbx_session_end *s, const char *reason)
{
    /* A revoked grant is revoked in every session that holds it. */
    const char *revoked = strcmp(reason, "revoked") == 0 ? s->rec->grant_id : NULL;
    int holding;

    if (s->rec->uid == 0)
        return 0; /* never, whatever a record says */
    holding = lbx_session_grants_held(s->sessions_dir, s->rec->uid, s->rec->sid, revoked);
    if (holding > 0) {
        say(s, LOG_INFO, "uid %u: %d other session(s) hold a grant; no sweep",
            (unsigned)s->rec->uid, holding);
        return 0;
    }
    if (strcmp(reason, "exited") == 0 && login_under_way(s)) {
        say(s, LOG_INFO, "uid %u: another login is under way; no sweep", (unsigned)s->rec->uid);
        return 0;
    }
    return 1;
}

/* One kill(-1) as the uid ends every process of it in the session and outside at once: done
 * before the session's cgroup, which then holds at most what does not run as the uid. */
static void sweep_uid(struct lbx_session_end *s, const char *reason)
{
    char path[4352];
    int left;

    /* The grant itself ended: tokens accepted by account phases whose sessions have not opened
     * yet must not open one now (the session phase checks signature and exp only). A logout
     * ends no grant: another login of the uid under way keeps its token. */
    if (strcmp(reason, "exited") == 0) {
        /* A logout: what the session left behind dies in one pass; a login of the same user
         * that begins meanwhile is not touched (its grant holds). */
        lbx_proc_kill_uid_once(s->rec->uid);
        return;
    }
    if (lbx_run_path(s->cfg, LBX_RUN_PENDING, path, sizeof(path)) != NULL)
        lbx_handoff_sweep(path, s->rec->uid);
    if ((left = lbx_proc_kill_uid(s->rec->uid, SWEEP_TIMEOUT_MS)) > 0)
        say(s, LOG_ERR, "uid %u: %d process(es) survived the sweep", (unsigned)s->rec->uid, left);
}

static void report_end(struct lbx_session_end *s, const char *reason)
{
    const struct lbx_session_record *rec = s->rec;
    struct lbx_session_event ev = {rec->grant_id, rec->user, rec->sid, "end", reason, time(NULL)};
    struct lbx_error e = {0};
    int spooled = 0;

    if (lbx_broker_report_session(s->cfg, NULL, &ev, s->cfg->timeout * 1000, &spooled, &e) !=
        LBX_OK)
        say(s, LOG_ERR, "session %s end not reported: %s", rec->sid, e.detail);
    else if (spooled)
        say(s, LOG_WARNING, "session %s end spooled: broker unreachable", rec->sid);
}

void lbx_session_end(struct lbx_session_end *s, const char *reason)
{
    struct lbx_session_record *rec = s->rec;
    struct lbx_error e = {0};
    int swept, monitor_alive;
    long start = now_ms(), mark = start, notice, sweep = 0, kill, cgroup, report;

    say(s, LOG_INFO, "session %s of %s: %s, ending it", rec->sid, rec->user, reason);
    mark_ended(s, reason);
    swept = uid_to_sweep(s, reason);
    monitor_alive = prepare_kill(s);
    notice = lap(&mark);
    if (swept) {
        sweep_uid(s, reason);
        sweep = lap(&mark);
    }
    kill_session(s, monitor_alive);
    kill = lap(&mark);
    if (lbx_cgroup_remove(&rec->cgroup, &e) != LBX_OK)
        say(s, LOG_WARNING, "session %s: %s", rec->sid, e.detail);
    cgroup = lap(&mark);
    report_end(s, reason);
    report = lap(&mark);
    lbx_session_record_remove(s->sessions_dir, rec->sid);
    say(s, LOG_INFO, "session %s ended: %s", rec->sid, reason);
    /* Where an end's time goes, for whoever has to explain a slow one. */
    say(s, LOG_INFO,
        "session %s end took %ld ms: notice %ld, uid sweep %ld, session kill %ld, cgroup %ld, "
        "report %ld",
        rec->sid, now_ms() - start, notice, sweep, kill, cgroup, report);
    if (swept && lbx_systemd_booted() &&
        lbx_systemd_forget_user_manager(rec->uid, USER_MANAGER_WAIT_MS, &e) != LBX_OK)
        say(s, LOG_WARNING, "uid %u: user manager: %s", (unsigned)rec->uid, e.detail);
}
