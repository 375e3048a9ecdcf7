/* Ending a guarded session: one procedure for every way a session ends — the reaper at the
 * grant's expiry, on revocation, when sshd vanished or the session cannot be guarded, and the
 * module's pam_close_session at a normal logout. Whoever claims the end first
 * (lbx_session_claim_end) runs it; the other sees the claim and leaves. The order matters:
 *   1. mark the record ended (lockbox-session shows the reason);
 *   2. take sshd's monitor out of a cgroup of ours (logind scope: it is spared instead), so it
 *      survives, runs pam_close_session and closes the connection cleanly;
 *   3. tell lockbox-session (SIGUSR1) so the engineer sees a last line, give it a moment;
 *   4. when no other live session of the uid holds a grant, kill everything of the uid, in the
 *      session and outside it (systemd-run --user, lingering, cron and at jobs, the user
 *      manager): one kill(-1) as the uid, the quickest way to end many processes at once;
 *   5. kill every other process of the session's cgroup, however it was daemonized;
 *   6. remove the cgroup, report the end (spooled while the broker is away), remove the record;
 *   7. on systemd, clear the failed state of the user manager the sweep killed. */
#ifndef LBX_SESSION_END_H
#define LBX_SESSION_END_H

#include <sys/types.h>

#include "host_config.h"
#include "session_record.h"

struct lbx_session_end {
    const struct lbx_host_config *cfg;
    struct lbx_session_record *rec; /* the full record (.json) */
    const char *sessions_dir;
    gid_t view_gid; /* group of the record's view; (gid_t)-1 keeps it */
    /* The one logger of the caller: the reaper's syslog, or pam_syslog inside sshd. */
    void (*log)(int prio, const char *msg, void *arg);
    void *log_arg;
};

/* Ends the session for reason: "expired", "revoked", "exited" (logout, or sshd gone with
 * nothing left), "error" (it could not be guarded). The caller holds the claim, or could not
 * make one for an error of the system (then it ends the session anyway: fail closed). */
void lbx_session_end(struct lbx_session_end *s, const char *reason);

#endif
