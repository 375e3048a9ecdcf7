/* Every change of a request's status after creation: approve, deny, revoke (people) and expire,
 * end (the broker's timers). Each runs in one write transaction whose UPDATE carries the
 * expected "from" status, so of two racing callers exactly one wins and the other is told the
 * request changed meanwhile; the audit event and notifications commit with it or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "notify.h"
#include "requests.h"

struct transition {
    struct broker *b;
    const struct caller *c; /* NULL for timers and withdrawals */
    const char *actor;      /* a withdrawal's: who took the access away */
    json_t *row;            /* loaded inside the transaction */
    enum lbx_status from, to;
    int64_t id, now;
    const char *comment;
    struct policy_eff p;
    int final_step; /* the event changes the status (not a partial approval) */
};

static json_t *stage_names(const json_t *row, const char *stage)
{
    json_t *out = json_array(), *a;
    size_t i;

    json_array_foreach(json_object_get(row, "approvers"), i, a)
    {
        if (strcmp(row_str(a, "stage"), stage) == 0)
            json_array_append_new(out, json_string(row_str(a, "identity")));
    }
    return out;
}

static json_t *requester_list(const json_t *row)
{
    return json_pack("[s]", row_str(row, "requester"));
}

/* Moves the status with its precondition, then re-reads the row for audit and answer. */
static lbx_err move(struct transition *t, struct lbx_error *e)
{
    lbx_err r = store_change_one(t->b->store, Q_REQ_TRANSITION,
                                 SV_PARAMS(SV_TEXT(lbx_status_name(t->to)), SV_INT(t->now),
                                           SV_INT(t->id), SV_TEXT(lbx_status_name(t->from))),
                                 e);

    if (r == LBX_ERR_CONFLICT)
        lbx_error_set(e, r, "LBX-%lld changed meanwhile", (long long)t->id);
    return r;
}

static lbx_err reload(struct transition *t, struct lbx_error *e)
{
    json_decref(t->row);
    return request_load(t->b->store, t->id, &t->row, e);
}

static lbx_err audit_and_notify(struct transition *t, const char *action, const char *event,
                                json_t *recipients, json_t *detail, struct lbx_error *e)
{
    struct audit_event ev = {.action = action,
                             .actor = t->c       ? t->c->name
                                      : t->actor ? t->actor
                                                 : "broker",
                             .request = t->row,
                             .detail = detail};
    lbx_err r;

    if ((r = reload(t, e)) != LBX_OK) {
        json_decref(detail);
        goto out;
    }
    ev.request = t->row;
    if ((r = audit_append(t->b->store, &ev, e)) == LBX_OK && event != NULL)
        r = notify_enqueue(t->b, t->b->store, &t->p, event, t->row, recipients, e);
out:
    json_decref(recipients);
    return r;
}

static int approvals_in_stage(const json_t *row, const char *stage)
{
    json_t *a;
    size_t i;
    int n = 0;

    json_array_foreach(json_object_get(row, "approvals"), i, a)
    {
        n += strcmp(row_str(a, "stage"), stage) == 0;
    }
    return n;
}

/* Whether the caller holds the stage's approving role now, read inside the transaction: an
 * approver whose role was removed (or who was disabled) since the snapshot decides nothing. */
static lbx_err holds_role_now(struct transition *t, const char *stage, struct lbx_error *e)
{
    const char *sub = row_str(t->row, "subscription");
    enum lbx_role role = !strcmp(stage, "review") ? LBX_ROLE_SUPPORT_MANAGER
                         : sub                    ? lbx_approver_role(LBX_SCOPE_SUBSCRIPTION)
                                                  : lbx_approver_role(LBX_SCOPE_TENANT);
    char scope[LBX_NAME_MAX + 32];
    json_t *rows = NULL, *row;
    size_t i;
    int found = 0;
    lbx_err r;

    if (!strcmp(stage, "review"))
        snprintf(scope, sizeof(scope), "global");
    else if (sub != NULL)
        snprintf(scope, sizeof(scope), "subscription:%s", sub);
    else
        snprintf(scope, sizeof(scope), "tenant:%s", row_str(t->row, "tenant"));
    if ((r = store_exec(t->b->store, Q_ROLE_HOLDERS,
                        SV_PARAMS(SV_TEXT(lbx_role_name(role)), SV_TEXT(scope)), &rows, NULL, e)) !=
        LBX_OK)
        return r;
    json_array_foreach(rows, i, row)
    {
        found |= strcmp(row_str(row, "identity"), t->c->name) == 0;
    }
    json_decref(rows);
    return found ? LBX_OK
                 : lbx_error_set(e, LBX_ERR_FORBIDDEN,
                                 "%s no longer holds the %s role on %s: only approvers "
                                 "who still hold it may decide LBX-%lld",
                                 t->c->name, lbx_role_name(role), scope, (long long)t->id);
}

