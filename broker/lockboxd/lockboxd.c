/* lockboxd — the lockbox broker daemon.
 *
 *   lockboxd --config FILE                      serve
 *   lockboxd --check-config FILE                check the file (and the keys it names); exit 1
 *                                               naming file:line when it is bad
 *   lockboxd --config FILE --create-admin NAME  bootstrap: an admin identity and its API token,
 *                                               printed once
 *
 * SIGTERM/SIGINT stop cleanly (in-flight transactions finish, long-polls are answered);
 * SIGHUP reloads the file (TLS certificates, signing key, policy defaults, notifications).
 * With `workers = N` (N > 1) the process supervises N forked workers (workers.c) and passes
 * these signals on to each. */
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "audit.h"
#include "broker.h"
#include "buf.h"
#include "console.h"
#include "http_client.h"
#include "log.h"
#include "notify.h"
#include "tls_ticket.h"

static int usage(void)
{
    fprintf(stderr, "usage: lockboxd --config FILE [--create-admin NAME]\n"
                    "       lockboxd --check-config FILE\n");
    return 2;
}

/* Everything in cfg that needs files: the TLS context and the signing key. */
static lbx_err load_material(const struct broker_config *cfg, SSL_CTX **ctx, struct lbx_key **key,
                             struct lbx_error *e)
{
    lbx_err r;

    if ((r = server_tls_context(cfg, ctx, e)) != LBX_OK)
        return r;
    if ((r = lbx_key_load_private(cfg->signing_key, key, e)) != LBX_OK) {
        SSL_CTX_free(*ctx);
        *ctx = NULL;
    }
    return r;
}

static int check_config(const char *path)
{
    struct broker_config cfg;
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    SSL_CTX *ctx = NULL;
    char msg[300];

    if (broker_config_load(path, &cfg, &e) != LBX_OK || tls_ticket_secret_init(&e) != LBX_OK ||
        load_material(&cfg, &ctx, &key, &e) != LBX_OK) {
        fprintf(stderr, "lockboxd: %s\n", lbx_error_text(&e, msg, sizeof(msg)));
        if (e.code != LBX_ERR_CONFIG)
            broker_config_free(&cfg);
        return 1;
    }
    printf("%s: OK\n", path);
    SSL_CTX_free(ctx);
    lbx_key_free(key);
    broker_config_free(&cfg);
    return 0;
}

static lbx_err bootstrap_admin(struct store *st, const char *name, char **secret, char **id,
                               struct lbx_error *e)
{
    struct audit_event ev = {.action = "admin_bootstrapped",
                             .actor = "bootstrap",
                             .detail = json_pack("{s:s}", "identity", name)};
    json_t *row = NULL;
    int64_t now = (int64_t)time(NULL);
    lbx_err r;

    if ((r = store_begin(st, e)) != LBX_OK) {
        json_decref(ev.detail);
        return r;
    }
    r = store_exec(st, Q_IDENTITY_INSERT,
                   SV_PARAMS(SV_TEXT(name), SV_TEXT(NULL), SV_TEXT(NULL), SV_INT(now)), NULL, NULL,
                   e);
    if (r == LBX_ERR_CONFLICT) /* exists: give it the role and a new token */
        r = LBX_OK;
    if (r == LBX_OK)
        r = store_row(st, Q_ROLE_INSERT,
                      SV_PARAMS(SV_TEXT(name), SV_TEXT("admin"), SV_TEXT("global"), SV_INT(now)),
                      &row, e);
    if (r == LBX_OK)
        r = auth_token_create(st, name, "bootstrap", now + API_TOKEN_LIFETIME_DEFAULT, secret, id,
                              e);
    if (r == LBX_OK)
        json_object_set_new(ev.detail, "token_id", json_string(*id));
    r = r == LBX_OK ? audit_append(st, &ev, e) : (json_decref(ev.detail), r);
    if (r == LBX_OK)
        r = store_commit(st, e);
    else
        store_rollback(st);
    json_decref(row);
    return r;
}

static int create_admin(struct broker *b, const char *name)
{
    struct lbx_error e = {0};
    char *secret = NULL, *id = NULL, msg[300];

    if (!lbx_valid_name(name)) {
        fprintf(stderr, "lockboxd: bad identity name '%s'\n", name);
        return 2;
    }
    if (bootstrap_admin(b->store, name, &secret, &id, &e) != LBX_OK) {
        fprintf(stderr, "lockboxd: %s\n", lbx_error_text(&e, msg, sizeof(msg)));
        return 1;
    }
    /* The only time the secret is ever shown. */
    printf("%s\n", secret);
    lbx_free_secret(secret);
    free(id);
    return 0;
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    struct broker *b = arg;

    lbx_info_f("signal %d: stopping", (int)sig);
    event_base_loopexit(b->base, NULL);
}

