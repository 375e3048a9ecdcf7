/* Session phase, in sshd's root monitor before it forks the user's child: check the grant
 * again, put the monitor (and so everything it forks) into the session's cgroup, start the
 * reaper that ends it, and write the session record. sshd carries on when this fails, so
 * lockbox-session refuses any session without a record and a live reaper. */
#include <security/pam_modules.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "broker_host.h"
#include "buf.h"
#include "cgroup.h"
#include "pam_internal.h"
#include "proc.h"
#include "session_end.h"
#include "session_record.h"

#define PAM_DATA_SID "lockbox_session_id"

static lbx_err group_gid(const char *name, gid_t *gid, struct lbx_error *e)
{
    lbx_err r = lbx_group_gid(name, gid, e);

    return r == LBX_ERR_NOT_FOUND
               ? lbx_error_set(e, LBX_ERR_CONFIG, "record_group %s does not exist", name)
               : r;
}

static lbx_err dup_into(char **dst, const char *src)
{
    if (src == NULL)
        return LBX_OK;
    return (*dst = strdup(src)) ? LBX_OK : LBX_ERR_NOMEM;
}

/* Everything the record says about the grant comes from the verified claims; only the
 * approver's name (display) comes from the broker's answer. */
static lbx_err fill_record(struct lbx_pam *p, struct lbx_session_record *rec,
                           const struct lbx_claims *c, char **token, char **approved_by,
                           struct lbx_error *e)
{
    lbx_err r;

    rec->token = *token;
    *token = NULL;
    rec->approved_by = *approved_by;
    *approved_by = NULL;
    rec->uid = p->uid;
    rec->exp = c->exp;
    rec->created = time(NULL);
    rec->monitor_pid = getpid();
    if (dup_into(&rec->user, p->user) || dup_into(&rec->grant_id, c->jti) ||
        dup_into(&rec->request_id, c->req) || dup_into(&rec->ticket, c->ticket))
        return lbx_error_set(e, LBX_ERR_NOMEM, "session record");
    if ((r = lbx_proc_start_time(rec->monitor_pid, &rec->monitor_start)) != LBX_OK ||
        (r = lbx_cgroup_of_pid(rec->monitor_pid, rec->cgroup.kind, rec->monitor_cgroup,
                               sizeof(rec->monitor_cgroup))) != LBX_OK)
        return lbx_error_set(e, r, "cannot read sshd's own process state");
    return LBX_OK;
}

static void free_sid(pam_handle_t *pamh, void *data, int status)
{
    free(data);
}

/* Undoes a half-made session: stop the reaper, drop the record, leave and remove the cgroup. */
static void undo(struct lbx_session_record *rec, const char *dir)
{
    if (rec->reaper_pid > 1 && lbx_proc_is(rec->reaper_pid, rec->reaper_start))
        kill(rec->reaper_pid, SIGKILL);
    if (rec->sid[0] != '\0')
        lbx_session_record_remove(dir, rec->sid);
    if (rec->cgroup.kind == LBX_CGROUP_NONE || rec->cgroup.kind == LBX_CGROUP_LOGIND)
        return;
    if (rec->monitor_cgroup[0] != '\0')
        lbx_cgroup_attach_path(&rec->cgroup, rec->monitor_cgroup, getpid(), NULL);
    lbx_cgroup_remove(&rec->cgroup, NULL);
}

/* The reaper was spawned first and has loaded meanwhile: the cgroup and the record naming it,
 * its go, then the monitor's move into the cgroup while it reads the record. It arms itself
 * while sshd forks the user's side; lockbox-session runs nothing before it is armed. */
static lbx_err confine(struct lbx_session_record *rec, const char *dir, gid_t view_gid,
                       struct lbx_reaper_launch *reaper, struct lbx_error *e)
{
    lbx_err r;

    if ((r = lbx_cgroup_create(&rec->cgroup, e)) != LBX_OK ||
        (r = lbx_session_record_write(dir, rec, view_gid, e)) != LBX_OK ||
        (r = lbx_pam_reaper_go(reaper, e)) != LBX_OK)
        return r;
    /* The reaper was spawned before, so it stays outside the cgroup it will kill. */
    if (rec->cgroup.kind != LBX_CGROUP_LOGIND)
        r = lbx_cgroup_attach(&rec->cgroup, getpid(), e);
    return r;
}

static lbx_err open_session(struct lbx_pam *p, struct lbx_session_record *rec, const char *dir,
                            struct lbx_error *e)
{
    struct lbx_reaper_launch reaper = {.pid = -1, .go_fd = -1};
    char *token = NULL, *approved_by = NULL, *sid;
    struct lbx_claims claims = {0};
    gid_t view_gid = 0;
    lbx_err r;

