/* The commit thread of the deferred writes (see write_thread.h): the event loop hands it a
 * batch, goes on parsing and signing the next requests, and hears back through a pipe once
 * the batch's one commit (and its fsync) has returned. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "write_thread.h"

struct write_thread {
    struct broker *b;
    struct store *st; /* the thread's own connection */
    write_done_fn *done;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct write_item *batch; /* handed over, not yet finished; NULL when idle */
    size_t n;
    int finished, stop;
    int upkeep; /* the thread runs its store's upkeep: busy, though its batch is delivered */
    lbx_err committed;
    int pipe_rd, pipe_wr;
    struct event *done_ev;
};

static void no_open_hook(void *arg)
{
    (void)arg;
}

/* One batch: every item's write joins the group on the thread's connection, then one
 * commit. Only then may its answers leave (the loop sends them in `done`). */
static lbx_err run_batch(struct store *st, struct write_item *items, size_t n)
{
    struct lbx_error e = {0};
    struct timespec t0, t1, t2;
    size_t i;
    lbx_err r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n; i++)
        items[i].r = items[i].write(st, items[i].arg);
    broker_crash_point("group-before-commit");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((r = store_group_commit(st, &e)) != LBX_OK)
        lbx_error_f("group commit of %zu deferred writes failed: %s", n, e.detail);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    lbx_debug_f("deferred group: %zu writes, %ld us writing, %ld us committing", n,
                (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000),
                (long)((t2.tv_sec - t1.tv_sec) * 1000000L + (t2.tv_nsec - t1.tv_nsec) / 1000));
    broker_crash_point("group-after-commit");
    return r;
}

static void wake_loop(struct write_thread *w)
{
    if (write(w->pipe_wr, "d", 1) < 0 && errno != EAGAIN)
        lbx_warn_f("commit thread wake-up: %s", strerror(errno));
}

static void *thread_main(void *arg)
{
    struct write_thread *w = arg;
    struct write_item *items;
    size_t n;
    lbx_err r;

    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stop && (w->batch == NULL || w->finished))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->batch == NULL || w->finished) { /* stopping with nothing to do */
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        items = w->batch, n = w->n;
        pthread_mutex_unlock(&w->mu);
        r = run_batch(w->st, items, n);
        pthread_mutex_lock(&w->mu);
        w->committed = r;
        w->finished = w->upkeep = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        wake_loop(w);
        store_upkeep(w->st); /* the answers are on their way: now the checkpoint */
        pthread_mutex_lock(&w->mu);
        w->upkeep = 0;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        wake_loop(w); /* idle again: the loop hands over what waited */
    }
}

/* The finished batch goes back to the loop; with none finished and the thread idle, `done`
 * gets an empty batch (the thread is free for the next). */
static void deliver(struct write_thread *w)
{
    struct write_item *items;
    size_t n;
    lbx_err r;
    int idle;

    pthread_mutex_lock(&w->mu);
    if (!w->finished) {
        idle = w->batch == NULL && !w->upkeep;
        pthread_mutex_unlock(&w->mu);
        if (idle)
            w->done(w->b, NULL, 0, LBX_OK);
        return;
    }
    items = w->batch, n = w->n, r = w->committed;
    w->batch = NULL, w->n = 0, w->finished = 0;
    pthread_mutex_unlock(&w->mu);
    w->done(w->b, items, n, r);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    char buf[64];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    deliver(arg);
}

int write_thread_busy(struct write_thread *w)
{
    int busy;

    pthread_mutex_lock(&w->mu);
    busy = w->batch != NULL || w->upkeep;
    pthread_mutex_unlock(&w->mu);
    return busy;
}

void write_thread_submit(struct write_thread *w, struct write_item *items, size_t n)
{
    pthread_mutex_lock(&w->mu);
    w->batch = items, w->n = n, w->finished = 0;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void write_thread_run_here(struct write_thread *w, struct write_item *items, size_t n)
{
    /* Not busy: the thread sleeps on its condition and never touches the connection. */
    w->done(w->b, items, n, run_batch(w->st, items, n));
    store_upkeep(w->st);
}

void write_thread_wait(struct write_thread *w)
{
    pthread_mutex_lock(&w->mu);
    while ((w->batch != NULL && !w->finished) || (w->batch == NULL && w->upkeep))
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    deliver(w);
}

lbx_err write_thread_start(struct broker *b, write_done_fn *done, struct write_thread **out,
                           struct lbx_error *e)
{
    struct write_thread *w = calloc(1, sizeof(*w));
    int fds[2];
    lbx_err r;

    *out = w;
    if (w == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "commit thread");
    w->b = b, w->done = done, w->pipe_rd = w->pipe_wr = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if ((r = store_open(b->cfg.database, &w->st, e)) != LBX_OK ||
        (r = store_writer_lock_enable(w->st, e)) != LBX_OK)
        return r;
    store_group_enable(w->st, no_open_hook, NULL);
    w->st->defer_upkeep = 1;
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "commit thread pipe: %s", strerror(errno));
    w->pipe_rd = fds[0], w->pipe_wr = fds[1];
    if ((w->done_ev = event_new(b->base, w->pipe_rd, EV_READ | EV_PERSIST, on_done, w)) == NULL ||
        event_priority_set(w->done_ev, BROKER_PRIO_URGENT) != 0 || event_add(w->done_ev, NULL) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "commit thread event");
    if (pthread_create(&w->th, NULL, thread_main, w) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "commit thread");
    w->started = 1;
    return LBX_OK;
}

void write_thread_stop(struct write_thread *w)
{
    struct lbx_error e = {0};

    if (w == NULL)
        return;
    if (w->started) {
        while (write_thread_busy(w)) /* a delivered batch may hand over the next */
            write_thread_wait(w);
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
    }
    if (w->st != NULL && store_group_disable(w->st, &e) != LBX_OK)
        lbx_error_f("commit thread's last group: %s", e.detail);
    if (w->done_ev != NULL)
        event_free(w->done_ev);
    if (w->pipe_rd >= 0)
        close(w->pipe_rd);
    if (w->pipe_wr >= 0)
        close(w->pipe_wr);
    store_close(w->st);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
