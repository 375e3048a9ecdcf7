#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"
#include "json.h"
#include "log.h"
#include "random.h"

static json_t *nullable_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *request_int(const json_t *row, const char *key)
{
    json_t *v = row ? json_object_get(row, key) : NULL;

    return json_is_integer(v) ? json_incref(v) : json_null();
}

static json_t *request_id(const json_t *row)
{
    char id[32];

    if (row == NULL)
        return json_null();
    snprintf(id, sizeof(id), "LBX-%lld", (long long)row_int(row, "id"));
    return json_string(id);
}

static json_t *request_host(const json_t *row, const char *host)
{
    char buf[96];

    if (host != NULL)
        return json_string(host);
    if (row != NULL && row_str(row, "host") != NULL)
        return json_string(row_str(row, "host"));
    if (row != NULL && row_str(row, "host_group") != NULL) {
        snprintf(buf, sizeof(buf), "group:%s", row_str(row, "host_group"));
        return json_string(buf);
    }
    return json_null();
}

/* The seeds' audit fields: event id, time, actor, tenant, request id, status, ticket id,
 * request expiry, access expiry, host, justification. */
static json_t *event_body(const struct audit_event *ev, int64_t seq, const char *prev,
                          const char *event_id, int64_t now)
{
    const json_t *rq = ev->request;

    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "seq", (json_int_t)seq, "prev_hash", prev, "event_id", event_id, "time",
                     (json_int_t)now, "action", ev->action, "actor", nullable_str(ev->actor),
                     "tenant", nullable_str(rq ? row_str(rq, "tenant") : ev->tenant), "request_id",
                     request_id(rq), "status", nullable_str(rq ? row_str(rq, "status") : NULL),
                     "ticket", nullable_str(rq ? row_str(rq, "ticket") : NULL), "request_expiry",
                     request_int(rq, "request_expiry"), "access_expiry",
                     request_int(rq, "access_end"), "host", request_host(rq, ev->host),
                     "justification", nullable_str(rq ? row_str(rq, "reason") : NULL), "detail",
                     ev->detail ? json_incref(ev->detail) : json_object());
}

lbx_err audit_append(struct store *st, const struct audit_event *ev, struct lbx_error *e)
{
    char prev[LBX_AUDIT_HASH_HEX + 1] = LBX_AUDIT_GENESIS, hash[LBX_AUDIT_HASH_HEX + 1];
    char *rnd = NULL, event_id[40], *text = NULL;
    int64_t seq = 1, now = (int64_t)time(NULL);
    json_t *last = NULL, *body = NULL;
    lbx_err r;

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
    if ((body = event_body(ev, seq, prev, event_id, now)) == NULL ||
        (text = lbx_json_dump(body)) == NULL) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "audit event");
        goto out;
    }
    if ((r = lbx_audit_hash(text, strlen(text), hash)) != LBX_OK)
        goto out;
    r = store_exec(st, Q_AUDIT_INSERT,
                   SV_PARAMS(SV_INT(seq), SV_TEXT(event_id), SV_INT(now), SV_TEXT(ev->action),
                             SV_TEXT(text), SV_TEXT(hash)),
                   NULL, NULL, e);
out:
    json_decref(ev->detail);
    json_decref(last);
    json_decref(body);
    free(text);
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
