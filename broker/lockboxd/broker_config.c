#include "broker_config.h"

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "config.h"
#include "lifecycle.h"
#include "store.h"
#include "token.h"

#define C(field) offsetof(struct broker_config, field)
static const struct lbx_opt broker_opts[] = {
    {"listen", LBX_OPT_STRING, C(listen), 0, 0},
    {"ready_file", LBX_OPT_STRING, C(ready_file), 0, 0},
    {"tls_cert", LBX_OPT_STRING, C(tls_cert), 0, 0},
    {"tls_key", LBX_OPT_STRING, C(tls_key), 0, 0},
    {"client_ca", LBX_OPT_STRING, C(client_ca), 0, 0},
    {"people_ca", LBX_OPT_STRING, C(people_ca), 0, 0},
    {"tls_session_lifetime", LBX_OPT_DURATION, C(tls_session_lifetime), 0,
     BROKER_TLS_SESSION_LIFETIME_MAX},
    {"database", LBX_OPT_STRING, C(database), 0, 0},
    {"signing_key", LBX_OPT_STRING, C(signing_key), 0, 0},
    {"issuer", LBX_OPT_STRING, C(issuer), 0, 0},
    {"log_level", LBX_OPT_STRING, C(log_level), 0, 0},
    {"lockbox", LBX_OPT_BOOL, C(lockbox), 0, 1},
    {"request_ttl", LBX_OPT_DURATION, C(request_ttl), 1, LBX_REQUEST_TTL_MAX},
    {"access_duration", LBX_OPT_DURATION, C(access_duration), 1, LBX_GRANT_MAX_LIFETIME},
    {"approvals_required", LBX_OPT_INT, C(approvals_required), 1, 16},
    {"internal_review", LBX_OPT_BOOL, C(internal_review), 0, 1},
    {"max_body", LBX_OPT_INT, C(max_body), 1024, 1024 * 1024},
    {"client_timeout", LBX_OPT_DURATION, C(client_timeout), 1, 300},
    {"tick", LBX_OPT_DURATION, C(tick), 1, 60},
    {"audit_refusals_max", LBX_OPT_INT, C(audit_refusals_max), 1, 100000},
    {"audit_refusals_window", LBX_OPT_DURATION, C(audit_refusals_window), 1, 3600},
    {"notify_webhook", LBX_OPT_STRING, C(notify_webhook), 0, 0},
    {"notify_command", LBX_OPT_STRING, C(notify_command), 0, 0},
    {"notify_ca", LBX_OPT_STRING, C(notify_ca), 0, 0},
    {"notify_max_attempts", LBX_OPT_INT, C(notify_max_attempts), 1, 50},
    {"notify_backoff", LBX_OPT_DURATION, C(notify_backoff), 1, 3600},
    {"notify_timeout", LBX_OPT_DURATION, C(notify_timeout), 1, 120},
    {"workers", LBX_OPT_INT, C(workers), 1, BROKER_WORKERS_MAX},
    {"console_url", LBX_OPT_STRING, C(console_url), 0, 0},
    {"console_web_dir", LBX_OPT_STRING, C(console_web_dir), 0, 0},
    {"console_idle_timeout", LBX_OPT_DURATION, C(console_idle_timeout), 10, 24 * 3600},
    {"console_session_lifetime", LBX_OPT_DURATION, C(console_session_lifetime), 300, 7 * 24 * 3600},
    {"oidc_issuer", LBX_OPT_STRING, C(oidc_issuer), 0, 0},
    {"oidc_client_id", LBX_OPT_STRING, C(oidc_client_id), 0, 0},
    {"oidc_client_secret", LBX_OPT_STRING, C(oidc_client_secret), 0, 0},
    {"oidc_ca", LBX_OPT_STRING, C(oidc_ca), 0, 0},
    {"oidc_identity_claim", LBX_OPT_STRING, C(oidc_identity_claim), 0, 0},
    {NULL, 0, 0, 0, 0},
};
#undef C

static void set_defaults(struct broker_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->lockbox = 1;
    cfg->request_ttl = LBX_REQUEST_TTL_DEFAULT;
    cfg->access_duration = LBX_GRANT_MAX_LIFETIME;
    cfg->approvals_required = 1;
    cfg->max_body = 64 * 1024;
    cfg->client_timeout = 10;
    cfg->tick = 1;
    cfg->audit_refusals_max = 20;
    cfg->audit_refusals_window = 60;
    cfg->notify_max_attempts = 5;
    cfg->notify_backoff = 2;
    cfg->notify_timeout = 5;
    cfg->workers = 1;
    cfg->tls_session_lifetime = 2 * 3600;
    cfg->log_level = strdup("info");                       /* NULL (no memory) means info as well */
    cfg->console_web_dir = strdup(BROKER_CONSOLE_WEB_DIR); /* NULL (no memory): the same */
    cfg->console_idle_timeout = 30 * 60;
    cfg->console_session_lifetime = 8 * 3600;
}

