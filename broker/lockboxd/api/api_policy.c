/* Admin endpoints: per-scope policy and API tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_admin.h"
#include "audit.h"
#include "buf.h"
#include "duration.h"
#include "json.h"
#include "requests.h"

int api_policy_list(struct api_req *ar)
{
    if (!tenant_admin_any(ar))
        return 0;
    return managed_list(ar, Q_POLICY_LIST, "policies", "scope");
}

/* A policy scope is an existing tenant or subscription, managed by the caller: the broker's
 * admins, or a global admin of that tenant. Whether another tenant's scope exists is not told:
 * it is refused as it would be if it did. */
static int policy_scope(struct api_req *ar, const char **tenant, const char **sub)
{
    enum lbx_scope_type type;
    struct lbx_error e = {0};
    const char *id;
    lbx_err r;

    *tenant = *sub = NULL;
    if (lbx_scope_parse(ar->params[0], &type, &id, &e) != LBX_OK ||
        (type != LBX_SCOPE_TENANT && type != LBX_SCOPE_SUBSCRIPTION))
        return api_fail_msg(ar, 400, "bad_request",
                            "policy scope is tenant:ID or "
                            "subscription:ID"),
               0;
    /* The tenant's id lives in the request's params buffer. */
    r = scope_tenant(ar->b->store, ar->params[0], ar->param_buf, sizeof(ar->param_buf), &e);
    if (r != LBX_OK && r != LBX_ERR_NOT_FOUND)
        return api_fail(ar, r, &e), 0;
    if (!tenant_admin_only(ar, r == LBX_OK ? ar->param_buf : NULL))
        return 0;
    if (r != LBX_OK)
        return api_fail(ar, r, &e), 0;
    *tenant = ar->param_buf;
    if (type == LBX_SCOPE_SUBSCRIPTION)
        *sub = id;
    return 1;
}

int api_policy_get(struct api_req *ar)
{
    const char *tenant, *sub, *text;
    struct lbx_error e = {0};
    struct policy_eff p;
    json_t *row = NULL, *stored = NULL;
    lbx_err r;

    if (!policy_scope(ar, &tenant, &sub))
        return 0;
    if ((r = policy_effective(ar->b, ar->b->store, tenant, sub, &p, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if (store_row(ar->b->store, Q_POLICY_GET, SV_PARAMS(SV_TEXT(ar->params[0])), &row, &e) ==
            LBX_OK &&
        (text = row_str(row, "body")) != NULL)
        lbx_json_parse_object(text, strlen(text), 65536, 4, &stored, &e);
    json_decref(row);
    return api_reply(ar, 200,
                     json_pack("{s:s, s:o, s:{s:b, s:I, s:I, s:I, s:b, s:s?, s:b}}", "scope",
                               ar->params[0], "stored", stored ? stored : json_object(),
                               "effective", "lockbox", p.lockbox, "request_ttl",
                               (json_int_t)p.request_ttl, "access_duration",
                               (json_int_t)p.access_duration, "approvals_required",
                               (json_int_t)p.approvals_required, "internal_review",
                               p.internal_review, "notify_webhook", p.webhook[0] ? p.webhook : NULL,
                               "notify_email", p.notify_email));
}

int api_policy_put(struct api_req *ar)
{
    const char *tenant, *sub;
    struct lbx_error e = {0};
    char *text;
    lbx_err r;

    if (!policy_scope(ar, &tenant, &sub))
        return 0;
    if ((r = policy_validate(ar->body, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if ((text = lbx_json_dump(ar->body)) == NULL)
        return api_fail_msg(ar, 500, "internal", "out of memory");
    struct admin_audit aa = {"policy_changed", tenant,
                             json_pack("{s:s, s:O}", "scope", ar->params[0], "policy", ar->body),
                             "", "policy not stored"};
    r = admin_change(ar, Q_POLICY_PUT,
                     SV_PARAMS(SV_TEXT(ar->params[0]), SV_TEXT(text), SV_INT(time(NULL))), &aa,
                     json_pack("{s:s, s:O}", "scope", ar->params[0], "policy", ar->body));
    free(text);
    return r;
}

/* "expires_in": seconds or a duration ("30d"); absent: the default. */
static lbx_err token_lifetime(struct api_req *ar, int64_t *out, struct lbx_error *e)
{
    json_t *v = json_object_get(ar->body, "expires_in");

    *out = API_TOKEN_LIFETIME_DEFAULT;
    if (v == NULL)
        return LBX_OK;
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (!json_is_string(v) || lbx_duration_parse(json_string_value(v), out) != LBX_OK)
        *out = -1;
    if (*out < API_TOKEN_LIFETIME_MIN || *out > API_TOKEN_LIFETIME_MAX)
        return lbx_error_set(e, LBX_ERR_ARG,
                             "'expires_in' must be %d s .. %d days (seconds or like \"30d\")",
                             API_TOKEN_LIFETIME_MIN, API_TOKEN_LIFETIME_MAX / 86400);
    return LBX_OK;
}

int api_tokens(struct api_req *ar)
{
    static const char *const keys[] = {"identity", "label", "expires_in", NULL};
    const char *identity, *label;
    struct lbx_error e = {0};
    char *secret = NULL, *id = NULL;
    int64_t lifetime, expires;
    json_t *who;
    lbx_err r;

    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_TOKEN_LIST, "api_tokens");
    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "identity", 1, &identity, &e)) ||
        (r = api_str(ar, "label", 0, 128, &label, &e)) || (r = token_lifetime(ar, &lifetime, &e)))
        return api_fail(ar, r, &e);
    if ((who = admin_must_exist(ar, Q_IDENTITY_GET, "identity", identity)) == NULL)
        return 0;
    json_decref(who);
    if ((r = store_begin(ar->b->store, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    expires = (int64_t)time(NULL) + lifetime;
    if ((r = auth_token_create(ar->b->store, identity, label, expires, &secret, &id, &e)) ==
        LBX_OK) {
        struct audit_event ev = {.action = "api_token_created",
                                 .actor = ar->caller.name,
                                 .detail = json_pack("{s:s, s:s, s:s*, s:I}", "token_id", id,
                                                     "identity", identity, "label", label,
                                                     "expires", (json_int_t)expires)};
        if ((r = audit_append(ar->b->store, &ev, &e)) == LBX_OK)
            r = store_commit(ar->b->store, &e);
    }
    if (r != LBX_OK) {
        store_rollback(ar->b->store);
        api_fail(ar, r, &e);
    } else {
        api_reply(ar, 201,
                  json_pack("{s:s, s:s, s:s, s:I}", "id", id, "identity", identity, "token", secret,
                            "expires", (json_int_t)expires));
    }
    lbx_free_secret(secret);
    free(id);
    return 0;
}

int api_token_delete(struct api_req *ar)
{
    struct lbx_error e = {0};
    json_t *row;

    if (!admin_only(ar))
        return 0;
    if (!lbx_valid_name(ar->params[0]) ||
        store_row(ar->b->store, Q_TOKEN_GET, SV_PARAMS(SV_TEXT(ar->params[0])), &row, &e) != LBX_OK)
        return api_fail_msg(ar, 404, "not_found", "no API token %s", ar->params[0]);
    struct admin_audit aa = {
        "api_token_revoked", NULL,
        json_pack("{s:s, s:s}", "token_id", ar->params[0], "identity", row_str(row, "identity")),
        "", "API token already revoked"};
    json_decref(row);
    return admin_change(ar, Q_TOKEN_REVOKE, SV_PARAMS(SV_INT(time(NULL)), SV_TEXT(ar->params[0])),
                        &aa, NULL);
}
