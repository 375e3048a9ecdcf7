/* lockboxd's configuration: one file (lib/util/config.h format), loaded at start and on SIGHUP. */
#ifndef LBX_BROKER_CONFIG_H
#define LBX_BROKER_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lbx_err.h"

#define BROKER_WORKERS_MAX 64
/* A resumed TLS session never lasts longer than a grant can. */
#define BROKER_TLS_SESSION_LIFETIME_MAX (8 * 3600)

/* Where the packages install the console's pages (packaging/module.mk: $(DATADIR)/lockbox/web). */
#define BROKER_CONSOLE_WEB_DIR "/usr/share/lockbox/web"

struct broker_config {
    char *listen;     /* "127.0.0.1:8443"; port 0 picks a free one (see ready_file) */
    char *ready_file; /* written with the bound port once serving (optional) */
    char *tls_cert;   /* server certificate chain (PEM) */
    char *tls_key;    /* its private key */
    char *client_ca;  /* the customer CA that issues host client certificates */
    char *people_ca;  /* a separate CA for people's client certificates (optional) */
    /* How long after its full handshake a TLS session may be resumed (0: no resumption). */
    int64_t tls_session_lifetime;
    char *database;    /* SQLite file (or "sqlite:PATH") */
    char *signing_key; /* ES256 private key for grant tokens (lockboxctl key generate) */
    char *issuer;      /* "iss" of grant tokens; hosts check it */
    char *log_level;   /* error, warn, info, debug */
    /* Defaults of the per-tenant/subscription policy. */
    int lockbox;             /* consent required */
    int64_t request_ttl;     /* unanswered requests expire after this */
    int64_t access_duration; /* default and maximum access window (<= 8 h always) */
    long approvals_required; /* distinct approvers needed */
    int internal_review;     /* a support manager approves before the customer is asked */
    /* HTTP limits. */
    long max_body;          /* bytes of a request body */
    int64_t client_timeout; /* idle read/write timeout per connection */
    int64_t tick;           /* how often timers look for expiries */
    /* Refused authentication: audited in full up to this many per source and window. */
    long audit_refusals_max;
    int64_t audit_refusals_window;
    /* Notifications. */
    char *notify_webhook; /* default webhook URL (https) for every scope (optional) */
    char *notify_command; /* sendmail-compatible command (optional) */
    char *notify_ca;      /* CA bundle that webhook receivers are verified against */
    long notify_max_attempts;
    int64_t notify_backoff; /* first retry delay; doubles each attempt */
    int64_t notify_timeout;
    /* Processes serving HTTPS (1: one process, no fork; 2..64: a supervising parent and that
     * many prefork workers, see workers.c). */
    long workers;
    /* The web console (console.h): on when console_url is set. */
    char *console_url;     /* its public https origin, e.g. https://lockbox.example.com */
    char *console_web_dir; /* its pages (BROKER_CONSOLE_WEB_DIR) */
    int64_t console_idle_timeout, console_session_lifetime;
    char *oidc_issuer; /* the customer's OpenID provider */
    char *oidc_client_id;
    char *oidc_client_secret;
    char *oidc_ca;             /* CA bundle the provider's HTTPS is verified against */
    char *oidc_identity_claim; /* "email" (default) or "sub" */
};

/* Loads path into cfg (defaults first) and checks every value the daemon interprets before it
 * opens the store (listen's address resolves, the database's form, log_level, ...): the one
 * validation lockboxd's start, its reload and --check-config share. e names file:line for a
 * bad line, the file and key for a bad value. */
lbx_err broker_config_load(const char *path, struct broker_config *cfg, struct lbx_error *e);
void broker_config_free(struct broker_config *cfg);
/* Splits listen ("HOST:PORT", port 0 to 65535) into host and port; `where` labels errors. */
lbx_err broker_config_listen(const char *listen, const char *where, char *host, size_t hostlen,
                             int *port, struct lbx_error *e);
/* The built-in defaults alone, and every key as "key = value" (what the documentation must
 * say: tests/packaging/t_config_defaults.sh). */
void broker_config_defaults(struct broker_config *cfg);
void broker_config_dump(const struct broker_config *cfg, FILE *out);
/* syslog level for log_level, or -1. */
int broker_config_log_level(const struct broker_config *cfg);

#endif
