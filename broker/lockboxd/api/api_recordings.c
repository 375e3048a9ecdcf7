/* Session recordings: a host sends a finished session's asciicast v2 (POST
 * /v1/host/recordings, with its client certificate, for a grant of its own); the console lists
 * and replays them for the people who may review that request. The text is checked line by line
 * before it is stored: the host is trusted with the session's bytes, not with their shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "json.h"
#include "requests.h"

#define CAST_DIM_MAX 1000
#define CAST_LINE_MAX (256 * 1024)

static lbx_err header_check(const char *line, size_t len, struct lbx_error *e)
{
    int64_t version, width, height;
    json_t *h = NULL;
    lbx_err r;

    if ((r = lbx_json_parse_object(line, len, CAST_LINE_MAX, 4, &h, e)) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_ARG, "asciicast header: %s", e->detail);
    if (lbx_json_get_int(h, "version", &version) != LBX_OK || version != 2 ||
        lbx_json_get_int(h, "width", &width) != LBX_OK || width < 1 || width > CAST_DIM_MAX ||
        lbx_json_get_int(h, "height", &height) != LBX_OK || height < 1 || height > CAST_DIM_MAX)
        r = lbx_error_set(e, LBX_ERR_ARG,
                          "asciicast header needs version 2, width and height 1..%d", CAST_DIM_MAX);
    json_decref(h);
    return r;
}

/* [time, code, data]: time a number not before the previous event's, code one of o i m r. */
static lbx_err event_check(const char *line, size_t len, size_t n, double *last,
                           struct lbx_error *e)
{
    json_t *ev = NULL, *t, *code, *data;
    lbx_err r;

    if ((r = lbx_json_parse_array(line, len, CAST_LINE_MAX, 2, &ev, e)) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_ARG, "asciicast line %zu: %s", n, e->detail);
    t = json_array_get(ev, 0);
    code = json_array_get(ev, 1);
    data = json_array_get(ev, 2);
    if (json_array_size(ev) != 3 || !json_is_number(t) || json_number_value(t) < *last ||
        json_number_value(t) > 86400.0 || !json_is_string(code) || json_string_length(code) != 1 ||
        strchr("oimr", json_string_value(code)[0]) == NULL || !json_is_string(data))
        r = lbx_error_set(e, LBX_ERR_ARG,
                          "asciicast line %zu is not [time, \"o|i|m|r\", text] in time order", n);
    else
        *last = json_number_value(t);
    json_decref(ev);
    return r;
}

lbx_err recording_check(const char *text, size_t len, struct lbx_error *e)
{
    const char *p = text, *end = text + len, *nl;
    double last = 0;
    size_t n = 0;
    lbx_err r;

    if (len == 0 || memchr(text, '\0', len) != NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "an asciicast is non-empty text");
    for (;; n++) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        if (nl > p || n == 0) {
            r = n == 0 ? header_check(p, (size_t)(nl - p), e)
                       : event_check(p, (size_t)(nl - p), n + 1, &last, e);
            if (r != LBX_OK)
                return r;
        }
        if (nl == end || nl + 1 == end)
            return LBX_OK;
        p = nl + 1;
    }
}

