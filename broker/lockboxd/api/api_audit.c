/* GET /v1/audit: the audit log as JSON lines, one {"seq", "hash", "body"} per event, body being
 * the exact stored text so that a client can verify the hash chain itself. Global auditors and
 * admins see everything; a tenant's auditor sees that tenant's events (not a verifiable chain). */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_admin.h"
#include "json.h"

#define AUDIT_PAGE_MAX 5000

/* "" for everything, a tenant id for a tenant auditor, NULL when not allowed at all. */
static const char *audit_view(const struct caller *c)
{
    json_t *a;
    size_t i;

    if (caller_has(c, LBX_ROLE_ADMIN) || caller_has_on(c, LBX_ROLE_AUDITOR, "global"))
        return "";
    json_array_foreach(c->assignments, i, a)
    {
        if (!strcmp(row_str(a, "role"), "auditor") && !strncmp(row_str(a, "scope"), "tenant:", 7))
            return row_str(a, "scope") + 7;
    }
    return NULL;
}

static int event_in_view(const char *body, const char *tenant)
{
    json_t *obj = NULL;
    const char *t = NULL;
    int in;

    if (tenant[0] == '\0')
        return 1;
    if (lbx_json_parse_object(body, strlen(body), 1 << 20, LBX_JSON_MAX_DEPTH, &obj, NULL) !=
        LBX_OK)
        return 0;
    in = lbx_json_get_string(obj, "tenant", &t) == LBX_OK && strcmp(t, tenant) == 0;
    json_decref(obj);
    return in;
}

int api_audit_list(struct api_req *ar)
{
    const char *view = audit_view(&ar->caller), *action = api_query(ar, "action");
    int64_t since, until, after, limit;
    struct lbx_error e = {0};
    struct evbuffer *out;
    json_t *rows = NULL, *row, *line;
    char *text;
    size_t i;
    lbx_err r;

    if (view == NULL) {
        lbx_error_set(&e, LBX_ERR_FORBIDDEN, "this needs the auditor or admin role");
        return api_fail(ar, LBX_ERR_FORBIDDEN, &e);
    }
    if ((r = api_query_int(ar, "since", 0, INT64_MAX / 2, 0, &since, &e)) ||
        (r = api_query_int(ar, "until", 0, INT64_MAX / 2, INT64_MAX / 2, &until, &e)) ||
        (r = api_query_int(ar, "after", 0, INT64_MAX / 2, 0, &after, &e)) ||
        (r = api_query_int(ar, "limit", 1, AUDIT_PAGE_MAX, 1000, &limit, &e)))
        return api_fail(ar, r, &e);
    if (action != NULL && !lbx_valid_name(action))
        return api_fail_msg(ar, 400, "bad_request", "bad action name");
    if ((r = store_exec(ar->b->store, Q_AUDIT_LIST,
                        SV_PARAMS(SV_INT(since), SV_INT(until), SV_TEXT(action), SV_TEXT(action),
                                  SV_INT(after), SV_INT(limit)),
                        &rows, NULL, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if ((out = evbuffer_new()) == NULL) {
        json_decref(rows);
        return api_fail_msg(ar, 500, "internal", "out of memory");
    }
    json_array_foreach(rows, i, row)
    {
        if (!event_in_view(row_str(row, "body"), view))
            continue;
        line = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)row_int(row, "seq"), "hash",
                         row_str(row, "hash"), "body", row_str(row, "body"));
        if ((text = line ? lbx_json_dump(line) : NULL) != NULL)
            evbuffer_add_printf(out, "%s\n", text);
        free(text);
        json_decref(line);
    }
    json_decref(rows);
    evhttp_add_header(evhttp_request_get_output_headers(ar->req), "Content-Type",
                      "application/x-ndjson");
    broker_send_reply(ar->b, ar->req, 200, "OK", out);
    evbuffer_free(out);
    ar->answered = 1;
    return 0;
}
