/* The transitions the broker's clock makes (clock.c calls lifecycle_tick): unanswered requests
 * past their TTL expire and grants past their access end end, each as an audited transition
 * (not merely computed when somebody reads). Several brokers on one store may tick at once: the
 * status precondition lets exactly one of them make each transition. */

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
