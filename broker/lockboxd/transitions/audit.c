#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"
#include "buf.h"
#include "json.h"
#include "log.h"
#include "random.h"

static const char *request_id(const json_t *row, char id[32])
{
    if (row == NULL)
        return NULL;
    snprintf(id, 32, "LBX-%lld", (long long)row_int(row, "id"));
    return id;
}

static const char *request_host(const json_t *row, const char *host, char buf[96])
{
    if (host != NULL)
        return host;
    if (row != NULL && row_str(row, "host") != NULL)
        return row_str(row, "host");
    if (row != NULL && row_str(row, "host_group") != NULL) {
        snprintf(buf, 96, "group:%s", row_str(row, "host_group"));
        return buf;
    }
    return NULL;
}

static void request_int(struct lbx_json_out *o, const char *key, const json_t *row, const char *col)
{
    json_t *v = row ? json_object_get(row, col) : NULL;

    if (json_is_integer(v))
        lbx_json_out_int(o, key, json_integer_value(v));
    else
        lbx_json_out_null(o, key);
}

/* The seeds' audit fields: event id, time, actor, tenant, request id, status, ticket id,
 * request expiry, access expiry, host, justification. Written straight as text, members in
 * sorted order (what lbx_json_dump would make of them): one event per token, no tree. */
static lbx_err event_text(const struct audit_event *ev, int64_t seq, const char *prev,
                          const char *event_id, int64_t now, struct lbx_buf *b)
{
    const json_t *rq = ev->request;
    char id[32], host[96], *detail = ev->detail ? lbx_json_dump(ev->detail) : NULL;
    struct lbx_json_out o;
    lbx_err r;

    if (ev->detail != NULL && detail == NULL)
        return LBX_ERR_NOMEM;
    lbx_json_out_begin(&o, b);
    request_int(&o, "access_expiry", rq, "access_end");
    lbx_json_out_str(&o, "action", ev->action);
    lbx_json_out_str(&o, "actor", ev->actor);
    lbx_json_out_raw(&o, "detail", detail ? detail : "{}");
    lbx_json_out_str(&o, "event_id", event_id);
    lbx_json_out_str(&o, "host", request_host(rq, ev->host, host));
    lbx_json_out_str(&o, "justification", rq ? row_str(rq, "reason") : NULL);
    lbx_json_out_str(&o, "prev_hash", prev);
    request_int(&o, "request_expiry", rq, "request_expiry");
    lbx_json_out_str(&o, "request_id", request_id(rq, id));
    lbx_json_out_int(&o, "seq", seq);
    lbx_json_out_str(&o, "status", rq ? row_str(rq, "status") : NULL);
    lbx_json_out_str(&o, "tenant", rq ? row_str(rq, "tenant") : ev->tenant);
    lbx_json_out_str(&o, "ticket", rq ? row_str(rq, "ticket") : NULL);
    lbx_json_out_int(&o, "time", now);
    r = lbx_json_out_end(&o);
    free(detail);
    return r;
}

lbx_err audit_append(struct store *st, const struct audit_event *ev, struct lbx_error *e)
{
    char prev[LBX_AUDIT_HASH_HEX + 1] = LBX_AUDIT_GENESIS, hash[LBX_AUDIT_HASH_HEX + 1];
    char *rnd = NULL, event_id[40];
    int64_t seq = 1, now = (int64_t)time(NULL);
    json_t *last = NULL;
    struct lbx_buf text;
    lbx_err r;

    lbx_buf_init(&text, LBX_AUDIT_BODY_MAX);
    if ((r = store_row(st, Q_AUDIT_LAST, NULL, &last, e)) == LBX_OK) {
        seq = row_int(last, "seq") + 1;
        snprintf(prev, sizeof(prev), "%s", row_str(last, "hash") ? row_str(last, "hash") : "");
    } else if (r != LBX_ERR_NOT_FOUND) {
        goto out;
    }
    if ((r = lbx_random_b64url(12, &rnd)) != LBX_OK) {
        lbx_error_set(e, r, "event id");
        goto out;
    }
    /* The chain position first (fixed width, so ids sort as they are appended): every new
     * id lands at the end of the unique index, one page per commit, instead of on a random
     * leaf page per event; the random part keeps ids unique across databases. */
    snprintf(event_id, sizeof(event_id), "E-%012llx-%s", (unsigned long long)seq, rnd);
    if ((r = event_text(ev, seq, prev, event_id, now, &text)) != LBX_OK) {
        lbx_error_set(e, r, "audit event");
        goto out;
    }
    if ((r = lbx_audit_hash(text.data, text.len, hash)) != LBX_OK)
        goto out;
    r = store_exec(st, Q_AUDIT_INSERT,
                   SV_PARAMS(SV_INT(seq), SV_TEXT(event_id), SV_INT(now), SV_TEXT(ev->action),
                             SV_TEXT(text.data), SV_TEXT(hash)),
                   NULL, NULL, e);
out:
    json_decref(ev->detail);
    json_decref(last);
    lbx_buf_free(&text);
    free(rnd);
    return r;
}

lbx_err audit_record(struct store *st, const struct audit_event *ev, struct lbx_error *e)
{
    lbx_err r;

    if ((r = store_begin(st, e)) != LBX_OK) {
        json_decref(ev->detail);
    } else if ((r = audit_append(st, ev, e)) != LBX_OK) {
        store_rollback(st);
    } else if ((r = store_commit(st, e)) == LBX_OK) {
        return LBX_OK;
    }
    lbx_error_f("audit %s not recorded: %s", ev->action, e->detail);
    return r;
}

void audit_note(struct store *st, const struct audit_event *ev)
{
    struct lbx_error e = {0};

    (void)audit_record(st, ev, &e);
}
