/* The reaper's side of ending a session (lib/host/session_end.c holds the procedure, shared with
 * the module's pam_close_session) and its reports to the broker. */
#include <stdio.h>
#include <time.h>

#include "broker_host.h"
#include "log.h"
#include "reaper.h"
#include "session_end.h"

void lbx_reaper_report(struct lbx_reaper *rp, struct lbx_http_conn *conn, const char *event,
                       const char *reason)
{
    struct lbx_session_event ev = {rp->rec.grant_id, rp->rec.user, rp->rec.sid, event,
                                   reason,           time(NULL)};
    struct lbx_error e = {0};
    int spooled = 0;

    if (lbx_broker_report_session(&rp->cfg, conn, &ev, rp->cfg.timeout * 1000, &spooled, &e) !=
        LBX_OK)
        lbx_error_f("session %s %s not reported: %s", rp->rec.sid, event, e.detail);
    else if (spooled)
        lbx_warn_f("session %s %s spooled: broker unreachable", rp->rec.sid, event);
}

static void log_line(int prio, const char *msg, void *arg)
{
    lbx_log(prio, "lbx_session_end", "%s", msg);
}

void lbx_teardown(struct lbx_reaper *rp, const char *reason)
{
    struct lbx_session_end s = {&rp->cfg, &rp->rec, rp->sessions_dir, rp->view_gid, log_line, NULL};

    if (lbx_session_claim_end(rp->sessions_dir, rp->rec.sid) == 0) {
        lbx_info_f("session %s: already ended by sshd's close", rp->rec.sid);
        return;
    }
    lbx_session_end(&s, reason);
}
