/* Answering requests, and reading their JSON bodies and query strings strictly. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"

/* The one place an answer's JSON text becomes the HTTP answer (text NULL: out of memory). */
int api_reply_text(struct api_req *ar, int status, const char *text)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(ar->req);
    struct evbuffer *out;

    if (ar->answered)
        return 0;
    ar->answered = 1;
    evhttp_add_header(h, "Cache-Control", "no-store");
    if ((out = evbuffer_new()) == NULL || text == NULL) {
        evbuffer_free(out);
        evhttp_send_error(ar->req, 500, "Internal Error");
        return 0;
    }
    evhttp_add_header(h, "Content-Type", "application/json");
    evbuffer_add(out, text, strlen(text));
    evbuffer_add(out, "\n", 1);
    broker_send_reply(ar->b, ar->req, status, status < 300 ? "OK" : "Error", out);
    evbuffer_free(out);
    return 0;
}

int api_reply(struct api_req *ar, int status, json_t *obj)
{
    char *text;

    if (ar->answered) {
        json_decref(obj);
        return 0;
    }
    if (obj == NULL) {
        ar->answered = 1;
        evhttp_add_header(evhttp_request_get_output_headers(ar->req), "Cache-Control", "no-store");
        broker_send_reply(ar->b, ar->req, status, "No Content", NULL);
        return 0;
    }
    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    api_reply_text(ar, status, text);
    free(text);
    return 0;
}