lbx_err recording_store(struct api_req *ar, const json_t *request, const char *login,
                        const char *session, const char *cast, struct lbx_error *e)
{
    char actor[LBX_NAME_MAX + 8];
    json_t *row = NULL;
    size_t len = strlen(cast);
    lbx_err r;

    if ((r = recording_check(cast, len, e)) != LBX_OK)
        return r;
    snprintf(actor, sizeof(actor), "host:%s", ar->caller.name);
    struct audit_event ev = {.action = "recording_stored",
                             .actor = actor,
                             .request = request,
                             .host = ar->caller.name,
                             .detail = json_pack("{s:s, s:s, s:I}", "login", login, "session",
                                                 session, "size", (json_int_t)len)};
    if ((r = store_begin(ar->b->store, e)) != LBX_OK) {
        json_decref(ev.detail);
        return r;
    }
    r = store_row(ar->b->store, Q_RECORDING_INSERT,
                  SV_PARAMS(SV_INT(row_int(request, "id")), SV_TEXT(ar->caller.name),
                            SV_TEXT(login), SV_TEXT(session), SV_INT(time(NULL)),
                            SV_INT((int64_t)len), SV_TEXT(cast)),
                  &row, e);
    if (r == LBX_OK) {
        json_object_set_new(ev.detail, "recording", json_integer(row_int(row, "id")));
        r = audit_append(ar->b->store, &ev, e); /* consumes the detail */
        ev.detail = NULL;
    }
    json_decref(ev.detail);
    json_decref(row);
    if (r == LBX_OK && (r = store_commit(ar->b->store, e)) == LBX_OK)
        return LBX_OK;
    store_rollback(ar->b->store);
    if (r == LBX_ERR_CONFLICT)
        lbx_error_set(e, r, "session %s of this grant is recorded already", session);
    return r;
}

/* Reviewing a session is for those who review the request: its approvers, the scope's owners
 * and global admins, auditors, support managers and admins — not the engineer who ran it. */
static int may_replay(const struct caller *c, const json_t *request)
{
    if (caller_has(c, LBX_ROLE_ADMIN))
        return 1;
    return request_visible(c, request) && strcmp(row_str(request, "requester"), c->name) != 0;
}

/* The request named by an LBX-n parameter, if the caller may replay its sessions. Others get
 * 404, as for an unknown request: whether it exists is not theirs to know. */
static json_t *replayable_request(struct api_req *ar, int64_t id, const char *what)
{
    struct lbx_error e = {0};
    json_t *row = NULL;
    lbx_err r = request_load(ar->b->store, id, &row, &e);

    if (r == LBX_OK && may_replay(&ar->caller, row))
        return row;
    json_decref(row);
    if (r == LBX_OK || r == LBX_ERR_NOT_FOUND)
        api_fail_msg(ar, 404, "not_found", "no %s %s for you", what, ar->params[0]);
    else
        api_fail(ar, r, &e);
    return NULL;
}

int api_recordings_of(struct api_req *ar)
{
    struct lbx_error e = {0};
    json_t *req, *rows = NULL;
    int64_t id;
    lbx_err r;

    if (request_parse_id(ar->params[0], "LBX-", &id, &e) != LBX_OK)
        return api_fail_msg(ar, 404, "not_found", "no request %s", ar->params[0]);
    if ((req = replayable_request(ar, id, "recordings of")) == NULL)
        return 0;
    json_decref(req);
    if ((r = store_exec(ar->b->store, Q_RECORDINGS_OF, SV_PARAMS(SV_INT(id)), &rows, NULL, &e)) !=
        LBX_OK)
        return api_fail(ar, r, &e);
    return api_reply(ar, 200, json_pack("{s:o}", "recordings", rows));
}

int api_recording_get(struct api_req *ar)
{
    struct lbx_error e = {0};
    json_t *rec = NULL, *req;
    int64_t id;

    if (request_parse_id(ar->params[0], "", &id, &e) != LBX_OK ||
        store_row(ar->b->store, Q_RECORDING_GET, SV_PARAMS(SV_INT(id)), &rec, &e) != LBX_OK)
        return api_fail_msg(ar, 404, "not_found", "no recording %s for you", ar->params[0]);
    if ((req = replayable_request(ar, row_int(rec, "request"), "recording")) == NULL) {
        json_decref(rec);
        return 0;
    }
    struct audit_event ev = {.action = "recording_viewed",
                             .actor = ar->caller.name,
                             .request = req,
                             .detail = json_pack("{s:I, s:s}", "recording", (json_int_t)id,
                                                 "session", row_str(rec, "session"))};
    /* Who watched a session is part of the record; no event, no replay. */
    if (audit_record(ar->b->store, &ev, &e) != LBX_OK) {
        json_decref(req);
        json_decref(rec);
        return api_fail(ar, LBX_ERR_STORE, &e);
    }
    json_decref(req);
    return api_reply(ar, 200, rec);
}
