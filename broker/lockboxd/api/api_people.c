/* Admin endpoints for people and policy: identities (with their host login), role
 * assignments, per-scope policy, API tokens; plus health and whoami. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_admin.h"
#include "audit.h"
#include "json.h"
#include "requests.h"

int api_health(struct api_req *ar)
{
    return api_reply(ar, 200, json_pack("{s:s}", "status", "ok"));
}

int api_whoami(struct api_req *ar)
{
    json_t *roles = json_array(), *a;
    size_t i;

    json_array_foreach(ar->caller.assignments, i, a)
    {
        json_array_append_new(roles, json_pack("{s:s, s:s}", "role", row_str(a, "role"), "scope",
                                               row_str(a, "scope")));
    }
    return api_reply(ar, 200,
                     json_pack("{s:s, s:s, s:o}", "name", ar->caller.name, "login",
                               ar->caller.login, "roles", roles));
}

/* A Linux user name: [a-z_][a-z0-9_-]*, at most 32. */
static int valid_login(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

/* Safe to hand to a sendmail-compatible command as one argument. */
static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');

    if (strlen(s) > 254 || s[0] == '-' || at == NULL || at == s || strchr(at + 1, '@') ||
        at[1] == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr(",;<>\"'\\()", *s))
            return 0;
    return 1;
}

int api_identities(struct api_req *ar)
{
    static const char *const keys[] = {"name", "login", "email", NULL};
    struct lbx_error e = {0};
    const char *name, *login, *email;
    lbx_err r;

    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_IDENTITY_LIST, "identities");
    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "name", 1, &name, &e)) ||
        (r = api_str(ar, "login", 0, 32, &login, &e)) ||
        (r = api_str(ar, "email", 0, 254, &email, &e)))
        return api_fail(ar, r, &e);
    if (login != NULL && !valid_login(login))
        return api_fail_msg(ar, 400, "bad_request", "'login' must be a Linux user name");
    if (email != NULL && !valid_email(email))
        return api_fail_msg(ar, 400, "bad_request", "'email' is not a plain address");
    struct admin_audit aa = {"identity_created", NULL,
                             json_pack("{s:s, s:s*}", "identity", name, "login", login),
                             "identity or login exists already", ""};
    return admin_change(
        ar, Q_IDENTITY_INSERT,
        SV_PARAMS(SV_TEXT(name), SV_TEXT(login), SV_TEXT(email), SV_INT(time(NULL))), &aa,
        json_pack("{s:s, s:s*}", "name", name, "login", login));
}

/* The end of a change that withdrew access: committed (waking the hosts' reapers that
 * long-poll a grant it revoked) and answered 204, or rolled back whole. */
static int withdrawal_done(struct api_req *ar, lbx_err r, int withdrawn, struct lbx_error *e)
{
    if (r != LBX_OK) {
        store_rollback(ar->b->store);
        return api_fail(ar, r, e);
    }
    if ((r = store_commit(ar->b->store, e)) != LBX_OK)
        return api_fail(ar, r, e);
    if (withdrawn > 0)
        waiters_wake(ar->b);
    return api_reply(ar, 204, NULL);
}

/* Disabling takes the access with it, in the one transaction: the identity's API tokens and
 * certificate stop working, its open requests are cancelled and its grants revoked. */
