/* Admin endpoints for the directory: tenants -> subscriptions -> hosts, host groups. Every
 * change is audited in the same transaction. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_admin.h"
#include "audit.h"

/* A 403 for a missing role, audited: it is what probing by a signed-in person looks like. */
static int refuse_role(struct api_req *ar, const char *message, const char *reason)
{
    struct lbx_error e = {0};
    lbx_error_set(&e, LBX_ERR_FORBIDDEN, "%s", message);
    struct audit_event ev = {.action = "access_refused",
                             .actor = ar->caller.name,
                             .detail = json_pack("{s:s, s:s}", "path", ar->path, "reason", reason)};
    audit_note(ar->b->store, &ev);
    api_fail(ar, LBX_ERR_FORBIDDEN, &e);
    return 0;
}

int admin_only(struct api_req *ar)
{
    if (caller_has(&ar->caller, LBX_ROLE_ADMIN))
        return 1;
    return refuse_role(ar, "this needs the admin role", "admin role required");
}

int caller_manages_tenant(const struct caller *c, const char *tenant)
{
    char scope[LBX_NAME_MAX + 8];

    if (caller_has(c, LBX_ROLE_ADMIN))
        return 1;
    if (tenant == NULL || snprintf(scope, sizeof(scope), "tenant:%s", tenant) >= (int)sizeof(scope))
        return 0;
    return caller_has_on(c, LBX_ROLE_GLOBAL_ADMIN, scope);
}

int tenant_admin_only(struct api_req *ar, const char *tenant)
{
    if (caller_manages_tenant(&ar->caller, tenant))
        return 1;
    return refuse_role(ar, "this needs the admin role or the tenant's global-admin role",
                       "tenant global-admin role required");
}

int tenant_admin_any(struct api_req *ar)
{
    if (caller_has(&ar->caller, LBX_ROLE_ADMIN) || caller_has(&ar->caller, LBX_ROLE_GLOBAL_ADMIN))
        return 1;
    return refuse_role(ar, "this needs the admin role or a tenant's global-admin role",
                       "admin or global-admin role required");
}

lbx_err scope_tenant(struct store *st, const char *scope, char *tenant, size_t size,
                     struct lbx_error *e)
{
    enum lbx_scope_type type;
    const char *id;
    json_t *row = NULL;
    lbx_err r;

    tenant[0] = '\0';
    if ((r = lbx_scope_parse(scope, &type, &id, e)) != LBX_OK)
        return r;
    if (type == LBX_SCOPE_TENANT)
        r = store_row(st, Q_TENANT_GET, SV_PARAMS(SV_TEXT(id)), &row, e);
    else if (type == LBX_SCOPE_SUBSCRIPTION)
        r = store_row(st, Q_SUB_GET, SV_PARAMS(SV_TEXT(id)), &row, e);
    else
        return lbx_error_set(e, LBX_ERR_NOT_FOUND, "%s belongs to no tenant", scope);
    if (r == LBX_OK)
        snprintf(tenant, size, "%s", type == LBX_SCOPE_TENANT ? id : row_str(row, "tenant"));
    else if (r == LBX_ERR_NOT_FOUND)
        lbx_error_set(e, r, "no %s '%s'", type == LBX_SCOPE_TENANT ? "tenant" : "subscription", id);
    json_decref(row);
    return r;
}

json_t *rows_of_managed_tenants(struct api_req *ar, json_t *rows, const char *scope_key)
{
    struct lbx_error e = {0};
    char tenant[LBX_NAME_MAX + 1];
    json_t *kept, *row;
    size_t i;

    if (caller_has(&ar->caller, LBX_ROLE_ADMIN) || rows == NULL)
        return rows;
    if ((kept = json_array()) == NULL) {
        json_decref(rows);
        return NULL;
    }
    json_array_foreach(rows, i, row)
    {
        if (scope_tenant(ar->b->store, row_str(row, scope_key), tenant, sizeof(tenant), &e) ==
                LBX_OK &&
            caller_manages_tenant(&ar->caller, tenant))
            json_array_append(kept, row);
    }
    json_decref(rows);
    return kept;
}

