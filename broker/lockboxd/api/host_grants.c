/* The host's question "may LOGIN log in here now?": a grant token for an active grant, or a
 * refusal with a reason code and, for a pending request, who must approve it. A host only
 * ever gets tokens with its own host id as audience. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "buf.h"
#include "json.h"
#include "log.h"
#include "requests.h"
#include "token.h"

struct decision {
    int status;
    json_t *body;      /* a refusal's answer */
    char *text;        /* a token's answer, written as JSON text (holds the token: wiped) */
    const json_t *row; /* the request decided on, for the audit event */
};

static lbx_err mint(struct broker *b, const char *host, const char *login, const json_t *row,
                    int64_t now, struct decision *d, struct lbx_error *e)
{
    char grant[32], req[32], *token = NULL;
    struct lbx_claims claims = {0};
    struct lbx_json_out o;
    struct lbx_buf answer;
    lbx_err r;

    snprintf(grant, sizeof(grant), "G-%lld", (long long)row_int(row, "id"));
    snprintf(req, sizeof(req), "LBX-%lld", (long long)row_int(row, "id"));
    claims.iss = b->cfg.issuer;
    claims.sub = (char *)login;
    claims.aud = (char *)host;
    claims.jti = grant;
    claims.req = req;
    claims.ticket = (char *)row_str(row, "ticket");
    claims.iat = claims.nbf = now;
    claims.exp = row_int(row, "access_end");
    if ((r = lbx_token_mint(b->signing_key, &claims, &token, e)) != LBX_OK)
        return r;
    d->status = 200;
    lbx_buf_init(&answer, 0);
    lbx_json_out_begin(&o, &answer);
    lbx_json_out_str(&o, "token", token);
    lbx_json_out_str(&o, "grant_id", grant);
    lbx_json_out_str(&o, "request_id", req);
    lbx_json_out_str(&o, "ticket", row_str(row, "ticket"));
    lbx_json_out_str(&o, "approved_by",
                     row_str(row, "decided_by") ? row_str(row, "decided_by") : "");
    lbx_json_out_int(&o, "access_end", claims.exp);
    if ((r = lbx_json_out_end(&o)) == LBX_OK)
        d->text = lbx_buf_steal(&answer);
    lbx_buf_free(&answer);
    lbx_free_secret(token);
    return r == LBX_OK ? LBX_OK : lbx_error_set(e, r, "answer");
}

/* A message cut to its buffer may end inside a character of an approver's comment: JSON
 * takes valid UTF-8 only, so the cut moves back to the last whole character. */
static void cut_partial_utf8(char *msg)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t len = strlen(msg), i = 0, n;
    int incomplete;

    while (i < len) {
        n = lbx_utf8_seq_len(s + i, len - i, &incomplete);
        if (n == 0 || incomplete)
            break;
        i += n;
    }
    msg[i] = '\0';
}