int api_identity_delete(struct api_req *ar)
{
    const char *name = ar->params[0];
    char comment[LBX_NAME_MAX + 32];
    struct withdrawal w = {.identity = name,
                           .actor = ar->caller.name,
                           .cause = "identity_disabled",
                           .comment = comment,
                           .now = (int64_t)time(NULL)};
    struct lbx_error e = {0};
    struct audit_event ev = {.action = "identity_disabled", .actor = ar->caller.name};
    lbx_err r;

    if (!admin_only(ar))
        return 0;
    if (!lbx_valid_name(name))
        return api_fail_msg(ar, 404, "not_found", "no such enabled identity");
    snprintf(comment, sizeof(comment), "identity %s disabled", name);
    if ((r = store_begin(ar->b->store, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    r = store_change_one(ar->b->store, Q_IDENTITY_DISABLE, SV_PARAMS(SV_TEXT(name)), &e);
    if (r == LBX_ERR_CONFLICT)
        r = lbx_error_set(&e, LBX_ERR_NOT_FOUND, "no such enabled identity");
    if (r == LBX_OK)
        r = requests_withdraw(ar->b, &w, &e);
    if (r == LBX_OK) {
        ev.detail = json_pack("{s:s, s:i}", "identity", name, "withdrawn", w.count);
        r = audit_append(ar->b->store, &ev, &e);
    }
    return withdrawal_done(ar, r, w.count, &e);
}

static int scope_exists(struct api_req *ar, enum lbx_scope_type type, const char *id)
{
    json_t *row = NULL;

    if (type == LBX_SCOPE_TENANT)
        row = admin_must_exist(ar, Q_TENANT_GET, "tenant", id);
    else if (type == LBX_SCOPE_SUBSCRIPTION)
        row = admin_must_exist(ar, Q_SUB_GET, "subscription", id);
    else
        return 1;
    json_decref(row);
    return row != NULL;
}

/* The roles a tenant's global admin hands out within their tenant: the customer's own. The
 * provider's roles (engineer, support-manager, admin) stay with the broker's admins. */
static int customer_role(enum lbx_role role)
{
    return role == LBX_ROLE_OWNER || role == LBX_ROLE_GLOBAL_ADMIN || role == LBX_ROLE_AUDITOR;
}

/* 1 when the caller may assign or remove role on scope; otherwise answers 403 (audited). */
static int may_manage_role(struct api_req *ar, enum lbx_role role, const char *scope)
{
    struct lbx_error e = {0};
    char tenant[LBX_NAME_MAX + 1];
    int known;

    if (caller_has(&ar->caller, LBX_ROLE_ADMIN))
        return 1;
    known = scope_tenant(ar->b->store, scope, tenant, sizeof(tenant), &e) == LBX_OK;
    return tenant_admin_only(ar, known && customer_role(role) ? tenant : NULL);
}

static int role_assign(struct api_req *ar)
{
    static const char *const keys[] = {"identity", "role", "scope", NULL};
    const char *identity, *role_name, *scope, *scope_id;
    struct lbx_error e = {0};
    enum lbx_scope_type type;
    enum lbx_role role;
    json_t *who, *row = NULL;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "identity", 1, &identity, &e)) ||
        (r = api_str(ar, "role", 1, 32, &role_name, &e)) ||
        (r = api_str(ar, "scope", 1, 128, &scope, &e)))
        return api_fail(ar, r, &e);
    if (lbx_role_parse(role_name, &role) != LBX_OK)
        return api_fail_msg(ar, 400, "bad_request", "unknown role '%s'", role_name);
    if ((r = lbx_scope_parse(scope, &type, &scope_id, &e)) != LBX_OK ||
        (r = lbx_role_scope_check(role, type, &e)) != LBX_OK) {
        struct audit_event ev = {.action = "role_refused",
                                 .actor = ar->caller.name,
                                 .detail =
                                     json_pack("{s:s, s:s, s:s, s:s}", "identity", identity, "role",
                                               role_name, "scope", scope, "reason", e.detail)};
        audit_note(ar->b->store, &ev);
        return api_fail(ar, r, &e);
    }
    if (!may_manage_role(ar, role, scope))
        return 0;
    if ((who = admin_must_exist(ar, Q_IDENTITY_GET, "identity", identity)) == NULL)
        return 0;
    json_decref(who);
    if (!scope_exists(ar, type, scope_id))
        return 0;
    struct audit_event ev = {.action = "role_assigned",
                             .actor = ar->caller.name,
                             .tenant = type == LBX_SCOPE_TENANT ? scope_id : NULL,
                             .detail = json_pack("{s:s, s:s, s:s}", "identity", identity, "role",
                                                 role_name, "scope", scope)};
    if ((r = store_begin(ar->b->store, &e)) != LBX_OK) {
        json_decref(ev.detail);
        return api_fail(ar, r, &e);
    }
    r = store_row(
        ar->b->store, Q_ROLE_INSERT,
        SV_PARAMS(SV_TEXT(identity), SV_TEXT(role_name), SV_TEXT(scope), SV_INT(time(NULL))), &row,
        &e);
    if (r == LBX_OK) {
        json_object_set_new(ev.detail, "id", json_integer(row_int(row, "id")));
        r = audit_append(ar->b->store, &ev, &e); /* consumes the detail */
        ev.detail = NULL;
        if (r == LBX_OK && (r = store_commit(ar->b->store, &e)) == LBX_OK)
            return api_reply(ar, 201, row);
    }
    json_decref(ev.detail);
    store_rollback(ar->b->store);
    json_decref(row);
    return api_fail(ar, r, &e);
}

