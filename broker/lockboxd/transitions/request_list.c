/* Request lists (an approver's pending queue, an engineer's own requests, an auditor's view):
 * the status filter runs in SQL on an index and the list is read a page at a time, newest
 * first, each page with its approvers and approvals in two more statements. Visibility needs
 * the approver snapshot, so it is checked per row here; paging goes on until the caller has
 * a full list or the window is exhausted, so an old pending request is never hidden behind
 * newer ones the caller cannot see. */
#include <stdio.h>
#include <string.h>

#include "requests.h"

struct page_queries {
    enum store_q rows, approvers, approvals;
};

static const struct page_queries ALL_STATUSES = {Q_REQ_PAGE, Q_REQ_PAGE_APPROVERS,
                                                 Q_REQ_PAGE_APPROVALS};
static const struct page_queries BY_STATUS = {Q_REQ_STATUS_PAGE, Q_REQ_STATUS_PAGE_APPROVERS,
                                              Q_REQ_STATUS_PAGE_APPROVALS};

struct list_filter {
    const struct page_queries *q;
    const char *status[2];       /* BY_STATUS only */
    int64_t since, before, page; /* page: rows read per statement, the list's own limit */
};

static lbx_err page_exec(struct store *st, const struct list_filter *f, enum store_q q,
                         json_t **rows, struct lbx_error *e)
{
    if (f->q == &ALL_STATUSES)
        return store_exec(st, q, SV_PARAMS(SV_INT(f->since), SV_INT(f->before), SV_INT(f->page)),
                          rows, NULL, e);
    return store_exec(st, q,
                      SV_PARAMS(SV_TEXT(f->status[0]), SV_TEXT(f->status[1]), SV_INT(f->since),
                                SV_INT(f->before), SV_INT(f->page)),
                      rows, NULL, e);
}

/* Moves each child row (it names its request) into that request's `key` array. A child of a
 * request that is not on the page (a concurrent writer on a shared store) is dropped: its
 * request is read with the next list, never shown half-made. */
static lbx_err attach_children(json_t *by_id, json_t *children, const char *key,
                               struct lbx_error *e)
{
    json_t *child, *row;
    char id[32];
    size_t i;

    json_array_foreach(children, i, child)
    {
        snprintf(id, sizeof(id), "%lld", (long long)row_int(child, "request"));
        if ((row = json_object_get(by_id, id)) == NULL)
            continue;
        json_object_del(child, "request");
        if (json_array_append(json_object_get(row, key), child) != 0)
            return lbx_error_set(e, LBX_ERR_NOMEM, "request list");
    }
    return LBX_OK;
}

/* One page of loaded rows (as request_load makes them), newest first. */
static lbx_err load_page(struct store *st, const struct list_filter *f, json_t **rows,
                         struct lbx_error *e)
{
    json_t *by_id = json_object(), *approvers = NULL, *approvals = NULL, *row;
    char id[32];
    size_t i;
    lbx_err r;

    if ((r = page_exec(st, f, f->q->rows, rows, e)) != LBX_OK)
        goto out;
    json_array_foreach(*rows, i, row)
    {
        snprintf(id, sizeof(id), "%lld", (long long)row_int(row, "id"));
        if (by_id == NULL || json_object_set(by_id, id, row) != 0 ||
            json_object_set_new(row, "approvers", json_array()) != 0 ||
            json_object_set_new(row, "approvals", json_array()) != 0) {
            r = lbx_error_set(e, LBX_ERR_NOMEM, "request list");
            goto out;
        }
    }
    if (json_array_size(*rows) > 0 &&
        ((r = page_exec(st, f, f->q->approvers, &approvers, e)) != LBX_OK ||
         (r = page_exec(st, f, f->q->approvals, &approvals, e)) != LBX_OK ||
         (r = attach_children(by_id, approvers, "approvers", e)) != LBX_OK))
        goto out;
    r = attach_children(by_id, approvals, "approvals", e);
out:
    if (r != LBX_OK) {
        json_decref(*rows);
        *rows = NULL;
    }
    json_decref(by_id);
    json_decref(approvers);
    json_decref(approvals);
    return r;
}

/* "pending" (which includes internal review), "all", or one status; anything else refused. */
static lbx_err parse_filter(const char *status, int64_t since, struct list_filter *f,
                            struct lbx_error *e)
{
    enum lbx_status parsed;

    *f = (struct list_filter){.q = &BY_STATUS, .since = since, .before = INT64_MAX};
    if (strcmp(status, "all") == 0) {
        f->q = &ALL_STATUSES;
    } else if (strcmp(status, "pending") == 0) {
        f->status[0] = "pending";
        f->status[1] = "internal-review";
    } else if (lbx_status_parse(status, &parsed) == LBX_OK) {
        f->status[0] = f->status[1] = lbx_status_name(parsed);
    } else {
        return lbx_error_set(e, LBX_ERR_ARG, "status must be pending, all or a status");
    }
    return LBX_OK;
}

lbx_err request_list(struct store *st, const struct caller *c, const struct request_page *want,
                     json_t **out, int64_t *next, struct lbx_error *e)
{
    struct list_filter f;
    json_t *rows = NULL, *row;
    size_t i, n;
    lbx_err r;

    *out = NULL;
    *next = 0;
    if ((r = parse_filter(want->status, want->since, &f, e)) != LBX_OK)
        return r;
    f.before = want->before;
    f.page = (int64_t)want->limit;
    if ((*out = json_array()) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "request list");
    do {
        if ((r = load_page(st, &f, &rows, e)) != LBX_OK)
            break;
        n = json_array_size(rows);
        json_array_foreach(rows, i, row)
        {
            if (json_array_size(*out) == want->limit)
                break;
            if (request_visible(c, row))
                json_array_append_new(*out, request_to_api(row));
            f.before = row_int(row, "id");
        }
        json_decref(rows);
    } while (n == (size_t)f.page && json_array_size(*out) < want->limit);
    if (r != LBX_OK) {
        json_decref(*out);
        *out = NULL;
    } else if (json_array_size(*out) == want->limit) {
        *next = f.before; /* there may be more: the next page starts below the last listed */
    }
    return r;
}
