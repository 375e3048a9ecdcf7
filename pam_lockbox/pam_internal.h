/* Shared between the files of pam_lockbox.so (nothing here is exported: see pam_lockbox.map).
 * One context per PAM call, on the stack; the module keeps no global mutable state. */
#ifndef LBX_PAM_INTERNAL_H
#define LBX_PAM_INTERNAL_H

#include <security/pam_modules.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "account.h"
#include "grant_check.h"
#include "host_config.h"
#include "run_dir.h"
#include "lbx_err.h"
#include "token.h"

struct lbx_pam {
    pam_handle_t *pamh;
    int argc;
    const char **argv;
    struct lbx_host_config cfg;
    const char *login; /* PAM_USER as the client typed it, owned by libpam */
    /* Its account as NSS resolves it, and the account owning that uid when it has another
     * name (owner.name is NULL otherwise). */
    struct lbx_account named, owner;
    const char *user; /* the canonical name: the uid owner's; grants and records use it */
    uid_t uid;
    struct timespec started; /* CLOCK_MONOTONIC: the call's one deadline counts from here */
    char reason[512];        /* the line the engineer sees when we refuse */
};

/* pam_lockbox.c: context, messages */
lbx_err lbx_pam_begin(struct lbx_pam *p, pam_handle_t *pamh, int argc, const char **argv);
void lbx_pam_end(struct lbx_pam *p);
long lbx_pam_remaining_ms(const struct lbx_pam *p);
/* Shows p->reason to the engineer (PAM_ERROR_MSG) and logs it. */
void lbx_pam_refuse(struct lbx_pam *p, const char *phase);
void lbx_pam_log(const struct lbx_pam *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* pam_state.c: the account phase's accepted token, kept for the session phase of the same
 * connection in root-owned state, keyed by sshd's monitor (under keyboard-interactive the
 * account phase runs in a child of it, so PAM data would be lost). */
lbx_err lbx_pam_handoff_write(const struct lbx_host_config *cfg, uid_t uid, const char *token,
                              const char *approved_by, struct lbx_error *e);
/* Reads and removes the entry written for this process. */
lbx_err lbx_pam_handoff_take(const struct lbx_host_config *cfg, uid_t uid, char **token,
                             char **approved_by, struct lbx_error *e);
/* 1 when a login of this user, still under way, holds an accepted token that verifies now. */
int lbx_pam_handoff_held(const struct lbx_pam *p);
/* Removes this login's entries and every entry whose process is gone. */
void lbx_pam_handoff_clear(const struct lbx_host_config *cfg, uid_t uid);

/* spawn.c: lockbox-reaper for session sid in steps, so the module works while it loads:
 * spawn it (its pid and start time are known at once: the record names it), give it the go
 * once the record is written. It arms itself; lockbox-session waits for that. Abandon (any
 * time, idempotent) closes what is left: before the go the reaper sees its go socket close
 * and exits by itself. */
struct lbx_reaper_launch {
    pid_t pid;
    uint64_t start;
    int go_fd;
};
lbx_err lbx_pam_reaper_spawn(const struct lbx_pam *p, const char *sid, struct lbx_reaper_launch *l,
                             struct lbx_error *e);
lbx_err lbx_pam_reaper_go(struct lbx_reaper_launch *l, struct lbx_error *e);
void lbx_pam_reaper_abandon(struct lbx_reaper_launch *l);

/* pam_keys.c: lbx_grant_check for this login, with the trusted keys read once per process */
lbx_err lbx_pam_grant_check(struct lbx_pam *p, const char *token, struct lbx_claims *claims,
                            struct lbx_error *e);

/* pam_user_manager.c: the PAM service of systemd's user manager (user@UID.service) */
int lbx_pam_is_user_manager(const struct lbx_pam *p);
lbx_err lbx_pam_user_manager_account(struct lbx_pam *p);

/* phases */
lbx_err lbx_pam_account(struct lbx_pam *p);
lbx_err lbx_pam_open(struct lbx_pam *p);
lbx_err lbx_pam_close(struct lbx_pam *p);

#endif