int api_fail_msg(struct api_req *ar, int status, const char *code, const char *fmt, ...)
{
    char msg[512], clean[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lbx_sanitize(clean, sizeof(clean), msg);
    if (status >= 500)
        lbx_error_f("%s %s: %s", code, ar->path, clean);
    else
        lbx_debug_f("%d %s %s: %s", status, code, ar->path, clean);
    return api_reply(ar, status, json_pack("{s:s, s:s}", "error", code, "message", clean));
}

static void status_for(lbx_err r, int *status, const char **code)
{
    switch (r) {
    case LBX_ERR_ARG:
    case LBX_ERR_JSON:
    case LBX_ERR_LIFETIME_CAP:
    case LBX_ERR_TOKEN_CLAIM_MISSING:
    case LBX_ERR_TOKEN_CLAIM_TYPE:
    case LBX_ERR_TOKEN_CLAIM_UNKNOWN:
        *status = 400, *code = "bad_request";
        break;
    case LBX_ERR_TOO_LARGE:
        *status = 413, *code = "too_large";
        break;
    case LBX_ERR_AUTH:
        *status = 401, *code = "unauthenticated";
        break;
    case LBX_ERR_FORBIDDEN:
        *status = 403, *code = "forbidden";
        break;
    case LBX_ERR_NOT_FOUND:
        *status = 404, *code = "not_found";
        break;
    case LBX_ERR_CONFLICT:
        *status = 409, *code = "conflict";
        break;
    default:
        *status = 500, *code = "internal";
        break;
    }
}

int api_fail(struct api_req *ar, lbx_err r, const struct lbx_error *e)
{
    const char *code;
    int status;

    status_for(r, &status, &code);
    if (status == 401)
        evhttp_add_header(evhttp_request_get_output_headers(ar->req), "WWW-Authenticate",
                          "Bearer realm=\"lockbox\"");
    if (status >= 500) /* the detail may name files or SQL: log it, do not send it */
        lbx_error_f("%s: %s", lbx_strerror(r), e && e->detail[0] ? e->detail : "");
    return api_fail_msg(ar, status, code, "%s",
                        status >= 500 ? lbx_strerror(r)
                                      : (e && e->detail[0] ? e->detail : lbx_strerror(r)));
}

/* Members whose text may span lines: a justification, a decision's comment. */
static int multiline_member(const char *key)
{
    return key != NULL && (!strcmp(key, "reason") || !strcmp(key, "comment"));
}

static lbx_err text_refused(const char *what, size_t at, struct lbx_error *e)
{
    return lbx_error_set(e, LBX_ERR_ARG,
                         "%s has a control character or invalid UTF-8 at byte %zu: only "
                         "printable text is accepted (tab and newline only in a reason or comment)",
                         what, at);
}

/* Every string of a body, member names included, at any depth, but the value of member `own`
 * (NULL: none), which its handler checks itself. */
static lbx_err body_text(const json_t *v, const char *member, const char *own, struct lbx_error *e)
{
    const char *key;
    char what[96];
    json_t *m;
    size_t i, at;
    lbx_err r;

    if (own != NULL && member != NULL && strcmp(member, own) == 0)
        return LBX_OK;
    if (json_is_string(v)) {
        at = lbx_text_unsafe_at(json_string_value(v),
                                multiline_member(member) ? LBX_TEXT_MULTILINE : 0);
        if (at == (size_t)-1)
            return LBX_OK;
        /* member names reach here only once checked themselves */
        snprintf(what, sizeof(what), "'%.64s'", member ? member : "");
        return text_refused(member ? what : "a value", at, e);
    }
    json_object_foreach((json_t *)v, key, m)
    {
        if ((at = lbx_text_unsafe_at(key, 0)) != (size_t)-1)
            return text_refused("a member name", at, e);
        if ((r = body_text(m, key, own, e)) != LBX_OK)
            return r;
    }
    json_array_foreach(v, i, m)
    {
        if ((r = body_text(m, member, own, e)) != LBX_OK)
            return r;
    }
    return LBX_OK;
}

lbx_err api_check_text(struct api_req *ar, struct lbx_error *e)
{
    const struct evkeyval *kv;
    char what[96];
    size_t at;

    if ((at = lbx_text_unsafe_at(ar->path, 0)) != (size_t)-1)
        return text_refused("the path", at, e);
    for (kv = ar->query.tqh_first; kv != NULL; kv = kv->next.tqe_next) {
        if ((at = lbx_text_unsafe_at(kv->key, 0)) != (size_t)-1)
            return text_refused("a query parameter name", at, e);
        if ((at = lbx_text_unsafe_at(kv->value, 0)) != (size_t)-1) {
            snprintf(what, sizeof(what), "query parameter '%.32s'", kv->key);
            return text_refused(what, at, e);
        }
    }
    /* A recording's "cast" is a terminal's output as asciicast JSON lines: whatever the session
     * printed (bidirectional marks, C1 characters as UTF-8) is in it, and refusing it here would
     * let a session make its own recording unstorable. recording_check reads it line by line
     * (a raw control character is malformed JSON there); the console's player draws it as text. */
    return ar->body != NULL
               ? body_text(ar->body, NULL,
                           strcmp(ar->path, "/v1/host/recordings") == 0 ? "cast" : NULL, e)
               : LBX_OK;
}

lbx_err api_only_keys(struct api_req *ar, const char *const *allowed, struct lbx_error *e)
{
    lbx_err r = lbx_json_only_keys(ar->body, allowed, e);

    return r == LBX_OK ? LBX_OK : LBX_ERR_ARG;
}

lbx_err api_str(struct api_req *ar, const char *key, int required, size_t max, const char **out,
                struct lbx_error *e)
{
    json_t *v = json_object_get(ar->body, key);

    *out = NULL;
    if (v == NULL || (json_is_null(v) && !required))
        return required ? lbx_error_set(e, LBX_ERR_ARG, "'%s' is required", key) : LBX_OK;
    if (!json_is_string(v))
        return lbx_error_set(e, LBX_ERR_ARG, "'%s' must be a string", key);
    if (json_string_length(v) > max)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "'%s' is longer than %zu bytes", key, max);
    if (required && json_string_length(v) == 0)
        return lbx_error_set(e, LBX_ERR_ARG, "'%s' must not be empty", key);
    *out = json_string_value(v);
    return LBX_OK;
}

const char *api_query(struct api_req *ar, const char *key)
{
    return evhttp_find_header(&ar->query, key);
}

lbx_err api_query_int(struct api_req *ar, const char *key, int64_t min, int64_t max, int64_t dflt,
                      int64_t *out, struct lbx_error *e)
{
    const char *v = api_query(ar, key);
    char *end;
    long long n;

    *out = dflt;
    if (v == NULL)
        return LBX_OK;
    n = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || n < min || n > max)
        return lbx_error_set(e, LBX_ERR_ARG, "query '%s' must be an integer in [%lld, %lld]", key,
                             (long long)min, (long long)max);
    *out = n;
    return LBX_OK;
}
