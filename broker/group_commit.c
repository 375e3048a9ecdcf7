/* Group commit for the event loop: every write transaction handlers make joins one store
 * transaction (store_group, see store.h), and every answer given while it is open waits.
 * When the loop has nothing more urgent to do (the commit event has the lowest priority:
 * every ready socket and deferred callback runs first) the group commits — one fsync for all
 * of them — and only then do the held answers leave: an answer reporting a write (a token and
 * its token_issued event, an approval) is never sent before that write is on disk, and no
 * answer reveals anything that could still be rolled back. If the commit fails, every held
 * answer becomes a 500.
 *
 * A handler may also defer its write to the flush (group_commit_defer): it does its reads and
 * CPU work (a token's lookups and signature) outside any transaction, and its write runs at the
 * flush, in the group, as a member of its own. With several workers on one store the write
 * lock is then held for the writes and the commit only, never across a signature. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "notify.h"

/* Commit at once (highest priority) when this many answers wait or the group is this old:
 * a steady stream of other work must not hold answers back. */
#define GROUP_MAX_REPLIES 256
#define GROUP_MAX_AGE_US 5000

struct held_reply {
    struct evhttp_request *req;
    int status;
    const char *reason;
    struct evbuffer *body; /* NULL: no body */
};

struct deferred_write {
    struct evhttp_request *req;
    group_write_fn *run;
    void *arg;
};

struct group_commit {
    struct broker *b;
    struct event *idle_ev, *urgent_ev;
    struct held_reply *held;
    size_t n, cap;
    struct deferred_write *deferred;
    size_t n_deferred, cap_deferred;
    struct timeval opened_at;
    int kick_notifier, wake_peers;
};

static void send_now(struct evhttp_request *req, int status, const char *reason,
                     struct evbuffer *body)
{
    evhttp_send_reply(req, status, reason, body);
}

static void answer_held(struct group_commit *g, lbx_err committed)
{
    struct held_reply *h;
    struct evbuffer *err;
    size_t i;

    for (i = 0; i < g->n; i++) {
        h = &g->held[i];
        if (committed == LBX_OK) {
            send_now(h->req, h->status, h->reason, h->body);
        } else if ((err = evbuffer_new()) != NULL) {
            evbuffer_add_printf(err, "{\"error\":\"internal\",\"message\":\"%s\"}\n",
                                lbx_strerror(LBX_ERR_STORE));
            send_now(h->req, 500, "Error", err);
            evbuffer_free(err);
        } else {
            evhttp_send_error(h->req, 500, "Internal Error");
        }
        if (h->body != NULL)
            evbuffer_free(h->body);
    }
    g->n = 0;
}

/* Each deferred write answers through broker_send_reply: held when it joined the group, at
 * once when it failed before (a 500). */
static void run_deferred(struct group_commit *g)
{
    size_t i, n = g->n_deferred;

    g->n_deferred = 0;
    for (i = 0; i < n; i++)
        g->deferred[i].run(g->b, g->deferred[i].req, g->deferred[i].arg);
}

void group_commit_flush(struct broker *b)
{
    struct group_commit *g = b->group;
    struct lbx_error e = {0};
    struct timespec t0, t1;
    lbx_err r;

    if (g == NULL)
        return;
    run_deferred(g);
    if (!store_group_is_open(b->store))
        return;
    broker_crash_point("group-before-commit");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((r = store_group_commit(b->store, &e)) != LBX_OK)
        lbx_error_f("group commit of %zu answers failed: %s", g->n, e.detail);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    lbx_debug_f("group commit: %zu answers, %ld us", g->n,
                (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000));
    answer_held(g, r);
    if (g->kick_notifier && r == LBX_OK)
        notify_kick(b);
    if (g->wake_peers && r == LBX_OK)
        peer_wake_send(b);
    g->kick_notifier = g->wake_peers = 0;
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
    group_commit_flush(arg);
}

static void group_opened(void *arg)
{
    struct broker *b = arg;

    event_base_gettimeofday_cached(b->base, &b->group->opened_at);
    event_active(b->group->idle_ev, EV_TIMEOUT, 0);
}

static int group_too_old(struct group_commit *g)
{
    struct timeval now;

    event_base_gettimeofday_cached(g->b->base, &now);
    return (now.tv_sec - g->opened_at.tv_sec) * 1000000L + (now.tv_usec - g->opened_at.tv_usec) >
           GROUP_MAX_AGE_US;
}

