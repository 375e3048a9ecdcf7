/* The broker's own clock: every `tick` seconds, unanswered requests past their TTL expire and
 * grants past their access end end, each as an audited transition (not merely computed when
 * somebody reads). Several brokers on one store may tick at once: the status precondition
 * lets exactly one of them make each transition. */
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "requests.h"

static int run_due(struct broker *b, enum store_q q, enum lbx_event ev, int64_t now)
{
    struct lbx_error e = {0};
    json_t *rows = NULL, *row;
    size_t i;
    int done = 0;
    lbx_err r;

    if (store_exec(b->store, q, SV_PARAMS(SV_INT(now)), &rows, NULL, &e) != LBX_OK) {
        lbx_error_f("timer query: %s", e.detail);
        return 0;
    }
    json_array_foreach(rows, i, row)
    {
        r = request_timer_event(b, row_int(row, "id"), ev, now, &e);
        if (r == LBX_OK)
            done++;
        else if (r != LBX_ERR_CONFLICT) /* conflict: someone else got there first */
            lbx_error_f("LBX-%lld %s: %s", (long long)row_int(row, "id"), lbx_event_name(ev),
                        e.detail);
    }
    json_decref(rows);
    return done;
}

int lifecycle_tick(struct broker *b, int64_t now)
{
    return run_due(b, Q_REQ_DUE_EXPIRY, LBX_EV_EXPIRE, now) +
           run_due(b, Q_REQ_DUE_END, LBX_EV_END, now);
}

/* Only worker 0 (or the lone broker) runs the timers; every worker flushes its own refusal
 * summaries. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct broker *b = arg;
    int64_t now = (int64_t)time(NULL);

    if (b->worker == 0)
        lifecycle_tick(b, now);
    refusal_flush(b, now);
}

lbx_err lifecycle_start(struct broker *b, struct lbx_error *e)
{
    struct timeval tv = {(time_t)b->cfg.tick, 0};

    if ((b->tick_ev = event_new(b->base, -1, EV_PERSIST, on_tick, b)) == NULL ||
        event_add(b->tick_ev, &tv) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "timer");
    /* Catch up at once on whatever came due while the broker was down. */
    if (b->worker == 0)
        lifecycle_tick(b, (int64_t)time(NULL));
    return LBX_OK;
}

void lifecycle_stop(struct broker *b)
{
    if (b->tick_ev != NULL)
        event_free(b->tick_ev);
    b->tick_ev = NULL;
}

void broker_crash_point(const char *name)
{
    const char *want = getenv("LBX_CRASH_POINT");

    if (want != NULL && strcmp(want, name) == 0) {
        lbx_warn_f("crash point %s reached: killing myself (test fault injection)", name);
        raise(SIGKILL);
    }
}
