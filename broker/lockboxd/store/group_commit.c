/* Group commit for the event loop: every write transaction handlers make joins one store
 * transaction (store_group, see store.h), and every answer given while it is open waits.
 * When the loop has nothing more urgent to do (the commit event has the lowest priority:
 * every ready socket and deferred callback runs first) the group commits — one fsync for all
 * of them — and only then do the held answers leave: an answer reporting a write (a token and
 * its token_issued event, an approval) is never sent before that write is on disk, and no
 * answer reveals anything that could still be rolled back. If the commit fails, every held
 * answer becomes a 500.
 *
 * A handler may also defer its write (group_commit_defer): it does its reads and CPU work (a
 * token's lookups and signature) on the loop, outside any transaction, and its write runs on
 * the commit thread (write_thread.c), in that thread's group on its own connection. The loop
 * hands the thread everything deferred since its last batch and goes on serving while the
 * thread writes and commits; the answers leave when the thread reports the commit back. So
 * the loop never waits for an fsync, and with several workers on one store the write lock is
 * held for the writes and the commit only, never across a signature or a parse. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "write_thread.h"

/* Commit at once (highest priority) when this many answers wait or the group is this old:
 * a steady stream of other work must not hold answers back. */
#define GROUP_MAX_REPLIES 256
#define GROUP_MAX_AGE_US 5000
/* A batch this small is written and committed on the loop itself: few clients wait, so the
 * loop has nothing to overlap with the commit, and the two thread wake-ups would only add
 * their latency to every answer. */
#define GROUP_INLINE_MAX 8
/* Distinct things to do once the open group has committed (group_commit_after). */
#define GROUP_AFTER_MAX 4

struct held_reply {
    struct evhttp_request *req;
    int status;
    const char *reason;
    struct evbuffer *body; /* NULL: no body */
};

struct group_commit {
    struct broker *b;
    struct event *idle_ev, *urgent_ev;
    struct held_reply *held;
    size_t n, cap;
    struct write_item *deferred, *inflight; /* waiting for the thread; handed to it */
    size_t n_deferred, cap_deferred, cap_inflight;
    struct write_thread *writer;
    struct timeval opened_at;
    group_after_fn *after[GROUP_AFTER_MAX]; /* each once, after the commit */
    size_t n_after;
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

/* Everything deferred since the last batch goes to the commit thread, unless it is still
 * busy with that one (then its report dispatches the next). A small batch is written here on
 * the loop instead, but never while the loop's own group is open: that group holds the
 * process's writer lock (flock on <db>.writer, one per connection) until its flush, so the
 * batch's BEGIN on the thread's connection would wait for the loop itself (the broker hung
 * with 20 concurrent logins). The thread may wait for it; the loop may not. */
static void dispatch_deferred(struct group_commit *g)
{
    struct write_item *swap = g->inflight;
    size_t cap = g->cap_inflight;

    size_t n = g->n_deferred;

    if (n == 0 || write_thread_busy(g->writer))
        return;
    g->inflight = g->deferred, g->cap_inflight = g->cap_deferred;
    g->deferred = swap, g->cap_deferred = cap;
    g->n_deferred = 0;
    if (n < GROUP_INLINE_MAX && !store_group_is_open(g->b->store))
        write_thread_run_here(g->writer, g->inflight, n);
    else
        write_thread_submit(g->writer, g->inflight, n);
}

/* The thread's report (write_done_fn): the batch's answers, then the next batch. */
static void deferred_done(struct broker *b, struct write_item *items, size_t n, lbx_err committed)
{
    size_t i;

    for (i = 0; i < n; i++)
        items[i].answer(b, items[i].req, items[i].arg, committed == LBX_OK && items[i].r == LBX_OK);
    dispatch_deferred(b->group);
}

void group_commit_flush(struct broker *b)
{
    struct group_commit *g = b->group;
    struct lbx_error e = {0};
    struct timespec t0, t1;
    size_t i;
    lbx_err r;

    if (g == NULL)
        return;
    if (!store_group_is_open(b->store)) {
        dispatch_deferred(g);
        return;
    }
    broker_crash_point("group-before-commit");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((r = store_group_commit(b->store, &e)) != LBX_OK)
        lbx_error_f("group commit of %zu answers failed: %s", g->n, e.detail);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    lbx_debug_f("group commit: %zu answers, %ld us", g->n,
                (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000));
    answer_held(g, r);
    for (i = 0; i < g->n_after; i++)
        if (r == LBX_OK)
            g->after[i](b);
    g->n_after = 0;
    dispatch_deferred(g);
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

static int hold(struct group_commit *g, struct evhttp_request *req, int status, const char *reason,
                struct evbuffer *body)
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

void broker_send_reply(struct broker *b, struct evhttp_request *req, int status, const char *reason,
                       struct evbuffer *body)
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

void group_commit_after(struct broker *b, group_after_fn *fn)
{
    struct group_commit *g = open_group(b);
    size_t i;

    if (g == NULL) {
        fn(b);
        return;
    }
    for (i = 0; i < g->n_after; i++)
        if (g->after[i] == fn)
            return;
    if (g->n_after < GROUP_AFTER_MAX) {
        g->after[g->n_after++] = fn;
        return;
    }
    /* More distinct kinds than the group keeps: a programming error, seen in the log. The
     * action runs at once; what it signals may not be visible yet and is retried on the next
     * tick or re-read by whoever it wakes. */
    lbx_error_f("group commit: more than %d actions after one commit", GROUP_AFTER_MAX);
    fn(b);
}

int group_commit_defer(struct broker *b, struct evhttp_request *req, group_write_fn *write,
                       group_answer_fn *answer, void *arg)
{
    struct group_commit *g = b->group;
    struct write_item *d;
    size_t cap;

    if (g == NULL) { /* no grouping (shutdown): write now, a transaction of its own */
        answer(b, req, arg, write(b->store, arg) == LBX_OK);
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
    g->deferred[g->n_deferred++] =
        (struct write_item){.req = req, .write = write, .answer = answer, .arg = arg};
    if (g->n + g->n_deferred >= GROUP_MAX_REPLIES || group_too_old(g))
        event_active(g->urgent_ev, EV_TIMEOUT, 0);
    return 0;
}

lbx_err group_commit_start(struct broker *b, struct lbx_error *e)
{
    struct group_commit *g = calloc(1, sizeof(*g));
    lbx_err r;

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
    /* The loop's own writes and the thread's queue on the writer lock (never in SQLite's
     * sleeping busy handler), in one process as across workers. */
    if ((r = store_writer_lock_enable(b->store, e)) != LBX_OK)
        return r;
    return write_thread_start(b, deferred_done, &g->writer, e);
}

void group_commit_stop(struct broker *b)
{
    struct group_commit *g = b->group;
    struct lbx_error e = {0};

    if (g == NULL)
        return;
    group_commit_flush(b);
    write_thread_stop(g->writer); /* delivers its batch (and any it was handed meanwhile) */
    g->writer = NULL;
    if (store_group_disable(b->store, &e) != LBX_OK)
        lbx_error_f("last group commit: %s", e.detail);
    if (g->idle_ev != NULL)
        event_free(g->idle_ev);
    if (g->urgent_ev != NULL)
        event_free(g->urgent_ev);
    free(g->held);
    free(g->deferred);
    free(g->inflight);
    free(g);
    b->group = NULL;
}