static int list_rows(struct api_req *ar, enum store_q q, const char *key, const char *scope_key)
{
    struct lbx_error e = {0};
    json_t *rows = NULL;
    lbx_err r;

    if ((r = store_exec(ar->b->store, q, NULL, &rows, NULL, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if (scope_key != NULL && (rows = rows_of_managed_tenants(ar, rows, scope_key)) == NULL)
        return api_fail_msg(ar, 500, "internal", "out of memory");
    return api_reply(ar, 200, json_pack("{s:o}", key, rows));
}

int admin_list(struct api_req *ar, enum store_q q, const char *key)
{
    return list_rows(ar, q, key, NULL);
}

int managed_list(struct api_req *ar, enum store_q q, const char *key, const char *scope_key)
{
    return list_rows(ar, q, key, scope_key);
}

int admin_change(struct api_req *ar, enum store_q q, const struct store_val *params,
                 const struct admin_audit *aa, json_t *reply)
{
    struct lbx_error e = {0};
    struct audit_event ev = {
        .action = aa->action, .actor = ar->caller.name, .tenant = aa->tenant, .detail = aa->detail};
    int64_t changes = 0;
    lbx_err r;

    if ((r = store_begin(ar->b->store, &e)) != LBX_OK) {
        json_decref(aa->detail);
        goto fail;
    }
    if ((r = store_exec(ar->b->store, q, params, NULL, &changes, &e)) != LBX_OK || changes != 1) {
        json_decref(aa->detail);
        store_rollback(ar->b->store);
        if (r == LBX_ERR_CONFLICT || r == LBX_OK)
            r = lbx_error_set(&e, r == LBX_OK ? LBX_ERR_NOT_FOUND : LBX_ERR_CONFLICT, "%s",
                              r == LBX_OK ? aa->missing : aa->exists);
        goto fail;
    }
    if ((r = audit_append(ar->b->store, &ev, &e)) != LBX_OK) {
        store_rollback(ar->b->store);
        goto fail;
    }
    if ((r = store_commit(ar->b->store, &e)) != LBX_OK)
        goto fail;
    return api_reply(ar, reply ? 201 : 204, reply);
fail:
    json_decref(reply);
    return api_fail(ar, r, &e);
}

/* The named row must exist (404 naming it otherwise); returns it or NULL after failing ar. */
json_t *admin_must_exist(struct api_req *ar, enum store_q q, const char *what, const char *id)
{
    struct lbx_error e = {0};
    json_t *row = NULL;
    lbx_err r = store_row(ar->b->store, q, SV_PARAMS(SV_TEXT(id)), &row, &e);

    if (r == LBX_OK)
        return row;
    if (r == LBX_ERR_NOT_FOUND)
        lbx_error_set(&e, r, "no %s '%s'", what, id ? id : "");
    api_fail(ar, r, &e);
    return NULL;
}

lbx_err admin_name(struct api_req *ar, const char *key, int required, const char **out,
                   struct lbx_error *e)
{
    lbx_err r = api_str(ar, key, required, LBX_NAME_MAX, out, e);

    if (r == LBX_OK && *out != NULL && !lbx_valid_name(*out))
        r = lbx_error_set(e, LBX_ERR_ARG, "'%s' must be 1-64 of A-Z a-z 0-9 . _ -", key);
    return r;
}

int api_tenants(struct api_req *ar)
{
    static const char *const keys[] = {"id", "name", NULL};
    struct lbx_error e = {0};
    const char *id, *name;
    lbx_err r;

    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_TENANT_LIST, "tenants");
    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "id", 1, &id, &e)) ||
        (r = api_str(ar, "name", 0, 256, &name, &e)))
        return api_fail(ar, r, &e);
    struct admin_audit aa = {"tenant_created", id, json_pack("{s:s}", "tenant", id),
                             "tenant exists already", ""};
    return admin_change(ar, Q_TENANT_INSERT,
                        SV_PARAMS(SV_TEXT(id), SV_TEXT(name ? name : id), SV_INT(time(NULL))), &aa,
                        json_pack("{s:s}", "id", id));
}

int api_subscriptions(struct api_req *ar)
{
    static const char *const keys[] = {"id", "tenant", "name", NULL};
    struct lbx_error e = {0};
    const char *id, *tenant, *name;
    json_t *t;
    lbx_err r;

    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_SUB_LIST, "subscriptions");
    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "id", 1, &id, &e)) ||
        (r = admin_name(ar, "tenant", 1, &tenant, &e)) ||
        (r = api_str(ar, "name", 0, 256, &name, &e)))
        return api_fail(ar, r, &e);
    if ((t = admin_must_exist(ar, Q_TENANT_GET, "tenant", tenant)) == NULL)
        return 0;
    json_decref(t);
    struct admin_audit aa = {"subscription_created", tenant, json_pack("{s:s}", "subscription", id),
                             "subscription exists already", ""};
    return admin_change(
        ar, Q_SUB_INSERT,
        SV_PARAMS(SV_TEXT(id), SV_TEXT(tenant), SV_TEXT(name ? name : id), SV_INT(time(NULL))), &aa,
        json_pack("{s:s}", "id", id));
}