/* 0 when the file and its material loaded and replaced the running ones. */
static int reload(struct broker *b)
{
    struct broker_config cfg;
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    SSL_CTX *ctx = NULL;
    char msg[300], *keep_listen, *keep_db;

    if (broker_config_load(b->config_path, &cfg, &e) != LBX_OK ||
        load_material(&cfg, &ctx, &key, &e) != LBX_OK) {
        lbx_error_f("reload refused, keeping the running configuration: %s",
                    lbx_error_text(&e, msg, sizeof(msg)));
        if (e.code != LBX_ERR_CONFIG)
            broker_config_free(&cfg);
        return -1;
    }
    if (strcmp(cfg.listen, b->cfg.listen) != 0 || strcmp(cfg.database, b->cfg.database) != 0 ||
        cfg.workers != b->cfg.workers)
        lbx_warn_f("listen, database and workers changes take effect at the next restart");
    cfg.workers = b->cfg.workers;
    /* The running listener and store stay as they are. */
    keep_listen = b->cfg.listen, keep_db = b->cfg.database;
    b->cfg.listen = NULL, b->cfg.database = NULL;
    free(cfg.listen), free(cfg.database);
    cfg.listen = keep_listen, cfg.database = keep_db;
    broker_config_free(&b->cfg);
    b->cfg = cfg;
    SSL_CTX_free(b->ssl_ctx); /* live connections hold their own reference */
    b->ssl_ctx = ctx;
    lbx_key_free(b->signing_key);
    b->signing_key = key;
    lbx_log_set_level(broker_config_log_level(&b->cfg));
    lbx_info_f("configuration reloaded from %s (signing key %s)", b->config_path, lbx_key_kid(key));
    return 0;
}

/* The supervising parent's SIGHUP: its copy is what restarted workers start with. */
static void reload_parent(struct broker *b)
{
    (void)reload(b);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    struct broker *b = arg;
    struct lbx_error e = {0};

    notify_stop(b);
    if (reload(b) != 0 && b->worker != 0)
        return;
    if (b->worker == 0 && notify_start(b, &e) != LBX_OK)
        lbx_error_f("notifications: %s", e.detail);
}

static lbx_err add_signal(struct broker *b, struct event **ev, int sig,
                          void (*cb)(evutil_socket_t, short, void *))
{
    if ((*ev = evsignal_new(b->base, sig, cb, b)) == NULL || event_add(*ev, NULL) != 0)
        return LBX_ERR_SYSTEM;
    return LBX_OK;
}

/* epoll's changelist: a connection's write event, enabled for an answer and disabled once it
 * is written within the same loop round, costs no epoll_ctl calls at all. */
