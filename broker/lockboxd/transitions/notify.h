/* Notifications: on create (to the approvers), on decision and on expiry (to the requester),
 * by webhook (HTTPS POST of JSON) and/or a sendmail-compatible command. Entries are written to
 * an outbox table inside the transition's transaction; a worker thread delivers them with
 * retries and exponential backoff, and audits every failure. Nothing here ever blocks or fails
 * an API call. */
#ifndef LBX_NOTIFY_H
#define LBX_NOTIFY_H

#include <jansson.h>
#include <stddef.h>

#include "broker.h"
#include "requests.h"

/* Queues `event` about the request row for the named identities, per the policy's targets. */
lbx_err notify_enqueue(struct broker *b, struct store *st, const struct policy_eff *p,
                       const char *event, const json_t *row, const json_t *recipients,
                       struct lbx_error *e);

lbx_err notify_start(struct broker *b, struct lbx_error *e);
/* Wakes the worker now (after a commit that queued something). */
void notify_kick(struct broker *b);
void notify_stop(struct broker *b);

#endif
