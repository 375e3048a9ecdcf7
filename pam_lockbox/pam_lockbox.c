/* PAM glue: the pam_sm_* entry points, who is "ours", the one mapping from lbx_err to PAM
 * return codes, and the messages the engineer sees. Account and session logic live in
 * pam_account.c and pam_session.c. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "http_client.h"
#include "keys.h"
#include "log.h"
#include "pam_internal.h"

enum phase { PHASE_ACCOUNT, PHASE_SESSION };

/* OpenSSL builds its tables lazily: the first TLS context of a process (~2 ms on a small VM)
 * and the first public key or certificate decoded (~0.5 ms: the account phase's saved TLS
 * session holds the broker's certificate). libpam loads this module when sshd's monitor starts
 * PAM, at the client's first authentication request (the "none" probe). sshd's network child
 * does not wait for that: it answers the probe, sleeps out the pad sshd puts on every failed
 * attempt (5-9 ms per user) and only then asks the monitor for anything. Done here, both fit in
 * that sleep and hold no login up. They must stay well inside it: past it the next
 * request waits for the monitor. */
__attribute__((constructor)) static void preload_http_client(void)
{
    lbx_http_init();
    (void)lbx_key_warm(); /* a failure only leaves the cost where it was */
}

/* The only place that decides what PAM hears. */
static int lbx_to_pam(lbx_err r, enum phase phase)
{
    if (r == LBX_OK)
        return PAM_SUCCESS;
    if (r == LBX_ERR_NOT_MINE)
        return PAM_IGNORE;
    return phase == PHASE_ACCOUNT ? PAM_PERM_DENIED : PAM_SESSION_ERR;
}

