/* Account phase: sshd calls it for every authentication method, so this is where a support
 * login is allowed or refused. One broker call within one deadline, then our own verification
 * of the token; every refusal carries one line for the engineer. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "broker_host.h"
#include "pam_internal.h"

static void refusal_reason(struct lbx_pam *p, const struct lbx_broker_refusal *ref)
{
    const char *host = p->cfg.host_id;

    if (strcmp(ref->code, "pending") == 0 && ref->request_id[0] && ref->awaiting[0])
        snprintf(p->reason, sizeof(p->reason),
                 "lockbox: no approved grant for %s on %s \xe2\x80\x94 request %s awaits approval "
                 "by the %s",
                 p->user, host, ref->request_id, ref->awaiting);
    else if (ref->message[0])
        snprintf(p->reason, sizeof(p->reason),
                 "lockbox: no approved grant for %s on %s \xe2\x80\x94 %s", p->user, host,
                 ref->message);
    else
        snprintf(p->reason, sizeof(p->reason), "lockbox: no approved grant for %s on %s (%s)",
                 p->user, host, ref->code);
}

static void error_reason(struct lbx_pam *p, lbx_err r)
{
    snprintf(p->reason, sizeof(p->reason), "lockbox: access refused for %s on %s \xe2\x80\x94 %s",
             p->user, p->cfg.host_id, lbx_strerror(r));
}

static lbx_err accept_token(struct lbx_pam *p, const struct lbx_broker_grant *g)
{
    struct lbx_claims claims;
    struct lbx_error e = {0};
    char until[32];
    struct tm tm;
    time_t exp;
    lbx_err r;

    if ((r = lbx_pam_grant_check(p, g->token, &claims, &e)) != LBX_OK) {
        lbx_pam_log(p, LOG_WARNING, "token for %s refused: %s (%s)", p->user, lbx_strerror(r),
                    e.detail);
        error_reason(p, r);
        return r;
    }
    if (strcmp(claims.jti, g->grant_id) != 0) {
        r = LBX_ERR_TOKEN_MALFORMED;
        lbx_pam_log(p, LOG_WARNING, "token for %s names grant %s, broker said %s", p->user,
                    claims.jti, g->grant_id);
        error_reason(p, r);
    } else if ((r = lbx_pam_handoff_write(&p->cfg, p->uid, g->token, g->approved_by, &e)) !=
               LBX_OK) {
        lbx_pam_log(p, LOG_ERR, "cannot keep the token for the session: %s", e.detail);
        error_reason(p, r);
    } else {
        exp = (time_t)claims.exp;
        gmtime_r(&exp, &tm);
        strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
        lbx_pam_log(p, LOG_INFO, "allowed %s: grant %s, request %s, ticket %s, until %s", p->user,
                    claims.jti, claims.req ? claims.req : "-", claims.ticket ? claims.ticket : "-",
                    until);
    }
    lbx_claims_free(&claims);
    return r;
}

lbx_err lbx_pam_account(struct lbx_pam *p)
{
    struct lbx_broker_refusal ref;
    struct lbx_broker_grant g;
    struct lbx_error e = {0};
    lbx_err r;

    if (lbx_pam_is_user_manager(p))
        return lbx_pam_user_manager_account(p);
    /* A refused or failed check must not leave an older token for the session phase. */
    lbx_pam_handoff_clear(&p->cfg, p->uid);
    r = lbx_broker_request_token(&p->cfg, p->user, lbx_pam_remaining_ms(p), &g, &ref, &e);
    if (r == LBX_ERR_NO_GRANT) {
        refusal_reason(p, &ref);
    } else if (r != LBX_OK) {
        lbx_pam_log(p, LOG_ERR, "broker: %s (%s)", lbx_strerror(r), e.detail);
        error_reason(p, r);
    } else {
        r = accept_token(p, &g);
    }
    lbx_broker_grant_free(&g);
    if (r != LBX_OK)
        lbx_pam_refuse(p, "account");
    return r;
}