/* Snapshot ∩ current holders: named when the request was made, and holding the role now. */
static lbx_err may_act(struct transition *t, const char *stage, struct lbx_error *e)
{
    json_t *names = stage_names(t->row, stage);
    const char *list[LBX_APPROVERS_MAX];
    size_t i, n = 0;
    lbx_err r;

    for (i = 0; i < json_array_size(names) && n < LBX_APPROVERS_MAX; i++)
        list[n++] = json_string_value(json_array_get(names, i));
    r = lbx_may_approve(list, n, t->c->name, row_str(t->row, "requester"), e);
    json_decref(names);
    return r != LBX_OK ? r : holds_role_now(t, stage, e);
}

static lbx_err record_approval(struct transition *t, const char *stage, struct lbx_error *e)
{
    lbx_err r = store_exec(t->b->store, Q_APPROVAL_INSERT,
                           SV_PARAMS(SV_INT(t->id), SV_TEXT(t->c->name), SV_TEXT(stage),
                                     SV_INT(t->now), SV_TEXT(t->comment)),
                           NULL, NULL, e);

    if (r == LBX_ERR_CONFLICT)
        lbx_error_set(e, r, "%s already approved LBX-%lld", t->c->name, (long long)t->id);
    return r;
}

static lbx_err approve_review(struct transition *t, struct lbx_error *e)
{
    lbx_err r;

    if ((r = may_act(t, "review", e)) != LBX_OK || (r = record_approval(t, "review", e)) != LBX_OK)
        return r;
    t->to = LBX_ST_PENDING;
    if ((r = move(t, e)) != LBX_OK)
        return r;
    /* Only now is the customer asked. */
    return audit_and_notify(t, "internal_review_approved", "request_created",
                            stage_names(t->row, "customer"), NULL, e);
}

static lbx_err approve_customer(struct transition *t, struct lbx_error *e)
{
    int64_t end;
    lbx_err r;

    if ((r = may_act(t, "customer", e)) != LBX_OK ||
        (r = record_approval(t, "customer", e)) != LBX_OK || (r = reload(t, e)) != LBX_OK)
        return r;
    if (approvals_in_stage(t->row, "customer") < row_int(t->row, "approvals_required")) {
        /* Not yet enough: still guarded by the status, so a racing expiry or denial wins or
         * loses cleanly against this approval too. */
        if ((r = store_change_one(t->b->store, Q_REQ_TOUCH,
                                  SV_PARAMS(SV_INT(t->now), SV_INT(t->id), SV_TEXT("pending")),
                                  e)) != LBX_OK)
            return r;
        return audit_and_notify(t, "approval_recorded", NULL, NULL,
                                json_pack("{s:i, s:I}", "approvals",
                                          approvals_in_stage(t->row, "customer"), "required",
                                          (json_int_t)row_int(t->row, "approvals_required")),
                                e);
    }
    t->to = LBX_ST_APPROVED;
    if ((r = move(t, e)) != LBX_OK ||
        (r = lbx_access_end(t->now, row_int(t->row, "duration"), t->p.access_duration, &end)) ||
        (r = store_exec(
             t->b->store, Q_REQ_SET_DECISION,
             SV_PARAMS(SV_TEXT(t->c->name), SV_INT(t->now), SV_TEXT(t->comment), SV_INT(t->id)),
             NULL, NULL, e)) != LBX_OK ||
        (r = store_exec(t->b->store, Q_REQ_SET_ACCESS,
                        SV_PARAMS(SV_INT(t->now), SV_INT(end), SV_INT(t->id)), NULL, NULL, e)))
        return r;
    broker_crash_point("approve-before-audit");
    return audit_and_notify(t, "request_approved", "request_approved", requester_list(t->row), NULL,
                            e);
}

static lbx_err deny(struct transition *t, struct lbx_error *e)
{
    const char *stage = t->from == LBX_ST_INTERNAL_REVIEW ? "review" : "customer";
    lbx_err r;

    t->to = LBX_ST_DENIED;
    if ((r = may_act(t, stage, e)) != LBX_OK || (r = move(t, e)) != LBX_OK ||
        (r = store_exec(
             t->b->store, Q_REQ_SET_DECISION,
             SV_PARAMS(SV_TEXT(t->c->name), SV_INT(t->now), SV_TEXT(t->comment), SV_INT(t->id)),
             NULL, NULL, e)) != LBX_OK)
        return r;
    return audit_and_notify(t, "request_denied", "request_denied", requester_list(t->row), NULL, e);
}

/* Revoking only ever reduces access: the approvers, current approvers of the scope, the
 * requester ending their own grant, and admins may do it. */