void lbx_pam_log(const struct lbx_pam *p, int prio, const char *fmt, ...)
{
    char raw[1024], clean[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    pam_syslog(p->pamh, prio, "%s", lbx_sanitize(clean, sizeof(clean), raw));
}

void lbx_pam_refuse(struct lbx_pam *p, const char *phase)
{
    char clean[sizeof(p->reason)];

    lbx_sanitize(clean, sizeof(clean), p->reason);
    lbx_pam_log(p, LOG_NOTICE, "%s refused: %s", phase, clean);
    pam_error(p->pamh, "%s", clean);
}

long lbx_pam_remaining_ms(const struct lbx_pam *p)
{
    struct timespec now;
    long elapsed;

    clock_gettime(CLOCK_MONOTONIC, &now);
    elapsed =
        (now.tv_sec - p->started.tv_sec) * 1000 + (now.tv_nsec - p->started.tv_nsec) / 1000000;
    return p->cfg.timeout * 1000 - elapsed;
}

/* Whether the login is a member of group: the account it names, or the account that owns its
 * uid (a second passwd name on a support uid is that support account). */
static lbx_err login_in_group(const struct lbx_pam *p, const char *group, struct lbx_error *e)
{
    lbx_err r = lbx_group_has(group, &p->named, e);

    if (r == LBX_ERR_NOT_FOUND && p->owner.name != NULL)
        r = lbx_group_has(group, &p->owner, e);
    return r;
}

/* LBX_OK when the login is in one of groups, LBX_ERR_NOT_FOUND when it is in none of them,
 * LBX_ERR_SYSTEM when NSS could not say for some group and it is in none of the others. */
static lbx_err login_in_groups(const struct lbx_pam *p, char groups[][256], int n,
                               struct lbx_error *e)
{
    struct lbx_error one = {0};
    lbx_err r, verdict = LBX_ERR_NOT_FOUND;
    int i;

    for (i = 0; i < n; i++) {
        if ((r = login_in_group(p, groups[i], &one)) == LBX_OK)
            return LBX_OK;
        if (r != LBX_ERR_NOT_FOUND && verdict == LBX_ERR_NOT_FOUND) {
            verdict = r;
            *e = one;
        }
    }
    return verdict;
}

/* Fail closed: a login whose account or support membership NSS cannot tell is refused. */
static lbx_err undecided(struct lbx_pam *p, lbx_err r, const struct lbx_error *e)
{
    lbx_pam_log(p, LOG_ERR, "cannot tell whether %s is a support user: %s", p->login, e->detail);
    snprintf(p->reason, sizeof(p->reason),
             "lockbox: access refused for %s: cannot look up the account (%s)", p->login,
             lbx_strerror(r));
    return r;
}

/* The login's account (PAM_USER as NSS resolves it) and the account owning its uid. uid 0 is
 * never ours, even when NSS fails. */
static lbx_err resolve_login(struct lbx_pam *p, struct lbx_error *e)
{
    lbx_err r;

    if ((r = lbx_account_by_name(p->login, &p->named, e)) == LBX_ERR_NOT_FOUND)
        return LBX_ERR_NOT_MINE; /* no such account: sshd refuses it without our help */
    if (r != LBX_OK)
        return strcmp(p->login, "root") == 0 ? LBX_ERR_NOT_MINE : undecided(p, r, e);
    if (p->named.uid == 0)
        return LBX_ERR_NOT_MINE;
    r = lbx_account_by_uid(p->named.uid, &p->owner, e);
    if (r == LBX_ERR_NOT_FOUND || (r == LBX_OK && strcmp(p->owner.name, p->named.name) == 0)) {
        lbx_account_free(&p->owner);
        r = LBX_OK;
    } else if (r != LBX_OK) {
        return undecided(p, r, e);
    }
    p->uid = p->named.uid;
    p->user = p->owner.name ? p->owner.name : p->named.name;
    return LBX_OK;
}

/* A support account logs in under its canonical name only: a case variant (ALICE for alice under
 * case-insensitive NSS) or a second name on its uid would be a grant for another name. */
static lbx_err require_canonical(struct lbx_pam *p)
{
    if (strcmp(p->login, p->user) == 0)
        return LBX_OK;
    lbx_pam_log(p, LOG_WARNING, "%s is the support account %s (uid %lu) under another name",
                p->login, p->user, (unsigned long)p->uid);
    snprintf(p->reason, sizeof(p->reason),
             "lockbox: access refused for %s: support accounts log in as %s", p->login, p->user);
    return LBX_ERR_FORBIDDEN;
}

/* LBX_OK: a support user with a usable configuration. LBX_ERR_NOT_MINE: leave alone.
 * Anything else: a support user, or a login NSS cannot classify, that we cannot serve — the
 * caller refuses (fail closed). */
lbx_err lbx_pam_begin(struct lbx_pam *p, pam_handle_t *pamh, int argc, const char **argv)
{
    char groups[LBX_FALLBACK_GROUPS][256];
    struct lbx_error e = {0}, ce = {0};
    lbx_err r, cr;
    int n;

    memset(p, 0, sizeof(*p));
    p->pamh = pamh;
    p->argc = argc;
    p->argv = argv;
    clock_gettime(CLOCK_MONOTONIC, &p->started);
    if (pam_get_item(pamh, PAM_USER, (const void **)&p->login) != PAM_SUCCESS || p->login == NULL)
        return LBX_ERR_NOT_MINE;
    if ((r = resolve_login(p, &e)) != LBX_OK)
        return r;
    cr = lbx_host_config_load(&p->cfg, argc, argv, LBX_FILE_ROOT, &ce);
    if (cr == LBX_OK) {
        snprintf(groups[0], sizeof(groups[0]), "%s", p->cfg.support_group);
        n = 1;
    } else { /* still tell support users from everyone else, and refuse only the former */
        n = lbx_host_config_fallback_groups(argc, argv, groups);
    }
    if ((r = login_in_groups(p, groups, n, &e)) == LBX_ERR_NOT_FOUND)
        return LBX_ERR_NOT_MINE;
    if (r != LBX_OK)
        return undecided(p, r, &e);
    if (cr != LBX_OK) {
        lbx_pam_log(p, LOG_ERR, "configuration: %s", ce.detail);
        snprintf(p->reason, sizeof(p->reason),
                 "lockbox: access refused for %s: host configuration error", p->user);
        return cr;
    }
    return require_canonical(p);
}

void lbx_pam_end(struct lbx_pam *p)
{
    lbx_host_config_free(&p->cfg);
    lbx_account_free(&p->named);
    lbx_account_free(&p->owner);
    explicit_bzero(p->reason, sizeof(p->reason));
}

static int run(pam_handle_t *pamh, int argc, const char **argv, enum phase phase,
               lbx_err (*body)(struct lbx_pam *), const char *name)
{
    struct lbx_pam p;
    lbx_err r;

    r = lbx_pam_begin(&p, pamh, argc, argv);
    if (r == LBX_OK)
        r = body(&p);
    else if (r != LBX_ERR_NOT_MINE)
        lbx_pam_refuse(&p, name);
    lbx_pam_end(&p);
    return lbx_to_pam(r, phase);
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, argc, argv, PHASE_ACCOUNT, lbx_pam_account, "account");
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, argc, argv, PHASE_SESSION, lbx_pam_open, "session");
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, argc, argv, PHASE_SESSION, lbx_pam_close, "close");
}

/* Authentication is someone else's job (keys, passwords); the grant is an account matter. */
PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return PAM_IGNORE;
}
