/* systemd's user manager. Starting user@UID.service, systemd runs the PAM service
 * "systemd-user", which includes common-account and common-session: so this module is asked
 * about the manager of every support user. The manager is not a login. It is allowed while the
 * uid holds a grant on this host — a support login under way with an accepted token (the
 * manager starts while pam_systemd opens that login's session, before this module's session
 * phase), or a live guarded session — and refused otherwise (a lingering manager at boot, or
 * one started after the grant ended). It gets no session, cgroup or reaper of its own: it runs
 * in user@UID.service, and ends with the uid sweep when the last granted session ends. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "pam_internal.h"
#include "session_record.h"

#define USER_MANAGER_SERVICE "systemd-user"

int lbx_pam_is_user_manager(const struct lbx_pam *p)
{
    const char *service = NULL;

    return pam_get_item(p->pamh, PAM_SERVICE, (const void **)&service) == PAM_SUCCESS &&
           service != NULL && strcmp(service, USER_MANAGER_SERVICE) == 0;
}

lbx_err lbx_pam_user_manager_account(struct lbx_pam *p)
{
    char dir[4096];

    lbx_run_path(&p->cfg, LBX_RUN_SESSIONS, dir, sizeof(dir));
    if (lbx_session_grants_held(dir, p->uid, NULL, NULL) > 0 || lbx_pam_handoff_held(p)) {
        lbx_pam_log(p, LOG_INFO, "user manager of %s allowed: the user holds a grant", p->user);
        return LBX_OK;
    }
    snprintf(p->reason, sizeof(p->reason),
             "lockbox: user manager of %s refused \xe2\x80\x94 no grant on this host", p->user);
    lbx_pam_refuse(p, "account");
    return LBX_ERR_NO_GRANT;
}
