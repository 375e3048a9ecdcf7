/* People endpoints for requests: create, list, show (long-poll), approve, deny, revoke. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "duration.h"
#include "requests.h"

#define RECENT_WINDOW (28 * 24 * 3600) /* the seeds' "Recent" table */
#define LIST_DEFAULT 100               /* an approver's screen; ?limit= up to LIST_MAX */
#define LIST_MAX 500

static void audit_refused(struct api_req *ar, const char *action, const char *what,
                          const struct lbx_error *e)
{
    struct audit_event ev = {.action = action,
                             .actor = ar->caller.name,
                             .detail =
                                 json_pack("{s:s, s:s}", "target", what, "reason", e->detail)};

    audit_note(ar->b->store, &ev);
}

static lbx_err duration_member(struct api_req *ar, int64_t *out, struct lbx_error *e)
{
    json_t *v = json_object_get(ar->body, "duration");

    if (v == NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "'duration' is required");
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return LBX_OK;
    }
    if (json_is_string(v) && lbx_duration_parse(json_string_value(v), out) == LBX_OK)
        return LBX_OK;
    return lbx_error_set(e, LBX_ERR_ARG, "'duration' must be seconds or a duration like \"4h\"");
}

int api_request_create(struct api_req *ar)
{
    static const char *const keys[] = {"host", "host_group", "ticket", "reason", "duration", NULL};
    struct request_input in = {0};
    struct lbx_error e = {0};
    json_t *row = NULL;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) || (r = api_str(ar, "host", 0, 64, &in.host, &e)) ||
        (r = api_str(ar, "host_group", 0, 64, &in.host_group, &e)) ||
        (r = api_str(ar, "ticket", 1, 128, &in.ticket, &e)) ||
        (r = api_str(ar, "reason", 1, REQUEST_REASON_MAX, &in.reason, &e)) ||
        (r = duration_member(ar, &in.duration, &e)))
        return api_fail(ar, r, &e);
    if ((r = request_create(ar->b, &ar->caller, &in, &row, &e)) != LBX_OK) {
        if (r == LBX_ERR_FORBIDDEN)
            audit_refused(ar, "request_refused", in.host ? in.host : in.host_group, &e);
        return api_fail(ar, r, &e);
    }
    api_reply(ar, 201, request_to_api(row));
    json_decref(row);
    return 0;
}

/* ?before=LBX-n (the previous answer's "next"): absent means from the newest. */
static lbx_err list_cursor(struct api_req *ar, int64_t *before, struct lbx_error *e)
{
    const char *s = api_query(ar, "before");

    *before = INT64_MAX;
    if (s != NULL && request_parse_id(s, "LBX-", before, e) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_ARG, "before must be a request id");
    return LBX_OK;
}

int api_request_list(struct api_req *ar)
{
    struct request_page want = {.status =
                                    api_query(ar, "status") ? api_query(ar, "status") : "pending"};
    struct lbx_error e = {0};
    json_t *out = NULL, *body;
    int64_t limit, next;
    char cursor[32];
    lbx_err r;

    if ((r = api_query_int(ar, "since", 0, INT64_MAX / 2, (int64_t)time(NULL) - RECENT_WINDOW,
                           &want.since, &e)) ||
        (r = api_query_int(ar, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit, &e)) ||
        (r = list_cursor(ar, &want.before, &e)))
        return api_fail(ar, r, &e);
    want.limit = (size_t)limit;
    if ((r = request_list(ar->b->store, &ar->caller, &want, &out, &next, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    snprintf(cursor, sizeof(cursor), "LBX-%lld", (long long)next);
    body = json_pack("{s:o, s:s?}", "requests", out, "next", next ? cursor : NULL);
    return api_reply(ar, 200, body);
}

/* The request named by the first path parameter, if the caller may see it (else 404). */
static json_t *visible_request(struct api_req *ar, int64_t *id)
{
    struct lbx_error e = {0};
    json_t *row = NULL;
    lbx_err r;

    if ((r = request_parse_id(ar->params[0], "LBX-", id, &e)) == LBX_OK &&
        (r = request_load(ar->b->store, *id, &row, &e)) == LBX_OK &&
        !request_visible(&ar->caller, row))
        r = lbx_error_set(&e, LBX_ERR_NOT_FOUND, "no request %s", ar->params[0]);
    if (r == LBX_OK)
        return row;
    json_decref(row);
    api_fail(ar, r, &e);
    return NULL;
}

int api_request_get(struct api_req *ar)
{
    struct lbx_error e = {0};
    json_t *row;
    int64_t id, wait;
    lbx_err r;

    if ((r = api_query_int(ar, "wait", 0, 60, 0, &wait, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if ((row = visible_request(ar, &id)) == NULL)
        return 0;
    if (wait > 0 && (!strcmp(row_str(row, "status"), "pending") ||
                     !strcmp(row_str(row, "status"), "internal-review")))
        waiter_add(ar, WAIT_REQUEST, id, row_str(row, "status"), wait);
    else
        api_reply(ar, 200, request_to_api(row));
    json_decref(row);
    return 0;
}

static int decide(struct api_req *ar, enum lbx_event ev)
{
    static const char *const keys[] = {"comment", NULL};
    struct lbx_error e = {0};
    const char *comment;
    json_t *out = NULL;
    int64_t id;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) ||
        (r = api_str(ar, "comment", 0, REQUEST_COMMENT_MAX, &comment, &e)) ||
        (r = request_parse_id(ar->params[0], "LBX-", &id, &e)))
        return api_fail(ar, r, &e);
    if ((r = request_decide(ar->b, &ar->caller, id, ev, comment, &out, &e)) != LBX_OK) {
        if (r == LBX_ERR_FORBIDDEN)
            audit_refused(ar, "decision_refused", ar->params[0], &e);
        return api_fail(ar, r, &e);
    }
    return api_reply(ar, 200, out);
}

int api_request_approve(struct api_req *ar)
{
    return decide(ar, LBX_EV_APPROVE);
}

int api_request_deny(struct api_req *ar)
{
    return decide(ar, LBX_EV_DENY);
}

int api_request_revoke(struct api_req *ar)
{
    return decide(ar, LBX_EV_REVOKE);
}