static struct event_base *new_event_base(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

/* Worker 0 (or the lone broker) also runs the lifecycle timers and the notifications. */
static lbx_err start(struct broker *b, struct lbx_error *e)
{
    lbx_err r;

    if (b->ssl_ctx == NULL && /* a worker inherits its parent's */
        (r = load_material(&b->cfg, &b->ssl_ctx, &b->signing_key, e)) != LBX_OK)
        return r;
    if ((b->base = new_event_base()) == NULL ||
        event_base_priority_init(b->base, BROKER_PRIO_COUNT) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "event_base_new");
    if (add_signal(b, &b->sigterm_ev, SIGTERM, on_stop) ||
        add_signal(b, &b->sigint_ev, SIGINT, on_stop) ||
        add_signal(b, &b->sighup_ev, SIGHUP, on_reload))
        return lbx_error_set(e, LBX_ERR_SYSTEM, "signal handlers");
    if ((r = group_commit_start(b, e)) != LBX_OK ||
        (b->worker == 0 && (r = notify_start(b, e)) != LBX_OK) ||
        (r = clock_start(b, e)) != LBX_OK ||
        (r = peer_wake_start(b, waiters_wake_local, e)) != LBX_OK ||
        (b->console_table != NULL && (r = console_oidc_start(b, e)) != LBX_OK))
        return r;
    return server_start(b, e);
}

static void shutdown_broker(struct broker *b)
{
    server_stop(b);
    console_oidc_stop(b);
    peer_wake_stop(b);
    free(b->wake_wr);
    clock_stop(b);
    refusal_limiter_free(b); /* the last windows' summaries */
    notify_stop(b);
    if (b->sigterm_ev)
        event_free(b->sigterm_ev);
    if (b->sigint_ev)
        event_free(b->sigint_ev);
    if (b->sighup_ev)
        event_free(b->sighup_ev);
    if (b->base)
        event_base_free(b->base);
    SSL_CTX_free(b->ssl_ctx);
    lbx_key_free(b->signing_key);
    tls_ticket_secret_wipe();
    store_close(b->store);
    broker_config_free(&b->cfg);
}

/* The console's session table is made once, before any worker forks (they all share it). */
static lbx_err console_table_init(struct broker *b, struct lbx_error *e)
{
    if (b->cfg.console_url == NULL)
        return LBX_OK;
    lbx_info_f("web console at %s (identity provider %s)", b->cfg.console_url, b->cfg.oidc_issuer);
    return console_table_new(&b->console_table, e);
}

/* One worker (workers.c): its own store connection, opened after the fork. */
static int serve_worker(struct broker *b)
{
    struct lbx_error e = {0};
    char msg[300];
    int rc = 1;

    if (store_open(b->cfg.database, &b->store, &e) != LBX_OK ||
        store_writer_lock_enable(b->store, &e) != LBX_OK || start(b, &e) != LBX_OK) {
        lbx_error_f("worker %d: %s", b->worker, lbx_error_text(&e, msg, sizeof(msg)));
    } else {
        workers_ready(b);
        event_base_dispatch(b->base);
        lbx_info_f("worker %d stopped", b->worker);
        rc = 0;
    }
    shutdown_broker(b);
    return rc;
}

/* The parent migrates the store and loads the material (a bad key stops it here, not in
 * every worker), then never touches the store again. */
static int run_workers(struct broker *b, struct lbx_error *e)
{
    int rc;

    store_close(b->store);
    b->store = NULL;
    if (load_material(&b->cfg, &b->ssl_ctx, &b->signing_key, e) != LBX_OK)
        return 1;
    rc = workers_run(b, serve_worker, reload_parent);
    e->code = LBX_OK; /* workers_run logged its own */
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check-config", required_argument, NULL, 'k'},
                                         {"create-admin", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    struct broker b = {.listen_fd = -1, .wake_rd = -1, .on_transition = waiters_wake};
    struct lbx_error e = {0};
    const char *admin = NULL;
    char msg[300];
    int c, rc = 1;

    lbx_log_init("lockboxd", LBX_LOG_STRUCTURED, LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    umask(027); /* the database holds token hashes and the audit log: not for others */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            return check_config(optarg);
        if (c == 'c')
            b.config_path = optarg;
        else if (c == 'a')
            admin = optarg;
        else
            return usage();
    }
    if (b.config_path == NULL || optind != argc)
        return usage();
    if (broker_config_load(b.config_path, &b.cfg, &e) != LBX_OK) {
        fprintf(stderr, "lockboxd: %s\n", lbx_error_text(&e, msg, sizeof(msg)));
        return 1;
    }
    lbx_log_set_level(broker_config_log_level(&b.cfg));
    lbx_http_init(); /* before the notifier's thread */
    /* Before any worker is forked: they all share it (tls_ticket.c). */
    if (tls_ticket_secret_init(&e) != LBX_OK || store_open(b.cfg.database, &b.store, &e) != LBX_OK)
        goto out;
    if (admin != NULL) {
        rc = create_admin(&b, admin);
        goto out;
    }
    if (console_table_init(&b, &e) != LBX_OK)
        goto out;
    if (b.cfg.workers > 1) {
        rc = run_workers(&b, &e);
        goto out;
    }
    if (start(&b, &e) != LBX_OK || server_ready(&b, &e) != LBX_OK)
        goto out;
    lbx_info_f("lockboxd ready (signing key %s)", lbx_key_kid(b.signing_key));
    event_base_dispatch(b.base);
    lbx_info_f("lockboxd stopped");
    rc = 0;
out:
    if (rc != 0 && e.code != LBX_OK)
        lbx_error_f("%s", lbx_error_text(&e, msg, sizeof(msg)));
    shutdown_broker(&b);
    console_table_free(b.console_table);
    return rc;
}
