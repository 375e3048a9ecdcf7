/* Long-polls: a reaper asks "tell me when grant G-42 stops being active, or in 30 s", an
 * engineer "tell me when LBX-42 is decided". Each waiter re-reads the store every second (so a
 * change made by another broker on the same store is seen too) and at once when this broker,
 * or another worker of it (peer_wake.c), makes a transition (waiters_wake). */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "requests.h"

#define WAITERS_MAX 4096

struct waiter {
    struct waiter *next;
    struct broker *b;
    struct evhttp_request *req;
    struct event *timer;
    enum waiter_kind kind;
    int64_t id, deadline;
    char status[32];
};

static int count_waiters(const struct broker *b)
{
    const struct waiter *w;
    int n = 0;

    for (w = b->waiters; w != NULL; w = w->next)
        n++;
    return n;
}

static void unlink_waiter(struct waiter *w)
{
    struct waiter **p;

    for (p = &w->b->waiters; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    event_free(w->timer);
    free(w);
}

/* Answers with the current state; row may be NULL when it vanished (then 404). */
static void answer(struct waiter *w, const json_t *row, const char *status)
{
    struct api_req ar = {.b = w->b, .req = w->req};
    char grant[32];

    snprintf(ar.path, sizeof(ar.path), "(long-poll)");
    if (row == NULL)
        api_fail_msg(&ar, 404, "not_found", "no longer exists");
    else if (w->kind == WAIT_REQUEST)
        api_reply(&ar, 200, request_to_api(row));
    else {
        snprintf(grant, sizeof(grant), "G-%lld", (long long)w->id);
        api_reply(&ar, 200,
                  json_pack("{s:s, s:s, s:I}", "grant_id", grant, "status", status, "access_end",
                            (json_int_t)row_int(row, "access_end")));
    }
    unlink_waiter(w);
}

/* Answers w if its status moved or its time is up; returns 1 when answered. */
static int check(struct waiter *w, int force)
{
    struct lbx_error e = {0};
    const char *status = NULL;
    json_t *row = NULL;
    int64_t now = (int64_t)time(NULL);

    if (request_load(w->b->store, w->id, &row, &e) == LBX_OK)
        status = w->kind == WAIT_GRANT ? grant_status(row, now) : row_str(row, "status");
    if (!force && status != NULL && strcmp(status, w->status) == 0 && now < w->deadline) {
        json_decref(row);
        return 0;
    }
    answer(w, status ? row : NULL, status);
    json_decref(row);
    return 1;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    check(arg, 0);
}

int waiter_add(struct api_req *ar, enum waiter_kind kind, int64_t id, const char *status,
               int64_t wait)
{
    static const struct timeval second = {1, 0};
    struct waiter *w;

    if (count_waiters(ar->b) >= WAITERS_MAX)
        return api_fail_msg(ar, 503, "busy", "too many long-polls; retry without wait");
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return api_fail_msg(ar, 500, "internal", "out of memory");
    w->b = ar->b;
    w->req = ar->req;
    w->kind = kind;
    w->id = id;
    w->deadline = (int64_t)time(NULL) + wait;
    snprintf(w->status, sizeof(w->status), "%s", status);
    if ((w->timer = event_new(ar->b->base, -1, EV_PERSIST, on_tick, w)) == NULL ||
        event_add(w->timer, &second) != 0) {
        event_free(w->timer);
        free(w);
        return api_fail_msg(ar, 500, "internal", "cannot wait");
    }
    w->next = ar->b->waiters;
    ar->b->waiters = w;
    ar->answered = 1; /* the waiter answers */
    return 0;
}

void waiters_wake(struct broker *b)
{
    waiters_wake_local(b);
    if (b->nworkers > 1)
        group_commit_after(b, peer_wake_send);
}

void waiters_wake_local(struct broker *b)
{
    struct waiter *w = b->waiters, *next;

    for (; w != NULL; w = next) {
        next = w->next;
        check(w, 0);
    }
}

void waiters_drop_all(struct broker *b)
{
    while (b->waiters != NULL)
        check(b->waiters, 1);
}