static void refuse(struct decision *d, const char *code, const json_t *row, const char *awaiting,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void refuse(struct decision *d, const char *code, const json_t *row, const char *awaiting,
                   const char *fmt, ...)
{
    char msg[256], id[32]; /* a host keeps up to 255 bytes (struct lbx_broker_refusal) */
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cut_partial_utf8(msg);
    d->status = 403;
    d->row = row;
    d->body = json_pack("{s:s, s:s}", "error", code, "message", msg);
    if (row != NULL) {
        snprintf(id, sizeof(id), "LBX-%lld", (long long)row_int(row, "id"));
        json_object_set_new(d->body, "request_id", json_string(id));
    }
    if (awaiting != NULL)
        json_object_set_new(d->body, "awaiting", json_string(awaiting));
}

/* "subscription owner (carol, dave)" or "support manager (mike)". */
static void awaiting_text(const json_t *row, char *out, size_t len)
{
    int review = strcmp(row_str(row, "status"), "internal-review") == 0;
    const char *stage = review ? "review" : "customer";
    size_t off;
    json_t *a;
    size_t i;
    int first = 1;

    off = (size_t)snprintf(out, len, "%s (",
                           review                         ? "support manager"
                           : row_str(row, "subscription") ? "subscription owner"
                                                          : "tenant global administrator");
    json_array_foreach(json_object_get(row, "approvers"), i, a)
    {
        if (strcmp(row_str(a, "stage"), stage) != 0 || off >= len)
            continue;
        off += (size_t)snprintf(out + off, len - off, "%s%s", first ? "" : ", ",
                                row_str(a, "identity"));
        first = 0;
    }
    if (off < len)
        snprintf(out + off, len - off, ")");
}

static void refuse_for(const json_t *row, int64_t now, struct decision *d)
{
    const char *st = row_str(row, "status"), *by = row_str(row, "decided_by");
    long long id = (long long)row_int(row, "id");
    char awaiting[256];

    if (!strcmp(st, "pending") || !strcmp(st, "internal-review")) {
        awaiting_text(row, awaiting, sizeof(awaiting));
        refuse(d, "pending", row, awaiting, "LBX-%lld awaits approval by %s", id, awaiting);
    } else if (!strcmp(st, "denied")) {
        const char *why = row_str(row, "comment");

        /* The approver's reason is what the engineer reads at the door. */
        if (why != NULL && why[0] != '\0')
            refuse(d, "denied", row, NULL, "LBX-%lld was denied by %s: %s", id, by ? by : "?", why);
        else
            refuse(d, "denied", row, NULL, "LBX-%lld was denied by %s", id, by ? by : "?");
    } else if (!strcmp(st, "expired")) {
        refuse(d, "expired", row, NULL, "LBX-%lld expired unanswered", id);
    } else if (!strcmp(st, "cancelled")) {
        /* Its requester lost the access to ask: who withdrew it says why (decided_by, comment). */
        if (by != NULL && row_str(row, "comment") != NULL)
            refuse(d, "cancelled", row, NULL, "LBX-%lld was cancelled by %s: %s", id, by,
                   row_str(row, "comment"));
        else
            refuse(d, "cancelled", row, NULL,
                   "LBX-%lld was cancelled: its requester was disabled or lost the engineer role",
                   id);
    } else if (!strcmp(st, "revoked")) {
        refuse(d, "revoked", row, NULL, "LBX-%lld was revoked by %s", id,
               row_str(row, "revoked_by") ? row_str(row, "revoked_by") : "?");
    } else {
        refuse(d, "ended", row, NULL, "the access window of LBX-%lld is over", id);
    }
    (void)now;
}

/* Lockbox off: no consent needed, but only for an engineer of the host's tenant (or global),
 * and the login still gets a capped grant of its own, created as that engineer's request. */
static lbx_err auto_grant(struct broker *b, const json_t *host_row, const json_t *who,
                          const struct policy_eff *p, struct decision *d, json_t **row,
                          struct lbx_error *e)
{
    struct caller c = {.kind = CALLER_PERSON, .roles = 1u << LBX_ROLE_ENGINEER};
    struct request_input in = {.host = row_str(host_row, "id"),
                               .ticket = "lockbox-off",
                               .reason = "lockbox is off for this scope: consent not required",
                               .duration = p->access_duration};
    const char *tenant = row_str(host_row, "tenant");
    lbx_err r;

    if ((r = store_exec(b->store, Q_ROLES_OF_IDENTITY, SV_PARAMS(SV_TEXT(row_str(who, "name"))),
                        &c.assignments, NULL, e)) != LBX_OK)
        return r;
    if (engineer_scope_for(c.assignments, tenant) == NULL) {
        refuse(d, "not_eligible", NULL, NULL,
               "lockbox is off for %s, but %s holds no engineer role on global or tenant:%s",
               in.host, row_str(who, "name"), tenant);
        r = LBX_OK;
    } else {
        snprintf(c.name, sizeof(c.name), "%s", row_str(who, "name"));
        snprintf(c.login, sizeof(c.login), "%s", row_str(who, "login"));
        r = request_create(b, &c, &in, row, e);
        if (r == LBX_ERR_FORBIDDEN) { /* the role was removed since it was read above */
            refuse(d, "not_eligible", NULL, NULL, "lockbox is off for %s, but %s", in.host,
                   e->detail);
            r = LBX_OK;
        }
    }
    json_decref(c.assignments);
    return r;
}

/* An active grant gets its token only while its requester still holds an engineer role that
 * reaches the grant's tenant. A role's removal withdraws the grants it alone allowed, in its
 * own transaction, and the token's write re-reads the grant's status; this check refuses what
 * no withdrawal took. */
static lbx_err issue(struct broker *b, const char *host, const char *login, const json_t *row,
                     int64_t now, struct decision *d, struct lbx_error *e)
{
    char scope[LBX_NAME_MAX + 16];
    lbx_err r;

    d->row = row;
    r = engineer_scope_now(b->store, row_str(row, "requester"), row_str(row, "tenant"), scope, e);
    if (r == LBX_ERR_FORBIDDEN) {
        refuse(d, "not_eligible", row, NULL, "LBX-%lld is approved, but %s",
               (long long)row_int(row, "id"), e->detail);
        return LBX_OK;
    }
    return r != LBX_OK ? r : mint(b, host, login, row, now, d, e);
}

static lbx_err decide(struct broker *b, const char *host, const char *login, json_t *rows,
                      struct decision *d, json_t **made, struct lbx_error *e)
{
    int64_t now = (int64_t)time(NULL);
    struct policy_eff p;
    json_t *row, *hrow = NULL, *who = NULL;
    size_t i;
    lbx_err r;

    json_array_foreach(rows, i, row)
    {
        if (grant_status(row, now) != NULL && !strcmp(grant_status(row, now), "active"))
            return issue(b, host, login, row, now, d, e);
    }
    if ((r = store_row(b->store, Q_HOST_GET, SV_PARAMS(SV_TEXT(host)), &hrow, e)) != LBX_OK ||
        (r = policy_effective(b, b->store, row_str(hrow, "tenant"), row_str(hrow, "subscription"),
                              &p, e)) != LBX_OK)
        goto out;
    if (!p.lockbox) {
        if ((r = store_row(b->store, Q_IDENTITY_BY_LOGIN, SV_PARAMS(SV_TEXT(login)), &who, e)) ==
                LBX_OK &&
            (r = auto_grant(b, hrow, who, &p, d, made, e)) == LBX_OK && *made != NULL) {
            d->row = *made;
            r = mint(b, host, login, *made, now, d, e);
        }
        goto out;
    }
    /* The newest request decides the refusal; loaded whole for its approvers. */
    if (json_array_size(rows) == 0)
        refuse(d, "no_request", NULL, NULL,
               "no lockbox request for %s on %s: ask with "
               "'lockboxctl request create --host %s'",
               login, host, host);
    else if ((r = request_load(b->store, row_int(json_array_get(rows, 0), "id"), made, e)) ==
             LBX_OK)
        refuse_for(*made, now, d);
out:
    json_decref(hrow);
    json_decref(who);
    return r;
}

/* The answer's event. No event, no answer: a token whose issue is not on record never leaves
 * (the caller answers 500). */
static lbx_err audit_decision(struct store *st, const char *host, const char *login,
                              const struct decision *d, struct lbx_error *e)
{
    char actor[LBX_NAME_MAX + 8];
    struct audit_event ev = {
        .action = d->status == 200 ? "token_issued" : "token_refused",
        .actor = actor,
        .request = d->row,
        .host = host,
        .detail = json_pack(
            "{s:s, s:s}", "login", login, "result",
            d->status == 200 ? "issued" : json_string_value(json_object_get(d->body, "error"))),
    };

    snprintf(actor, sizeof(actor), "host:%s", host);
    return audit_append(st, &ev, e);
}

/* The read phase's decision, carried to its write on the commit thread and back. */
struct token_answer {
    char host[LBX_NAME_MAX + 1], login[LBX_NAME_MAX + 1];
    struct decision d;
    json_t *row;     /* our reference on d.row (or the re-read row) */
    char error[256]; /* why the write failed */
};

static void decision_clear(struct decision *d)
{
    json_decref(d->body);
    lbx_free_secret(d->text);
    d->body = NULL, d->text = NULL;
}

static void token_answer_free(struct token_answer *t)
{
    decision_clear(&t->d);
    json_decref(t->row);
    free(t);
}

/* The grant may have been revoked or ended (by another worker, or a timer) since the read
 * phase: re-read it inside the write transaction. Not active any more: the answer becomes
 * that refusal. */
static lbx_err recheck_grant(struct store *st, struct token_answer *t, struct lbx_error *e)
{
    int64_t now = (int64_t)time(NULL), id = row_int(t->row, "id");
    const char *status;
    json_t *state = NULL, *fresh = NULL;
    lbx_err r;

    if ((r = store_row(st, Q_REQ_GRANT_STATE, SV_PARAMS(SV_INT(id)), &state, e)) != LBX_OK)
        return r;
    status = grant_status(state, now);
    if (status != NULL && strcmp(status, "active") == 0) {
        json_decref(state);
        return LBX_OK;
    }
    json_decref(state);
    if ((r = store_row(st, Q_REQ_GET, SV_PARAMS(SV_INT(id)), &fresh, e)) != LBX_OK)
        return r;
    decision_clear(&t->d);
    refuse_for(fresh, now, &t->d);
    lbx_info_f("LBX-%lld: token for %s on %s refused at write: grant %s meanwhile", (long long)id,
               t->login, t->host, row_str(fresh, "status"));
    json_decref(t->row);
    t->row = fresh;
    t->d.row = fresh;
    return t->d.body ? LBX_OK : lbx_error_set(e, LBX_ERR_NOMEM, "answer");
}

/* The write phase (group_write_fn, on the commit thread): the grant re-checked and the
 * decision's event, as a member of the thread's group. */
static lbx_err token_record(struct store *st, void *arg)
{
    struct token_answer *t = arg;
    struct lbx_error e = {0};
    int issue = t->d.status == 200;
    lbx_err r;

    if ((r = store_begin(st, &e)) == LBX_OK) {
        if ((!issue || (r = recheck_grant(st, t, &e)) == LBX_OK) &&
            (r = audit_decision(st, t->host, t->login, &t->d, &e)) == LBX_OK)
            r = store_commit(st, &e);
        else
            store_rollback(st);
    }
    if (r != LBX_OK)
        snprintf(t->error, sizeof(t->error), "%s", e.detail);
    return r;
}

/* The answer (group_answer_fn, on the loop, once the group's commit returned). */
static void token_send(struct broker *b, struct evhttp_request *req, void *arg, int ok)
{
    struct token_answer *t = arg;
    struct api_req ar = {.b = b, .req = req};

    snprintf(ar.path, sizeof(ar.path), "/v1/host/token");
    if (!ok) {
        lbx_error_f("%s for %s on %s not recorded: %s", t->d.status == 200 ? "token" : "refusal",
                    t->login, t->host, t->error[0] ? t->error : "the group commit failed");
        api_fail_msg(&ar, 500, "internal", "%s", lbx_strerror(LBX_ERR_STORE));
    } else if (t->d.text != NULL) {
        api_reply_text(&ar, t->d.status, t->d.text);
    } else {
        api_reply(&ar, t->d.status, t->d.body);
        t->d.body = NULL;
    }
    token_answer_free(t);
}

/* The read phase: lookups and, for an active grant, the signed token, outside any
 * transaction. */
static lbx_err token_decide(struct broker *b, struct token_answer *t, struct lbx_error *e)
{
    json_t *rows = NULL, *who = NULL, *made = NULL;
    lbx_err r;

    store_snapshot(b->store, 1); /* the two reads: one snapshot, the read locks taken once */
    r = store_row(b->store, Q_IDENTITY_BY_LOGIN, SV_PARAMS(SV_TEXT(t->login)), &who, e);
    if (r == LBX_OK)
        r = store_exec(b->store, Q_REQ_FOR_LOGIN_HOST,
                       SV_PARAMS(SV_TEXT(t->login), SV_TEXT(t->host), SV_TEXT(t->host)), &rows,
                       NULL, e);
    store_snapshot(b->store, 0);
    if (r == LBX_ERR_NOT_FOUND) {
        refuse(&t->d, "unknown_login", NULL, NULL, "%s is not a support login known to lockbox",
               t->login);
        r = LBX_OK;
    } else if (r == LBX_OK) {
        r = decide(b, t->host, t->login, rows, &t->d, &made, e);
    }
    if (r == LBX_OK && t->d.body == NULL && t->d.text == NULL)
        r = lbx_error_set(e, LBX_ERR_NOMEM, "answer");
    t->row = json_incref((json_t *)t->d.row);
    json_decref(rows);
    json_decref(who);
    json_decref(made);
    return r;
}

int host_token_answer(struct api_req *ar, const char *host, const char *login)
{
    struct token_answer *t = calloc(1, sizeof(*t));
    struct lbx_error e = {0};
    lbx_err r;

    if (t == NULL)
        return api_fail_msg(ar, 500, "internal", "out of memory");
    snprintf(t->host, sizeof(t->host), "%s", host);
    snprintf(t->login, sizeof(t->login), "%s", login);
    if ((r = token_decide(ar->b, t, &e)) != LBX_OK) {
        token_answer_free(t);
        return api_fail(ar, r, &e);
    }
    if (group_commit_defer(ar->b, ar->req, token_record, token_send, t) != 0) {
        token_answer_free(t);
        return api_fail_msg(ar, 500, "internal", "out of memory");
    }
    ar->answered = 1; /* token_write answers */
    return 0;
}
