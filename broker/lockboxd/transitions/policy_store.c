/* Per-tenant and per-subscription policy: stored as a JSON object per scope, resolved on top
 * of the broker's configured defaults. No value can raise the 8 h cap. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "requests.h"
#include "token.h"

static const char *const policy_keys[] = {
    "lockbox",         "request_ttl",    "access_duration", "approvals_required",
    "internal_review", "notify_webhook", "notify_email",    NULL};

static lbx_err check_int(const json_t *body, const char *key, int64_t min, int64_t max,
                         struct lbx_error *e)
{
    json_t *v = json_object_get(body, key);

    if (v == NULL)
        return LBX_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return lbx_error_set(e, LBX_ERR_ARG, "'%s' must be an integer in [%lld, %lld]", key,
                             (long long)min, (long long)max);
    return LBX_OK;
}

static lbx_err check_bool(const json_t *body, const char *key, struct lbx_error *e)
{
    json_t *v = json_object_get(body, key);

    if (v != NULL && !json_is_boolean(v))
        return lbx_error_set(e, LBX_ERR_ARG, "'%s' must be true or false", key);
    return LBX_OK;
}

lbx_err policy_validate(const json_t *body, struct lbx_error *e)
{
    json_t *hook = json_object_get(body, "notify_webhook");
    lbx_err r;

    if (lbx_json_only_keys(body, policy_keys, e) != LBX_OK)
        return LBX_ERR_ARG;
    if ((r = check_bool(body, "lockbox", e)) || (r = check_bool(body, "internal_review", e)) ||
        (r = check_bool(body, "notify_email", e)) ||
        (r = check_int(body, "request_ttl", 1, LBX_REQUEST_TTL_MAX, e)) ||
        (r = check_int(body, "approvals_required", 1, 16, e)))
        return r;
    if ((r = check_int(body, "access_duration", 1, LBX_GRANT_MAX_LIFETIME, e)) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_LIFETIME_CAP,
                             "access_duration must be 1..%d seconds: "
                             "the 8 h cap cannot be raised",
                             LBX_GRANT_MAX_LIFETIME);
    if (hook != NULL && !json_is_null(hook) &&
        (!json_is_string(hook) || strncmp(json_string_value(hook), "https://", 8) != 0 ||
         json_string_length(hook) >= 512))
        return lbx_error_set(e, LBX_ERR_ARG, "'notify_webhook' must be an https:// URL or null");
    return LBX_OK;
}

static void apply(struct policy_eff *p, const json_t *body)
{
    json_t *v;

    if ((v = json_object_get(body, "lockbox")) != NULL)
        p->lockbox = json_is_true(v);
    if ((v = json_object_get(body, "internal_review")) != NULL)
        p->internal_review = json_is_true(v);
    if ((v = json_object_get(body, "notify_email")) != NULL)
        p->notify_email = json_is_true(v);
    if ((v = json_object_get(body, "request_ttl")) != NULL)
        p->request_ttl = json_integer_value(v);
    if ((v = json_object_get(body, "access_duration")) != NULL)
        p->access_duration = json_integer_value(v);
    if ((v = json_object_get(body, "approvals_required")) != NULL)
        p->approvals_required = json_integer_value(v);
    if ((v = json_object_get(body, "notify_webhook")) != NULL)
        snprintf(p->webhook, sizeof(p->webhook), "%s",
                 json_is_string(v) ? json_string_value(v) : "");
}

static lbx_err apply_scope(struct store *st, struct policy_eff *p, const char *kind, const char *id,
                           struct lbx_error *e)
{
    char scope[LBX_NAME_MAX + 32];
    json_t *row = NULL, *body = NULL;
    const char *text;
    lbx_err r;

    if (id == NULL)
        return LBX_OK;
    snprintf(scope, sizeof(scope), "%s:%s", kind, id);
    r = store_row(st, Q_POLICY_GET, SV_PARAMS(SV_TEXT(scope)), &row, e);
    if (r == LBX_ERR_NOT_FOUND)
        return LBX_OK;
    if (r != LBX_OK)
        return r;
    text = row_str(row, "body");
    if (text != NULL && lbx_json_parse_object(text, strlen(text), 65536, 4, &body, e) == LBX_OK) {
        apply(p, body);
        if (json_object_get(body, "lockbox") != NULL)
            snprintf(p->lockbox_from, sizeof(p->lockbox_from), "%s", scope);
    } else
        r = lbx_error_set(e, LBX_ERR_STORE, "stored policy for %s is unreadable", scope);
    json_decref(body);
    json_decref(row);
    return r;
}

lbx_err policy_effective(struct broker *b, struct store *st, const char *tenant,
                         const char *subscription, struct policy_eff *out, struct lbx_error *e)
{
    lbx_err r;

    memset(out, 0, sizeof(*out));
    out->lockbox = b->cfg.lockbox;
    out->request_ttl = b->cfg.request_ttl;
    out->access_duration = b->cfg.access_duration;
    out->approvals_required = b->cfg.approvals_required;
    out->internal_review = b->cfg.internal_review;
    snprintf(out->webhook, sizeof(out->webhook), "%s",
             b->cfg.notify_webhook ? b->cfg.notify_webhook : "");
    out->notify_email = b->cfg.notify_command != NULL;
    snprintf(out->lockbox_from, sizeof(out->lockbox_from), "broker-config");
    if ((r = apply_scope(st, out, "tenant", tenant, e)) != LBX_OK ||
        (r = apply_scope(st, out, "subscription", subscription, e)) != LBX_OK)
        return r;
    if (out->access_duration > LBX_GRANT_MAX_LIFETIME)
        out->access_duration = LBX_GRANT_MAX_LIFETIME;
    return LBX_OK;
}