int api_roles(struct api_req *ar)
{
    if (!tenant_admin_any(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return managed_list(ar, Q_ROLE_LIST, "roles", "scope");
    return role_assign(ar);
}

/* Removing an engineer assignment takes what it alone allowed, in the one transaction: the
 * identity's open requests and unexpired grants on a tenant that no remaining engineer
 * assignment (global or that tenant) reaches. Other roles' removals need no withdrawal: an
 * approver decides only while holding the role (snapshot ∩ current holders). */
int api_role_delete(struct api_req *ar)
{
    char comment[LBX_NAME_MAX + 64];
    struct withdrawal w = {.actor = ar->caller.name, .cause = "role_removed", .comment = comment};
    struct audit_event ev = {.action = "role_removed", .actor = ar->caller.name};
    struct lbx_error e = {0};
    json_t *row = NULL, *remaining = NULL;
    enum lbx_role role;
    int64_t id;
    lbx_err r;

    if (!tenant_admin_any(ar))
        return 0;
    if (request_parse_id(ar->params[0], "", &id, &e) != LBX_OK ||
        store_row(ar->b->store, Q_ROLE_GET, SV_PARAMS(SV_INT(id)), &row, &e) != LBX_OK)
        return api_fail_msg(ar, 404, "not_found", "no role assignment %s", ar->params[0]);
    if (lbx_role_parse(row_str(row, "role"), &role) != LBX_OK ||
        !may_manage_role(ar, role, row_str(row, "scope"))) {
        if (!ar->answered)
            api_fail_msg(ar, 500, "internal", "stored role '%s' is unknown", row_str(row, "role"));
        json_decref(row);
        return 0;
    }
    json_decref(row);
    row = NULL;
    if ((r = store_begin(ar->b->store, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    w.now = (int64_t)time(NULL);
    /* Removed exactly once: a second removal (or a racing one) changes nothing and is a 404. */
    r = store_change_one(ar->b->store, Q_ROLE_REMOVE, SV_PARAMS(SV_INT(w.now), SV_INT(id)), &e);
    if (r == LBX_OK)
        r = store_row(ar->b->store, Q_ROLE_GET, SV_PARAMS(SV_INT(id)), &row, &e);
    if (r == LBX_ERR_CONFLICT || r == LBX_ERR_NOT_FOUND)
        r = lbx_error_set(&e, LBX_ERR_NOT_FOUND, "no role assignment %s (or already removed)",
                          ar->params[0]);
    if (r == LBX_OK && !strcmp(row_str(row, "role"), lbx_role_name(LBX_ROLE_ENGINEER))) {
        w.identity = row_str(row, "identity");
        w.scope = row_str(row, "scope");
        snprintf(comment, sizeof(comment), "engineer role on %s removed", w.scope);
        if ((r = store_exec(ar->b->store, Q_ROLES_OF_IDENTITY, SV_PARAMS(SV_TEXT(w.identity)),
                            &remaining, NULL, &e)) == LBX_OK) {
            w.remaining = remaining;
            r = requests_withdraw(ar->b, &w, &e);
        }
    }
    if (r == LBX_OK) {
        ev.tenant = strncmp(row_str(row, "scope"), "tenant:", 7) ? NULL : row_str(row, "scope") + 7;
        ev.detail = json_pack("{s:I, s:s, s:s, s:s, s:i}", "id", (json_int_t)id, "identity",
                              row_str(row, "identity"), "role", row_str(row, "role"), "scope",
                              row_str(row, "scope"), "withdrawn", w.count);
        r = audit_append(ar->b->store, &ev, &e);
    }
    json_decref(remaining);
    json_decref(row);
    return withdrawal_done(ar, r, w.count, &e);
}
