/* Refused authentication is audited — it is what probing looks like — but a flood of bad
 * tokens must not grow the audit table without bound. Per source address and window
 * (audit_refusals_window, default 60 s) the first audit_refusals_max refusals are audited in
 * full; the rest are only counted, and one `access_refused_suppressed` event with the count
 * closes the window (at the source's next refusal, on the timer tick, or at shutdown). The
 * table of sources is bounded too: when it is full, new sources share one overflow entry.
 * Runs on the event loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "broker.h"

#define REFUSAL_SOURCES_MAX 256
#define REFUSAL_OVERFLOW "(other sources)"

struct refusal_source {
    char addr[64];
    int64_t window_start;
    long count; /* refusals in this window, audited or not */
};

struct refusal_limiter {
    struct refusal_source slots[REFUSAL_SOURCES_MAX];
    size_t used;
};

static void audit_summary(struct broker *b, const struct refusal_source *s)
{
    long suppressed = s->count - b->cfg.audit_refusals_max;
    struct audit_event ev = {
        .action = "access_refused_suppressed",
        .detail =
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "source", s->addr, "suppressed",
                      (json_int_t)suppressed, "audited", (json_int_t)b->cfg.audit_refusals_max,
                      "window_start", (json_int_t)s->window_start, "window_end",
                      (json_int_t)(s->window_start + b->cfg.audit_refusals_window)),
    };

    if (suppressed > 0)
        audit_note(b->store, &ev);
    else
        json_decref(ev.detail);
}

static int window_over(const struct broker *b, const struct refusal_source *s, int64_t now)
{
    return now >= s->window_start + b->cfg.audit_refusals_window;
}

void refusal_flush(struct broker *b, int64_t now)
{
    struct refusal_limiter *l = b->refusals;
    size_t i = 0;

    while (l != NULL && i < l->used) {
        if (!window_over(b, &l->slots[i], now)) {
            i++;
            continue;
        }
        audit_summary(b, &l->slots[i]);
        l->slots[i] = l->slots[--l->used]; /* order does not matter */
    }
}

static struct refusal_source *find_slot(struct broker *b, const char *addr, int64_t now)
{
    struct refusal_limiter *l = b->refusals;
    size_t i;

    for (i = 0; i < l->used; i++)
        if (strcmp(l->slots[i].addr, addr) == 0)
            return &l->slots[i];
    /* The last slot is kept for the overflow entry, so there always is one. */
    if (l->used >= REFUSAL_SOURCES_MAX - 1)
        refusal_flush(b, now);
    if (l->used >= REFUSAL_SOURCES_MAX - 1 && strcmp(addr, REFUSAL_OVERFLOW) != 0)
        return find_slot(b, REFUSAL_OVERFLOW, now);
    snprintf(l->slots[l->used].addr, sizeof(l->slots[0].addr), "%s", addr);
    l->slots[l->used].window_start = now;
    l->slots[l->used].count = 0;
    return &l->slots[l->used++];
}

int refusal_admit(struct broker *b, const char *addr, int64_t now)
{
    struct refusal_source *s;

    if (b->refusals == NULL && (b->refusals = calloc(1, sizeof(*b->refusals))) == NULL)
        return 1; /* cannot count: audit rather than lose the event */
    s = find_slot(b, addr ? addr : "unknown", now);
    if (window_over(b, s, now)) {
        audit_summary(b, s);
        s->window_start = now;
        s->count = 0;
    }
    return ++s->count <= b->cfg.audit_refusals_max;
}

void refusal_limiter_free(struct broker *b)
{
    refusal_flush(b, INT64_MAX / 2);
    free(b->refusals);
    b->refusals = NULL;
}