    if ((r = lbx_run_dir_make(&p->cfg, e)) != LBX_OK ||
        (r = lbx_session_new_id(rec->sid)) != LBX_OK ||
        (r = lbx_cgroup_plan(p->cfg.cgroup_mode, p->cfg.cgroup_name, rec->sid, &rec->cgroup, e)) !=
            LBX_OK)
        goto out;
    if (rec->cgroup.kind == LBX_CGROUP_LOGIND) /* the record is named after the scope */
        snprintf(rec->sid, sizeof(rec->sid), "%s", strrchr(rec->cgroup.path, '/') + 1);
    /* The reaper first: it loads while this takes and checks the token and writes the record. */
    if ((r = lbx_pam_reaper_spawn(p, rec->sid, &reaper, e)) != LBX_OK)
        goto out;
    rec->reaper_pid = reaper.pid;
    rec->reaper_start = reaper.start;
    if ((r = lbx_pam_handoff_take(&p->cfg, p->uid, &token, &approved_by, e)) != LBX_OK ||
        (r = lbx_pam_grant_check(p, token, &claims, e)) != LBX_OK ||
        (r = group_gid(p->cfg.record_group, &view_gid, e)) != LBX_OK ||
        (r = fill_record(p, rec, &claims, &token, &approved_by, e)) != LBX_OK ||
        (r = confine(rec, dir, view_gid, &reaper, e)) != LBX_OK)
        goto out;
    if ((sid = strdup(rec->sid)) == NULL ||
        pam_set_data(p->pamh, PAM_DATA_SID, sid, free_sid) != PAM_SUCCESS) {
        free(sid);
        r = lbx_error_set(e, LBX_ERR_NOMEM, "pam_set_data");
    }
out:
    lbx_pam_reaper_abandon(&reaper);
    lbx_free_secret(token);
    free(approved_by);
    lbx_claims_free(&claims);
    return r;
}

lbx_err lbx_pam_open(struct lbx_pam *p)
{
    struct lbx_session_record rec = {0};
    struct lbx_error e = {0};
    char dir[4096];
    lbx_err r;

    if (lbx_pam_is_user_manager(p))
        return LBX_ERR_NOT_MINE; /* allowed in the account phase; ends with the uid sweep */
    lbx_run_path(&p->cfg, LBX_RUN_SESSIONS, dir, sizeof(dir));
    if ((r = open_session(p, &rec, dir, &e)) == LBX_OK) {
        lbx_pam_log(p, LOG_INFO, "session %s for %s: grant %s, %s cgroup %s, reaper %ld", rec.sid,
                    p->user, rec.grant_id, lbx_cgroup_kind_name(rec.cgroup.kind), rec.cgroup.path,
                    (long)rec.reaper_pid);
    } else {
        undo(&rec, dir);
        lbx_pam_log(p, LOG_ERR, "session for %s not guarded: %s (%s)", p->user, lbx_strerror(r),
                    e.detail);
        snprintf(p->reason, sizeof(p->reason), "lockbox: session for %s refused \xe2\x80\x94 %s",
                 p->user, lbx_strerror(r));
        lbx_pam_refuse(p, "session");
    }
    lbx_session_record_free(&rec);
    return r;
}

static void log_line(int prio, const char *msg, void *arg)
{
    lbx_pam_log(arg, prio, "%s", msg);
}

/* The user side is gone: end the session as the reaper would (lib/host/session_end.c) — every
 * process it left, and everything of the uid when no other session holds a grant — unless the
 * reaper has claimed its end first. Claimed before the record is read: see
 * lbx_session_claim_end. */
lbx_err lbx_pam_close(struct lbx_pam *p)
{
    struct lbx_session_record rec;
    struct lbx_session_end end = {&p->cfg, &rec, NULL, (gid_t)-1, log_line, p};
    struct lbx_error e = {0};
    const char *sid = NULL;
    char dir[4096];

    if (pam_get_data(p->pamh, PAM_DATA_SID, (const void **)&sid) != PAM_SUCCESS || sid == NULL)
        return LBX_OK; /* we opened nothing in this process */
    end.sessions_dir = lbx_run_path(&p->cfg, LBX_RUN_SESSIONS, dir, sizeof(dir));
    if (lbx_session_claim_end(dir, sid) == 0) {
        lbx_pam_log(p, LOG_INFO, "session %s for %s: ended by its reaper", sid, p->user);
        return LBX_OK;
    }
    if (lbx_session_record_read(dir, sid, 0, &rec, &e) != LBX_OK) {
        lbx_pam_log(p, LOG_WARNING, "close %s: %s", sid, e.detail);
        return LBX_OK;
    }
    /* A reaper that never armed never reported a start: that session ended in error. */
    lbx_session_end(&end, lbx_session_is_armed(dir, sid) ? "exited" : "error");
    lbx_session_record_free(&rec);
    return LBX_OK;
}