static int may_revoke(const struct transition *t)
{
    json_t *names = stage_names(t->row, "customer"), *n;
    char scope[LBX_NAME_MAX + 32];
    size_t i;
    int ok = caller_has(t->c, LBX_ROLE_ADMIN) || !strcmp(row_str(t->row, "requester"), t->c->name);

    json_array_foreach(names, i, n)
    {
        ok |= strcmp(json_string_value(n), t->c->name) == 0;
    }
    json_decref(names);
    if (row_str(t->row, "subscription") != NULL) {
        snprintf(scope, sizeof(scope), "subscription:%s", row_str(t->row, "subscription"));
        ok |= caller_has_on(t->c, LBX_ROLE_OWNER, scope);
    } else {
        snprintf(scope, sizeof(scope), "tenant:%s", row_str(t->row, "tenant"));
        ok |= caller_has_on(t->c, LBX_ROLE_GLOBAL_ADMIN, scope);
    }
    return ok;
}

static lbx_err revoke(struct transition *t, struct lbx_error *e)
{
    lbx_err r;

    if (!may_revoke(t))
        return lbx_error_set(e, LBX_ERR_FORBIDDEN, "%s may not revoke LBX-%lld", t->c->name,
                             (long long)t->id);
    t->to = LBX_ST_REVOKED;
    if ((r = move(t, e)) != LBX_OK || (r = store_exec(t->b->store, Q_REQ_SET_REVOKED,
                                                      SV_PARAMS(SV_TEXT(t->c->name), SV_INT(t->now),
                                                                SV_TEXT(t->comment), SV_INT(t->id)),
                                                      NULL, NULL, e)) != LBX_OK)
        return r;
    return audit_and_notify(t, "grant_revoked", "grant_revoked", requester_list(t->row), NULL, e);
}

static lbx_err start(struct transition *t, enum lbx_event ev, struct lbx_error *e)
{
    lbx_err r;

    if ((r = store_begin(t->b->store, e)) != LBX_OK)
        return r;
    if ((r = request_load(t->b->store, t->id, &t->row, e)) != LBX_OK ||
        (r = lbx_status_parse(row_str(t->row, "status"), &t->from)) != LBX_OK ||
        (r = policy_effective(t->b, t->b->store, row_str(t->row, "tenant"),
                              row_str(t->row, "subscription"), &t->p, e)) != LBX_OK)
        return r;
    /* "approve" on a request in internal review is the review's approval. */
    if (ev == LBX_EV_APPROVE && t->from == LBX_ST_INTERNAL_REVIEW)
        ev = LBX_EV_REVIEW_APPROVE;
    if (lbx_lifecycle_next(t->from, ev, &t->to) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_CONFLICT, "LBX-%lld is %s: cannot %s it", (long long)t->id,
                             lbx_status_name(t->from), lbx_event_name(ev));
    /* Past its TTL a request is expired even before the timer has written it down. */
    if (t->c != NULL && lbx_status_is_open(t->from) && t->now >= row_int(t->row, "request_expiry"))
        return lbx_error_set(e, LBX_ERR_CONFLICT, "LBX-%lld expired unanswered", (long long)t->id);
    return LBX_OK;
}

/* One request of an identity that lost its access, inside the withdrawal's transaction: an open
 * request is cancelled, an active grant revoked (the host's reaper sees "revoked" at its next
 * poll); who did it and why stay on the request for the token refusal to say. */
static lbx_err withdraw_one(struct transition *t, const struct withdrawal *w, struct lbx_error *e)
{
    json_t *detail, *recipients;
    lbx_err r;

    if ((r = request_load(t->b->store, t->id, &t->row, e)) != LBX_OK ||
        (r = lbx_status_parse(row_str(t->row, "status"), &t->from)) != LBX_OK ||
        (r = policy_effective(t->b, t->b->store, row_str(t->row, "tenant"),
                              row_str(t->row, "subscription"), &t->p, e)) != LBX_OK ||
        (r = lbx_lifecycle_next(t->from, t->from == LBX_ST_APPROVED ? LBX_EV_REVOKE : LBX_EV_CANCEL,
                                &t->to)) != LBX_OK ||
        (r = move(t, e)) != LBX_OK)
        return r == LBX_ERR_CONFLICT
                   ? lbx_error_set(e, r, "LBX-%lld changed meanwhile", (long long)t->id)
                   : r;
    r = store_exec(t->b->store, t->to == LBX_ST_REVOKED ? Q_REQ_SET_REVOKED : Q_REQ_SET_DECISION,
                   SV_PARAMS(SV_TEXT(w->actor), SV_INT(t->now), SV_TEXT(w->comment), SV_INT(t->id)),
                   NULL, NULL, e);
    if (r != LBX_OK)
        return r;
    detail = json_pack("{s:s, s:s}", "reason", w->cause, "identity", w->identity);
    if (w->scope != NULL)
        json_object_set_new(detail, "scope", json_string(w->scope));
    if (t->to == LBX_ST_REVOKED)
        return audit_and_notify(t, "grant_revoked", "grant_revoked", requester_list(t->row), detail,
                                e);
    /* Those asked to decide stop being asked; the requester learns why. */
    recipients = stage_names(t->row, t->from == LBX_ST_INTERNAL_REVIEW ? "review" : "customer");
    json_array_append_new(recipients, json_string(row_str(t->row, "requester")));
    return audit_and_notify(t, "request_cancelled", "request_cancelled", recipients, detail, e);
}

