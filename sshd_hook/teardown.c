/* Ending a session. The order matters:
 *   1. mark the record ended (lockbox-session and pam_close_session read the reason);
 *   2. move sshd's monitor out of the session cgroup, so it survives, runs pam_close_session
 *      and closes the connection cleanly;
 *   3. tell lockbox-session (SIGUSR1) so the engineer sees a last line, give it a moment;
 *   4. kill the whole cgroup: every process, however it was daemonized;
 *   5. when no other live session of the uid holds a grant, kill whatever still runs as the
 *      uid (systemd-run --user, lingering, anything outside the cgroup);
 *   6. report the end (spooled while the broker is away), remove the cgroup. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker_host.h"
#include "cgroup.h"
#include "handoff.h"
#include "log.h"
#include "proc.h"
#include "reaper.h"

#define HOOK_NOTICE_MS 150
#define KILL_TIMEOUT_MS 1000
#define SWEEP_ROUNDS 20
#define RECORD_WAIT_MS 5000
#define MAX_PIDS 4096

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

void lbx_reaper_report(struct lbx_reaper *rp, struct lbx_http_conn *conn, const char *event,
                       const char *reason)
{
    struct lbx_session_event ev = {rp->rec.grant_id, rp->rec.user, rp->rec.sid, event, reason,
                                   time(NULL)};
    struct lbx_error e = {0};
    int spooled = 0;

    if (lbx_broker_report_session(&rp->cfg, conn, &ev, rp->cfg.timeout * 1000, &spooled, &e) != LBX_OK)
        lbx_error_f("session %s %s not reported: %s", rp->rec.sid, event, e.detail);
    else if (spooled)
        lbx_warn_f("session %s %s spooled: broker unreachable", rp->rec.sid, event);
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

static void notify_hooks(const struct lbx_cgroup *cg)
{
    pid_t pids[MAX_PIDS];
    int n = lbx_cgroup_procs(cg, pids, MAX_PIDS), i, told = 0;

    for (i = 0; i < n && i < MAX_PIDS; i++)
        if (is_hook(pids[i]) && kill(pids[i], SIGUSR1) == 0)
            told++;
    if (told > 0)
        sleep_ms(HOOK_NOTICE_MS);
}

struct other_sessions {
    const struct lbx_reaper *self;
    const char *reason;
    int holding;
};

/* Another session of the same uid still holds a grant when its reaper lives, it is not ended,
 * its exp is ahead, and it is not the grant we are ending for revocation. */
static void count_holding(const struct lbx_session_record *r, void *arg)
{
    struct other_sessions *o = arg;
    const struct lbx_session_record *me = &o->self->rec;

    if (strcmp(r->sid, me->sid) == 0 || r->uid != me->uid || r->ended != NULL ||
        r->exp <= time(NULL) || !lbx_proc_is(r->reaper_pid, r->reaper_start))
        return;
    if (strcmp(o->reason, "revoked") == 0 && strcmp(r->grant_id, me->grant_id) == 0)
        return;
    o->holding++;
}

static void kill_pid(pid_t pid, void *arg)
{
    kill(pid, SIGKILL);
}

static void sweep_uid(struct lbx_reaper *rp, const char *reason)
{
    struct other_sessions o = {rp, reason, 0};
    int round, left = 0;
    char path[4352];

    if (rp->rec.uid == 0)
        return; /* never, whatever a record says */
    lbx_session_record_each(rp->sessions_dir, count_holding, &o);
    if (o.holding > 0) {
        lbx_info_f("uid %u: %d other session(s) hold a grant; no sweep", (unsigned)rp->rec.uid,
                   o.holding);
        return;
    }
    /* No grant left for this uid: tokens accepted by account phases whose sessions have not
     * opened yet must not open one now (the session phase checks signature and exp only). */
    snprintf(path, sizeof(path), "%s/pending", rp->cfg.run_dir);
    lbx_handoff_sweep(path, rp->rec.uid);
    for (round = 0; round < SWEEP_ROUNDS; round++) {
        if ((left = lbx_proc_for_uid(rp->rec.uid, kill_pid, NULL)) == 0)
            break;
        sleep_ms(10);
    }
    if (left > 0)
        lbx_error_f("uid %u: %d process(es) survived the sweep", (unsigned)rp->rec.uid, left);
}

static void mark_ended(struct lbx_reaper *rp, const char *reason)
{
    struct lbx_error e = {0};

    free(rp->rec.ended);
    rp->rec.ended = strdup(reason);
    rp->rec.ended_at = time(NULL);
    if (lbx_session_record_write(rp->sessions_dir, &rp->rec, rp->view_gid, &e) != LBX_OK)
        lbx_warn_f("session %s: %s", rp->rec.sid, e.detail);
}

/* sshd's close removes the record; if the monitor is gone or stuck, do it ourselves. */
static void wait_record_gone(struct lbx_reaper *rp)
{
    char path[4352];
    int waited;

    snprintf(path, sizeof(path), "%s/%s.json", rp->sessions_dir, rp->rec.sid);
    for (waited = 0; waited < RECORD_WAIT_MS && access(path, F_OK) == 0; waited += 50) {
        if (!lbx_proc_is(rp->rec.monitor_pid, rp->rec.monitor_start))
            break;
        sleep_ms(50);
    }
    lbx_session_record_remove(rp->sessions_dir, rp->rec.sid);
}

void lbx_teardown(struct lbx_reaper *rp, const char *reason)
{
    struct lbx_cgroup *cg = &rp->rec.cgroup;
    struct lbx_error e = {0};

    lbx_info_f("session %s of %s: %s, ending it", rp->rec.sid, rp->rec.user, reason);
    mark_ended(rp, reason);
    if (cg->kind != LBX_CGROUP_LOGIND &&
        lbx_proc_is(rp->rec.monitor_pid, rp->rec.monitor_start) &&
        lbx_cgroup_attach_path(cg, rp->rec.monitor_cgroup, rp->rec.monitor_pid, &e) != LBX_OK)
        lbx_warn_f("cannot move sshd out: %s", e.detail);
    notify_hooks(cg);
    if (lbx_cgroup_kill(cg, KILL_TIMEOUT_MS, &e) != LBX_OK)
        lbx_error_f("%s", e.detail);
    sweep_uid(rp, reason);
    if (lbx_cgroup_remove(cg, &e) != LBX_OK)
        lbx_warn_f("%s", e.detail);
    lbx_info_f("session %s ended: %s", rp->rec.sid, reason);
    lbx_reaper_report(rp, NULL, "end", reason);
    wait_record_gone(rp);
}

void lbx_teardown_exited(struct lbx_reaper *rp)
{
    struct lbx_error e = {0};

    lbx_info_f("session %s of %s: sshd gone, session over", rp->rec.sid, rp->rec.user);
    mark_ended(rp, "exited");
    if (lbx_cgroup_remove(&rp->rec.cgroup, &e) != LBX_OK)
        lbx_warn_f("%s", e.detail);
    lbx_reaper_report(rp, NULL, "end", "exited");
    lbx_session_record_remove(rp->sessions_dir, rp->rec.sid);
}
