/* The daemon's shared state. One event loop (libevent) serves HTTPS and runs the lifecycle
 * timers; the notification worker is a thread with its own store connection. */
#ifndef LBX_BROKER_H
#define LBX_BROKER_H

#include <openssl/ssl.h>
#include <pthread.h>

#include "broker_config.h"
#include "keys.h"
#include "store.h"

struct event_base;
struct evhttp;
struct event;
struct waiter;
struct notifier;
struct refusal_limiter;

struct broker {
    char *config_path;
    struct broker_config cfg;
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *ssl_ctx; /* replaced on SIGHUP; each connection keeps a reference to its own */
    struct store *store;
    struct lbx_key *signing_key;
    struct event *tick_ev, *sigterm_ev, *sigint_ev, *sighup_ev;
    struct waiter *waiters; /* long-polls in progress */
    struct notifier *notifier;
    struct refusal_limiter *refusals; /* refused-authentication audit budget per source */
    int port;
};

/* server.c */
lbx_err server_tls_context(const struct broker_config *cfg, SSL_CTX **out, struct lbx_error *e);
lbx_err server_start(struct broker *b, struct lbx_error *e);
void server_stop(struct broker *b);

/* lifecycle.c: the timers that expire requests and end grants. */
lbx_err lifecycle_start(struct broker *b, struct lbx_error *e);
void lifecycle_stop(struct broker *b);
/* One pass: expires due requests, ends due grants. Returns how many transitions it made. */
int lifecycle_tick(struct broker *b, int64_t now);

/* waiters.c: long-polls on a request or a grant. */
void waiters_wake(struct broker *b);
void waiters_drop_all(struct broker *b);

/* refusal_limit.c: whether this refused authentication from addr is audited in full (1) or
 * only counted into its window's access_refused_suppressed summary (0). */
int refusal_admit(struct broker *b, const char *addr, int64_t now);
/* Writes the summaries of windows over by now (the timer tick; everything at shutdown). */
void refusal_flush(struct broker *b, int64_t now);
void refusal_limiter_free(struct broker *b);

/* Test-only fault injection: LBX_CRASH_POINT=<name> in lockboxd's environment makes it die by
 * SIGKILL at that point (e.g. "approve-before-commit"), so tests can crash it mid-transition. */
void broker_crash_point(const char *name);

#endif