static int hold(struct group_commit *g, struct evhttp_request *req, int status,
                const char *reason, struct evbuffer *body)
{
    struct held_reply *h;
    size_t cap;

    if (g->n == g->cap) {
        cap = g->cap ? g->cap * 2 : 64;
        if ((h = realloc(g->held, cap * sizeof(*h))) == NULL)
            return -1;
        g->held = h, g->cap = cap;
    }
    h = &g->held[g->n];
    *h = (struct held_reply){.req = req, .status = status, .reason = reason};
    if (body != NULL &&
        ((h->body = evbuffer_new()) == NULL || evbuffer_add_buffer(h->body, body) != 0)) {
        if (h->body != NULL)
            evbuffer_free(h->body);
        return -1;
    }
    g->n++;
    if (g->n + g->n_deferred >= GROUP_MAX_REPLIES || group_too_old(g))
        event_active(g->urgent_ev, EV_TIMEOUT, 0);
    return 0;
}

void broker_send_reply(struct broker *b, struct evhttp_request *req, int status,
                       const char *reason, struct evbuffer *body)
{
    if (b->group == NULL || !store_group_is_open(b->store)) {
        send_now(req, status, reason, body);
    } else if (hold(b->group, req, status, reason, body) != 0) {
        lbx_error_f("cannot hold an answer until the group commits: refusing it");
        evhttp_send_error(req, 500, "Internal Error");
    }
}

/* The group while one is open; NULL when a transaction would commit alone (act now). */
static struct group_commit *open_group(struct broker *b)
{
    return b->group != NULL && store_group_is_open(b->store) ? b->group : NULL;
}

int group_commit_defer_kick(struct broker *b)
{
    struct group_commit *g = open_group(b);

    if (g != NULL)
        g->kick_notifier = 1;
    return g != NULL;
}

int group_commit_defer_wake(struct broker *b)
{
    struct group_commit *g = open_group(b);

    if (g != NULL)
        g->wake_peers = 1;
    return g != NULL;
}

int group_commit_defer(struct broker *b, struct evhttp_request *req, group_write_fn *run,
                       void *arg)
{
    struct group_commit *g = b->group;
    struct deferred_write *d;
    size_t cap;

    if (g == NULL) { /* no grouping (shutdown): write now */
        run(b, req, arg);
        return 0;
    }
    if (g->n_deferred == g->cap_deferred) {
        cap = g->cap_deferred ? g->cap_deferred * 2 : 64;
        if ((d = realloc(g->deferred, cap * sizeof(*d))) == NULL)
            return -1;
        g->deferred = d, g->cap_deferred = cap;
    }
    if (g->n_deferred == 0 && !store_group_is_open(b->store))
        group_opened(b); /* the flush must come, as if the group had opened */
    g->deferred[g->n_deferred++] = (struct deferred_write){.req = req, .run = run, .arg = arg};
    if (g->n + g->n_deferred >= GROUP_MAX_REPLIES || group_too_old(g))
        event_active(g->urgent_ev, EV_TIMEOUT, 0);
    return 0;
}

lbx_err group_commit_start(struct broker *b, struct lbx_error *e)
{
    struct group_commit *g = calloc(1, sizeof(*g));

    if (g == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "group commit");
    g->b = b;
    b->group = g;
    if ((g->idle_ev = event_new(b->base, -1, 0, on_commit, b)) == NULL ||
        (g->urgent_ev = event_new(b->base, -1, 0, on_commit, b)) == NULL ||
        event_priority_set(g->idle_ev, BROKER_PRIO_IDLE) != 0 ||
        event_priority_set(g->urgent_ev, BROKER_PRIO_URGENT) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "group commit events");
    store_group_enable(b->store, group_opened, b);
    return LBX_OK;
}

void group_commit_stop(struct broker *b)
{
    struct group_commit *g = b->group;
    struct lbx_error e = {0};

    if (g == NULL)
        return;
    group_commit_flush(b);
    if (store_group_disable(b->store, &e) != LBX_OK)
        lbx_error_f("last group commit: %s", e.detail);
    if (g->idle_ev != NULL)
        event_free(g->idle_ev);
    if (g->urgent_ev != NULL)
        event_free(g->urgent_ev);
    free(g->held);
    free(g->deferred);
    free(g);
    b->group = NULL;
}
