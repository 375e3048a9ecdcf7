/* The commit thread (group_commit.c's helper): deferred writes run, and their group commits,
 * on a thread with its own store connection, so that the event loop never waits for a
 * commit's fsync (nor, with several workers, for another worker's commit holding the writer
 * lock): it parses and signs the next requests meanwhile. One batch at a time; its answers
 * leave from the loop, after the commit returned. */
#ifndef LBX_WRITE_THREAD_H
#define LBX_WRITE_THREAD_H

#include "broker.h"

struct write_item {
    struct evhttp_request *req;
    group_write_fn *write;   /* on the thread */
    group_answer_fn *answer; /* on the loop, after the commit */
    void *arg;
    lbx_err r; /* what write returned */
};

/* On the loop: the batch handed over is done; committed is the group commit's result (an
 * error: none of its writes happened). The items are the caller's again. */
typedef void write_done_fn(struct broker *b, struct write_item *items, size_t n, lbx_err committed);

struct write_thread;

/* Opens the thread's connection (writer lock on, grouping on) and starts it; *out is set
 * even on failure (write_thread_stop frees it). */
lbx_err write_thread_start(struct broker *b, write_done_fn *done, struct write_thread **out,
                           struct lbx_error *e);
/* A batch is handed over and not yet delivered. */
int write_thread_busy(struct write_thread *w);
/* Hands items over (only when not busy); `done` gets them back on the loop. */
void write_thread_submit(struct write_thread *w, struct write_item *items, size_t n);
/* Runs a batch on the calling thread, on the commit thread's connection, and delivers it
 * (only when not busy): for a small batch the handover costs more than it saves. */
void write_thread_run_here(struct write_thread *w, struct write_item *items, size_t n);
/* Blocks until the batch handed over is finished and delivers it (shutdown). */
void write_thread_wait(struct write_thread *w);
/* Delivers what is in flight, then stops and frees. */
void write_thread_stop(struct write_thread *w);

#endif
