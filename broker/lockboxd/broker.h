/* The daemon's shared state. One event loop (libevent) serves HTTPS and runs the lifecycle
 * timers; the notification worker is a thread with its own store connection. With
 * `workers = N` (N > 1) each of N forked processes has all of this on its own (workers.c);
 * only worker 0 runs the lifecycle timers and the notification worker. */
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
struct group_commit;
struct evhttp_request;
struct evbuffer;
struct console_table;
struct console_oidc;

/* Event priorities (event_base_priority_init(base, BROKER_PRIO_COUNT)): I/O and timers run at
 * the default, the middle one; the group commit waits for idle unless it is overdue. */
enum { BROKER_PRIO_URGENT, BROKER_PRIO_DEFAULT, BROKER_PRIO_IDLE, BROKER_PRIO_COUNT };

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
    struct group_commit *group;       /* NULL: each transaction commits alone (tools, tests) */
    int port;
    /* Workers (workers.c): this process's index (0 when alone), how many there are, its
     * inherited listening socket (-1: bind cfg.listen itself), the wake pipes' write ends
     * (one per worker) and its own read end. */
    int worker, nworkers, listen_fd;
    int *wake_wr, wake_rd;
    struct event *wake_ev;
    void (*wake_local)(struct broker *b); /* what a wake from another worker runs */
    /* What a committed transition sets off besides its notifications (lockboxd.c: wakes the
     * long-polls, api/waiters.c); NULL when nothing waits (tools, unit tests). */
    void (*on_transition)(struct broker *b);
    /* The web console (console.h): sessions shared by all workers, NULL when it is off. */
    struct console_table *console_table;
    struct console_oidc *console_oidc;
};

/* server.c */
lbx_err server_tls_context(const struct broker_config *cfg, SSL_CTX **out, struct lbx_error *e);
lbx_err server_start(struct broker *b, struct lbx_error *e);
/* Serving: writes ready_file (the bound port) and tells systemd (Type=notify) it is ready. */
lbx_err server_ready(struct broker *b, struct lbx_error *e);
/* n listening sockets on the one address (SO_REUSEPORT); *port the port bound (listen's, or
 * the one the kernel picked for port 0). */
lbx_err server_bind(const char *listen, int n, int *fds, int *port, struct lbx_error *e);
void server_stop(struct broker *b);

/* group_commit.c: one commit (one fsync) for the write transactions of many requests, their
 * answers held until it is durable. */
lbx_err group_commit_start(struct broker *b, struct lbx_error *e);
/* Commits the open group now and sends the answers it held. */
void group_commit_flush(struct broker *b);
/* Flushes, then transactions commit alone again (shutdown). */
void group_commit_stop(struct broker *b);
/* The one way answers leave: at once, or held until the open group has committed (a 500 when
 * it cannot). body's contents are taken (may be NULL). */
void broker_send_reply(struct broker *b, struct evhttp_request *req, int status, const char *reason,
                       struct evbuffer *body);
/* Runs fn(b) once the open group has committed (once per fn however often asked; not at all when
 * the commit fails), or at once when no group is open: a signal to another thread or process
 * (the notifier, the other workers) must not reach it before what it announces is visible. */
typedef void group_after_fn(struct broker *b);
void group_commit_after(struct broker *b, group_after_fn *fn);
/* A write deferred to the next flush, run on the commit thread (write_thread.h) with its own
 * store connection: write(st, arg) joins the group there (store_begin on st) and returns what
 * happened (it logs its own errors); after the group's commit, answer(b, req, arg, ok) runs on
 * the loop, once, and answers req — ok is 0 when the write or the commit failed (nothing was
 * written: answer a 500). Returns -1 (out of memory) without calling either. */
typedef lbx_err group_write_fn(struct store *st, void *arg);
typedef void group_answer_fn(struct broker *b, struct evhttp_request *req, void *arg, int ok);
int group_commit_defer(struct broker *b, struct evhttp_request *req, group_write_fn *write,
                       group_answer_fn *answer, void *arg);

/* api/peer_wake.c: a transition made by one worker wakes the long-polls parked on the others;
 * each worker's loop calls wake_local(b) when woken. */
lbx_err peer_wake_pipes(int n, int **wr, int **rd, struct lbx_error *e);
lbx_err peer_wake_start(struct broker *b, void (*wake_local)(struct broker *b),
                        struct lbx_error *e);
void peer_wake_stop(struct broker *b);
/* After a commit that made transitions: one byte to every other worker. */
void peer_wake_send(struct broker *b);

/* workers.c: the supervising parent. serve(b) runs one worker's event loop (b->worker set,
 * its own store still to open) and returns its exit status; reload(b) re-reads the parent's
 * configuration on SIGHUP. Returns the parent's exit status. */
int workers_run(struct broker *b, int (*serve)(struct broker *b), void (*reload)(struct broker *b));
/* In a worker: it serves (the parent waits for every worker's before it reports ready). */
void workers_ready(struct broker *b);

/* clock.c: the broker's tick (every cfg.tick seconds): due transitions, refusal summaries. */
lbx_err clock_start(struct broker *b, struct lbx_error *e);
void clock_stop(struct broker *b);
/* transitions/lifecycle.c, one pass: expires due requests, ends due grants. Returns how many
 * transitions it made. */
int lifecycle_tick(struct broker *b, int64_t now);

/* waiters.c: long-polls on a request or a grant. waiters_wake: after a transition (also tells
 * the other workers); waiters_wake_local: only this process's. */
void waiters_wake(struct broker *b);
void waiters_wake_local(struct broker *b);
void waiters_drop_all(struct broker *b);

/* refusal_limit.c: whether this refused authentication from addr is audited in full (1) or
 * only counted into its window's access_refused_suppressed summary (0). */
int refusal_admit(struct broker *b, const char *addr, int64_t now);
/* Writes the summaries of windows over by now (the timer tick; everything at shutdown). */
void refusal_flush(struct broker *b, int64_t now);
void refusal_limiter_free(struct broker *b);

/* crash_point.c, test-only fault injection: LBX_CRASH_POINT=<name> in lockboxd's environment makes
 * it die by SIGKILL at that point (e.g. "approve-before-commit"), so tests can crash it
 * mid-transition. */
void broker_crash_point(const char *name);

#endif
