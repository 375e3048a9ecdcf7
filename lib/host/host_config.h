/* The host side's one configuration: /etc/lockbox/host.conf plus PAM module arguments, parsed
 * into one struct through the one table. Read by pam_lockbox.so, lockbox-reaper and
 * lockbox-session, so the three never disagree about a path or a timer. */
#ifndef LBX_HOST_CONFIG_H
#define LBX_HOST_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "file.h"
#include "lbx_err.h"

#define LBX_HOST_CONFIG_PATH "/etc/lockbox/host.conf"
#define LBX_SUPPORT_GROUP_DEFAULT "lockbox-support"

struct lbx_host_config {
    char *config;          /* module argument only: which file to read */
    char *broker_url;      /* https://broker:8443 */
    char *ca_file;         /* CA that signed the broker's certificate (pinned) */
    char *cert_file;       /* this host's client certificate (CN = host id) */
    char *key_file;        /* its private key */
    char *host_id;         /* token audience; default: the short host name */
    char *issuer;          /* token issuer */
    char *trusted_keys;    /* broker public key file or directory of *.pub */
    char *support_group;   /* users in this group need a grant; everyone else is ignored */
    char *record_group;    /* group lockbox-session runs as (setgid): reads session views */
    char *run_dir;         /* root-owned runtime state: session records, account hand-off */
    char *record_dir;      /* session recordings (the user cannot write there) */
    char *spool_dir;       /* session reports waiting for the broker */
    char *reaper_path;     /* the lockbox-reaper binary */
    char *cgroup_name;     /* name of our cgroup directory under each hierarchy */
    char *cgroup_mode;     /* "auto" (logind scope, else v2, else freezer), "v2", "freezer" */
    char *session_shell;   /* runs the user's shell and commands when the account's login shell
                              is lockbox-session itself (lbx_file_check_root_program holds) */
    int64_t timeout;       /* one deadline for the account-phase broker call, seconds */
    int64_t leeway;        /* clock skew accepted for nbf/iat, seconds */
    int64_t poll_interval; /* reaper: revocation check period, seconds */
    int64_t
        long_poll; /* reaper: ?wait= for the grant status call (0 = plain polling; default 25) */
    int allow_file_transfer; /* default yes; "no" refuses sftp, scp and rsync in the hook */
    int debug;
};

/* Fills defaults; then reads args ("key=value", `config=` picks the file), the file (trust
 * `trust`), and args again so module arguments override the file. A missing default file is
 * not an error when args name everything; a named file that is missing is. */
lbx_err lbx_host_config_load(struct lbx_host_config *cfg, int argc, const char **argv,
                             enum lbx_file_trust trust, struct lbx_error *e);
/* The same with default_path as the implicit file (lockbox-session: its compiled-in path). */
lbx_err lbx_host_config_load_at(struct lbx_host_config *cfg, const char *default_path, int argc,
                                const char **argv, enum lbx_file_trust trust, struct lbx_error *e);
/* The built-in defaults alone, no file, no arguments (host_id: this host's short name). */
lbx_err lbx_host_config_defaults(struct lbx_host_config *cfg, struct lbx_error *e);
/* Every key as "key = value" (lbx_config_dump). */
void lbx_host_config_dump(const struct lbx_host_config *cfg, FILE *out);
void lbx_host_config_free(struct lbx_host_config *cfg);

/* Fields the broker calls need, checked once: url, CA, certificate, key, host id. */
lbx_err lbx_host_config_require_broker(const struct lbx_host_config *cfg, struct lbx_error *e);

/* Groups whose members count as support users when the configuration could not be loaded
 * (fail closed for them, leave everyone else alone): the module argument, a `support_group`
 * line found in the file — read even when the file failed its ownership check, since a name
 * found there can only add members — and the default. Returns how many names were written. */
#define LBX_FALLBACK_GROUPS 3
int lbx_host_config_fallback_groups(int argc, const char **argv,
                                    char out[LBX_FALLBACK_GROUPS][256]);

#endif
