/* The broker's own clock: every `tick` seconds it makes the transitions that came due
 * (transitions/lifecycle.c) and writes the refusal summaries whose window is over
 * (api/refusal_limit.c). */
#include <event2/event.h>
#include <time.h>

#include "api.h"
#include "requests.h"

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

lbx_err clock_start(struct broker *b, struct lbx_error *e)
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

void clock_stop(struct broker *b)
{
    if (b->tick_ev != NULL)
        event_free(b->tick_ev);
    b->tick_ev = NULL;
}