int broker_config_log_level(const struct broker_config *cfg)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        {"error", LOG_ERR}, {"warn", LOG_WARNING}, {"info", LOG_INFO}, {"debug", LOG_DEBUG}};
    size_t i;

    if (cfg->log_level == NULL)
        return LOG_INFO;
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(cfg->log_level, levels[i].name) == 0)
            return levels[i].level;
    return -1;
}

lbx_err broker_config_listen(const char *listen, const char *where, char *host, size_t hostlen,
                             int *port, struct lbx_error *e)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long p;

    if (colon == NULL || (size_t)(colon - listen) >= hostlen || colon == listen)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: listen must be HOST:PORT", where);
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || colon[1] == '-' || colon[1] == '+' ||
        colon[1] == ' ' || p < 0 || p > 65535)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: listen: bad port '%.32s'", where, colon + 1);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    *port = (int)p;
    return LBX_OK;
}

/* The address the daemon will bind: split as the server splits it, resolved as it resolves it. */
static lbx_err check_listen(const char *listen, const char *path, struct lbx_error *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char host[256];
    int port, rc;
    lbx_err r;

    if ((r = broker_config_listen(listen, path, host, sizeof(host), &port, e)) != LBX_OK)
        return r;
    if ((rc = getaddrinfo(host, "0", &hints, &ai)) != 0 || ai == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: listen: cannot resolve '%.64s': %s", path,
                             host, gai_strerror(rc));
    freeaddrinfo(ai);
    return LBX_OK;
}

/* The console's keys belong together; its URL is an origin (links and the Origin check). */
static lbx_err check_console(const struct broker_config *cfg, const char *path, struct lbx_error *e)
{
    const char *u = cfg->console_url, *claim = cfg->oidc_identity_claim;

    if (u == NULL)
        return LBX_OK;
    if (strncmp(u, "https://", 8) != 0 || u[8] == '\0' || strpbrk(u + 8, "/?#@ \"'<>\\") != NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG,
                             "%s: console_url must be an https origin (https://host[:port])", path);
    if (cfg->oidc_issuer == NULL || cfg->oidc_client_id == NULL ||
        cfg->oidc_client_secret == NULL || cfg->oidc_ca == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG,
                             "%s: console_url needs oidc_issuer, oidc_client_id, "
                             "oidc_client_secret and oidc_ca",
                             path);
    if (strncmp(cfg->oidc_issuer, "https://", 8) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: oidc_issuer must be an https URL", path);
    if (claim != NULL && strcmp(claim, "email") != 0 && strcmp(claim, "sub") != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: oidc_identity_claim must be email or sub",
                             path);
    return LBX_OK;
}

static lbx_err check_required(const struct broker_config *cfg, const char *path,
                              struct lbx_error *e)
{
    static const struct {
        const char *name;
        size_t offset;
    } required[] = {
        {"listen", offsetof(struct broker_config, listen)},
        {"tls_cert", offsetof(struct broker_config, tls_cert)},
        {"tls_key", offsetof(struct broker_config, tls_key)},
        {"client_ca", offsetof(struct broker_config, client_ca)},
        {"database", offsetof(struct broker_config, database)},
        {"signing_key", offsetof(struct broker_config, signing_key)},
        {"issuer", offsetof(struct broker_config, issuer)},
    };
    size_t i;
    lbx_err r;

    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (*(char **)((const char *)cfg + required[i].offset) == NULL)
            return lbx_error_set(e, LBX_ERR_CONFIG, "%s: '%s' is required", path, required[i].name);
    if (broker_config_log_level(cfg) < 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: log_level must be error, warn, info or debug",
                             path);
    if (cfg->notify_webhook != NULL && cfg->notify_ca == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: notify_webhook needs notify_ca", path);
    if (store_backend(cfg->database, NULL) == STORE_BACKEND_NONE)
        return lbx_error_set(e, LBX_ERR_CONFIG,
                             "%s: database: unsupported URL (a SQLite path or postgresql://)",
                             path);
    if ((r = check_listen(cfg->listen, path, e)) != LBX_OK)
        return r;
    return check_console(cfg, path, e);
}

void broker_config_defaults(struct broker_config *cfg)
{
    set_defaults(cfg);
}

void broker_config_dump(const struct broker_config *cfg, FILE *out)
{
    lbx_config_dump(broker_opts, cfg, out);
}

lbx_err broker_config_load(const char *path, struct broker_config *cfg, struct lbx_error *e)
{
    lbx_err r;

    set_defaults(cfg);
    if ((r = lbx_config_load(path, LBX_FILE_TRUSTED, broker_opts, cfg, e)) == LBX_OK)
        r = check_required(cfg, path, e);
    if (r != LBX_OK)
        broker_config_free(cfg);
    return r;
}

void broker_config_free(struct broker_config *cfg)
{
    lbx_config_free(broker_opts, cfg);
}