lbx_err requests_withdraw(struct broker *b, struct withdrawal *w, struct lbx_error *e)
{
    json_t *live = NULL, *row;
    size_t i;
    lbx_err r;

    w->count = 0;
    if ((r = store_exec(b->store, Q_REQ_LIVE_OF_REQUESTER,
                        SV_PARAMS(SV_TEXT(w->identity), SV_INT(w->now)), &live, NULL, e)) != LBX_OK)
        return r;
    json_array_foreach(live, i, row)
    {
        struct transition t = {.b = b, .actor = w->actor, .id = row_int(row, "id"), .now = w->now};

        if (engineer_scope_for(w->remaining, row_str(row, "tenant")) != NULL)
            continue;
        r = withdraw_one(&t, w, e);
        json_decref(t.row);
        if (r != LBX_OK)
            break;
        w->count++;
    }
    json_decref(live);
    return r;
}

static lbx_err finish(struct transition *t, lbx_err r, struct lbx_error *e)
{
    if (r == LBX_OK) {
        broker_crash_point("transition-before-commit");
        r = store_commit(t->b->store, e);
    } else {
        store_rollback(t->b->store);
    }
    if (r == LBX_OK) {
        lbx_info_f("LBX-%lld %s -> %s by %s", (long long)t->id, lbx_status_name(t->from),
                   row_str(t->row, "status"), t->c ? t->c->name : "broker");
        if (t->b->on_transition != NULL)
            t->b->on_transition(t->b);
        notify_kick(t->b);
    }
    return r;
}

lbx_err request_decide(struct broker *b, const struct caller *c, int64_t id, enum lbx_event ev,
                       const char *comment, json_t **out, struct lbx_error *e)
{
    struct transition t = {
        .b = b, .c = c, .id = id, .now = (int64_t)time(NULL), .comment = comment};
    lbx_err r;

    *out = NULL;
    if ((r = store_begin(b->store, e)) != LBX_OK)
        return r;
    /* Visibility first: another tenant's request is simply not found. */
    if ((r = request_load(b->store, id, &t.row, e)) == LBX_OK && !request_visible(c, t.row))
        r = lbx_error_set(e, LBX_ERR_NOT_FOUND, "no request LBX-%lld", (long long)id);
    store_rollback(b->store);
    json_decref(t.row);
    t.row = NULL;
    if (r != LBX_OK)
        return r;
    if (ev == LBX_EV_APPROVE && (r = start(&t, ev, e)) == LBX_OK)
        r = t.from == LBX_ST_INTERNAL_REVIEW ? approve_review(&t, e) : approve_customer(&t, e);
    else if (ev == LBX_EV_DENY && (r = start(&t, ev, e)) == LBX_OK)
        r = deny(&t, e);
    else if (ev == LBX_EV_REVOKE && (r = start(&t, ev, e)) == LBX_OK)
        r = revoke(&t, e);
    if (r == LBX_OK && ev != LBX_EV_APPROVE && ev != LBX_EV_DENY && ev != LBX_EV_REVOKE)
        r = lbx_error_set(e, LBX_ERR_ARG, "not a decision");
    if ((r = finish(&t, r, e)) == LBX_OK)
        *out = request_to_api(t.row);
    json_decref(t.row);
    return r;
}

lbx_err request_timer_event(struct broker *b, int64_t id, enum lbx_event ev, int64_t now,
                            struct lbx_error *e)
{
    struct transition t = {.b = b, .id = id, .now = now};
    lbx_err r;

    if ((r = start(&t, ev, e)) == LBX_OK) {
        if (ev == LBX_EV_EXPIRE && row_int(t.row, "request_expiry") > now)
            r = lbx_error_set(e, LBX_ERR_CONFLICT, "not due");
        else if (ev == LBX_EV_END && row_int(t.row, "access_end") > now)
            r = lbx_error_set(e, LBX_ERR_CONFLICT, "not due");
        else if ((r = move(&t, e)) == LBX_OK)
            r = ev == LBX_EV_EXPIRE ? audit_and_notify(&t, "request_expired", "request_expired",
                                                       requester_list(t.row), NULL, e)
                                    : audit_and_notify(&t, "access_ended", NULL, NULL, NULL, e);
    }
    r = finish(&t, r, e);
    json_decref(t.row);
    return r;
}
