/* PAM glue: the pam_sm_* entry points, who is "ours", the one mapping from lbx_err to PAM
 * return codes, and the messages the engineer sees. Account and session logic live in
 * pam_account.c and pam_session.c. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "http_client.h"
#include "keys.h"
#include "log.h"
#include "pam_internal.h"

enum phase { PHASE_ACCOUNT, PHASE_SESSION };

/* OpenSSL's first TLS context of a process costs ~1 ms (its algorithm tables). libpam loads this
 * module at the client's first authentication request, the "none" probe, whose failure sshd
 * pads to a per-user minimum of 5-9 ms: made here (and kept for the account phase's connection,
 * lib/tls_conn.c), the context fits in that wait and costs no login anything. (Loading must stay
 * well under 5 ms: beyond the pad, sshd doubles it.) */
__attribute__((constructor)) static void preload_http_client(void)
{
    lbx_http_init();
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
    elapsed = (now.tv_sec - p->started.tv_sec) * 1000 + (now.tv_nsec - p->started.tv_nsec) / 1000000;
    return p->cfg.timeout * 1000 - elapsed;
}

static int in_group(const char *user, gid_t primary, const char *group)
{
    struct group grp, *g = NULL;
    gid_t *groups = NULL;
    char buf[16384];
    int n = 64, i, member = 0;

    if (getgrnam_r(group, &grp, buf, sizeof(buf), &g) != 0 || g == NULL)
        return 0;
    if (g->gr_gid == primary)
        return 1;
    for (;;) {
        gid_t *grown = realloc(groups, (size_t)n * sizeof(*groups));
        int want = n;

        if (grown == NULL)
            break;
        groups = grown;
        if (getgrouplist(user, primary, groups, &want) >= 0) {
            for (i = 0; i < want && !member; i++)
                member = groups[i] == g->gr_gid;
            break;
        }
        if (want <= n || want > 65536)
            break;
        n = want;
    }
    free(groups);
    return member;
}

/* LBX_OK: a support user with a usable configuration. LBX_ERR_NOT_MINE: leave alone.
 * Anything else: a support user we cannot serve — the caller refuses (fail closed). */
lbx_err lbx_pam_begin(struct lbx_pam *p, pam_handle_t *pamh, int argc, const char **argv)
{
    struct passwd pw, *pwp = NULL;
    char buf[16384], fallback[LBX_FALLBACK_GROUPS][256];
    int i, n, ours = 0;
    struct lbx_error e = {0};
    lbx_err r;

    memset(p, 0, sizeof(*p));
    p->pamh = pamh;
    p->argc = argc;
    p->argv = argv;
    clock_gettime(CLOCK_MONOTONIC, &p->started);
    if (pam_get_item(pamh, PAM_USER, (const void **)&p->user) != PAM_SUCCESS || p->user == NULL ||
        getpwnam_r(p->user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
        return LBX_ERR_NOT_MINE; /* no such account: sshd refuses it without our help */
    p->uid = pw.pw_uid;
    p->gid = pw.pw_gid;
    r = lbx_host_config_load(&p->cfg, argc, argv, LBX_FILE_ROOT, &e);
    if (r != LBX_OK) {
        /* Still tell support users from everyone else, and refuse only the former. */
        n = lbx_host_config_fallback_groups(argc, argv, fallback);
        for (i = 0; i < n && !ours; i++)
            ours = in_group(p->user, p->gid, fallback[i]);
        if (!ours)
            return LBX_ERR_NOT_MINE;
        lbx_pam_log(p, LOG_ERR, "configuration: %s", e.detail);
        snprintf(p->reason, sizeof(p->reason),
                 "lockbox: access refused for %s: host configuration error", p->user);
        return r;
    }
    return in_group(p->user, p->gid, p->cfg.support_group) ? LBX_OK : LBX_ERR_NOT_MINE;
}

void lbx_pam_end(struct lbx_pam *p)
{
    lbx_host_config_free(&p->cfg);
    explicit_bzero(p->reason, sizeof(p->reason));
}

lbx_err lbx_pam_verify(const struct lbx_pam *p, const char *token, struct lbx_claims *claims,
                       struct lbx_error *e)
{
    struct lbx_keyring *ring = NULL;
    struct lbx_verify_opts o = {0};
    lbx_err r;

    memset(claims, 0, sizeof(*claims));
    if ((r = lbx_keyring_new(&ring)) != LBX_OK ||
        (r = lbx_keyring_load_path(ring, p->cfg.trusted_keys, e)) != LBX_OK)
        goto out;
    o.keys = ring;
    o.iss = p->cfg.issuer;
    o.aud = p->cfg.host_id;
    o.sub = p->user;
    o.now = time(NULL);
    o.leeway = (int)p->cfg.leeway;
    if ((r = lbx_token_verify(token, strlen(token), &o, claims, e)) != LBX_OK)
        goto out;
    if (o.now >= claims->exp) {
        lbx_claims_free(claims);
        r = lbx_error_set(e, LBX_ERR_TOKEN_EXPIRED, "grant ended");
    }
out:
    lbx_keyring_free(ring);
    return r;
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