/* Hosts and groups sit in a tenant and optionally one of its subscriptions. */
static int placed(struct api_req *ar, const char **id, const char **tenant, const char **sub)
{
    static const char *const keys[] = {"id", "tenant", "subscription", NULL};
    struct lbx_error e = {0};
    json_t *t, *s = NULL;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "id", 1, id, &e)) ||
        (r = admin_name(ar, "tenant", 1, tenant, &e)) ||
        (r = admin_name(ar, "subscription", 0, sub, &e)))
        return api_fail(ar, r, &e), 0;
    if ((t = admin_must_exist(ar, Q_TENANT_GET, "tenant", *tenant)) == NULL)
        return 0;
    json_decref(t);
    if (*sub != NULL && (s = admin_must_exist(ar, Q_SUB_GET, "subscription", *sub)) == NULL)
        return 0;
    if (s != NULL && strcmp(row_str(s, "tenant"), *tenant) != 0) {
        json_decref(s);
        return api_fail_msg(ar, 400, "bad_request", "subscription %s is not in tenant %s", *sub,
                            *tenant),
               0;
    }
    json_decref(s);
    return 1;
}

static int create_placed(struct api_req *ar, enum store_q q, const char *action, const char *what)
{
    const char *id, *tenant, *sub;
    char exists[96];

    if (!placed(ar, &id, &tenant, &sub))
        return 0;
    snprintf(exists, sizeof(exists), "%s exists already", what);
    struct admin_audit aa = {action, tenant,
                             json_pack("{s:s, s:s*}", what, id, "subscription", sub), exists, ""};
    return admin_change(ar, q,
                        SV_PARAMS(SV_TEXT(id), SV_TEXT(tenant), SV_TEXT(sub), SV_INT(time(NULL))),
                        &aa, json_pack("{s:s}", "id", id));
}

int api_hosts(struct api_req *ar)
{
    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_HOST_LIST, "hosts");
    return create_placed(ar, Q_HOST_INSERT, "host_created", "host");
}

int api_host_groups(struct api_req *ar)
{
    if (!admin_only(ar))
        return 0;
    if (ar->method == EVHTTP_REQ_GET)
        return admin_list(ar, Q_GROUP_LIST, "host_groups");
    return create_placed(ar, Q_GROUP_INSERT, "host_group_created", "host_group");
}

int api_host_group_members(struct api_req *ar)
{
    static const char *const keys[] = {"host", NULL};
    struct lbx_error e = {0};
    json_t *g = NULL, *h = NULL;
    const char *host;
    lbx_err r;
    int rc = 0;

    if (!admin_only(ar))
        return 0;
    if ((r = api_only_keys(ar, keys, &e)) || (r = admin_name(ar, "host", 1, &host, &e)))
        return api_fail(ar, r, &e);
    if ((g = admin_must_exist(ar, Q_GROUP_GET, "host group", ar->params[0])) == NULL ||
        (h = admin_must_exist(ar, Q_HOST_GET, "host", host)) == NULL)
        goto out;
    if (strcmp(row_str(g, "tenant"), row_str(h, "tenant")) != 0 ||
        (row_str(g, "subscription") &&
         (!row_str(h, "subscription") ||
          strcmp(row_str(g, "subscription"), row_str(h, "subscription")) != 0))) {
        api_fail_msg(ar, 400, "bad_request", "host %s is not in the scope of group %s", host,
                     ar->params[0]);
        goto out;
    }
    struct admin_audit aa = {"host_group_member_added", row_str(g, "tenant"),
                             json_pack("{s:s, s:s}", "host_group", ar->params[0], "host", host),
                             "host is in the group already", ""};
    rc = admin_change(ar, Q_GROUP_MEMBER_ADD, SV_PARAMS(SV_TEXT(ar->params[0]), SV_TEXT(host)), &aa,
                      json_pack("{s:s, s:s}", "host_group", ar->params[0], "host", host));
out:
    json_decref(g);
    json_decref(h);
    return rc;
}
