/* Creating, loading and presenting lockbox requests. */
#include "requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "notify.h"

lbx_err request_parse_id(const char *s, const char *prefix, int64_t *id, struct lbx_error *e)
{
    size_t n = strlen(prefix);
    char *end;
    long long v;

    if (s != NULL && strncmp(s, prefix, n) == 0)
        s += n;
    if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 15)
        return lbx_error_set(e, LBX_ERR_NOT_FOUND, "no such id");
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        return lbx_error_set(e, LBX_ERR_NOT_FOUND, "no such id");
    *id = v;
    return LBX_OK;
}

static lbx_err attach(struct store *st, json_t *row, const char *key, enum store_q q, int64_t id,
                      struct lbx_error *e)
{
    json_t *rows = NULL;
    lbx_err r = store_exec(st, q, SV_PARAMS(SV_INT(id)), &rows, NULL, e);

    if (r == LBX_OK && json_object_set_new(row, key, rows) != 0)
        r = lbx_error_set(e, LBX_ERR_NOMEM, "request");
    return r;
}

lbx_err request_load(struct store *st, int64_t id, json_t **row, struct lbx_error *e)
{
    lbx_err r;

    *row = NULL;
    if ((r = store_row(st, Q_REQ_GET, SV_PARAMS(SV_INT(id)), row, e)) != LBX_OK) {
        if (r == LBX_ERR_NOT_FOUND)
            lbx_error_set(e, r, "no request LBX-%lld", (long long)id);
        return r;
    }
    if ((r = attach(st, *row, "approvers", Q_APPROVERS_OF, id, e)) != LBX_OK ||
        (r = attach(st, *row, "approvals", Q_APPROVALS_OF, id, e)) != LBX_OK) {
        json_decref(*row);
        *row = NULL;
    }
    return r;
}

const char *grant_status(const json_t *row, int64_t now)
{
    const char *st = row_str(row, "status");

    if (strcmp(st, "revoked") == 0)
        return "revoked";
    if (strcmp(st, "ended") == 0)
        return "ended";
    if (strcmp(st, "approved") == 0)
        return now < row_int(row, "access_end") ? "active" : "ended";
    return NULL;
}

static json_t *names_of_stage(const json_t *list, const char *stage)
{
    json_t *out = json_array(), *a;
    size_t i;

    json_array_foreach(list, i, a)
    {
        if (strcmp(row_str(a, "stage"), stage) == 0)
            json_array_append_new(out, json_string(row_str(a, "identity")));
    }
    return out;
}

static json_t *approvals_api(const json_t *list)
{
    json_t *out = json_array(), *a;
    size_t i;

    json_array_foreach(list, i, a)
    {
        json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:O}", "by", row_str(a, "identity"),
                                             "stage", row_str(a, "stage"), "at",
                                             (json_int_t)row_int(a, "time"), "comment",
                                             json_object_get(a, "comment")));
    }
    return out;
}

json_t *request_to_api(const json_t *row)
{
    static const char *const copied[] = {"status",
                                         "requester",
                                         "login",
                                         "host",
                                         "host_group",
                                         "ticket",
                                         "duration",
                                         "created",
                                         "request_expiry",
                                         "approvals_required",
                                         "decided_by",
                                         "decided_at",
                                         "access_start",
                                         "access_end",
                                         "comment",
                                         "revoked_by",
                                         "revoked_at",
                                         "revoke_comment",
                                         NULL};
    json_t *o = json_object(), *approvers = json_object_get(row, "approvers");
    char id[32], grant[32];
    size_t i;

    snprintf(id, sizeof(id), "LBX-%lld", (long long)row_int(row, "id"));
    json_object_set_new(o, "id", json_string(id));
    for (i = 0; copied[i] != NULL; i++)
        json_object_set(o, copied[i], json_object_get(row, copied[i]));
    json_object_set(o, "reason", json_object_get(row, "reason"));
    json_object_set_new(o, "scope",
                        json_pack("{s:O, s:O}", "tenant", json_object_get(row, "tenant"),
                                  "subscription", json_object_get(row, "subscription")));
    json_object_set_new(o, "approvers", names_of_stage(approvers, "customer"));
    json_object_set_new(o, "reviewers", names_of_stage(approvers, "review"));
    json_object_set_new(o, "approvals", approvals_api(json_object_get(row, "approvals")));
    json_object_set_new(o, "lockbox_off", json_boolean(row_int(row, "lockbox_off")));
    if (grant_status(row, (int64_t)time(NULL)) != NULL) {
        snprintf(grant, sizeof(grant), "G-%lld", (long long)row_int(row, "id"));
        json_object_set_new(o, "grant_id", json_string(grant));
        json_object_set_new(o, "grant_status", json_string(grant_status(row, (int64_t)time(NULL))));
    }
    return o;
}

static int listed(const json_t *approvers, const char *name)
{
    json_t *a;
    size_t i;

    json_array_foreach(approvers, i, a)
    {
        if (strcmp(row_str(a, "identity"), name) == 0)
            return 1;
    }
    return 0;
}

int request_visible(const struct caller *c, const json_t *row)
{
    char scope[LBX_NAME_MAX + 32];

    if (c->kind != CALLER_PERSON)
        return 0;
    if (caller_has(c, LBX_ROLE_ADMIN) || caller_has(c, LBX_ROLE_SUPPORT_MANAGER) ||
        caller_has_on(c, LBX_ROLE_AUDITOR, "global") ||
        strcmp(row_str(row, "requester"), c->name) == 0 ||
        listed(json_object_get(row, "approvers"), c->name))
        return 1;
    snprintf(scope, sizeof(scope), "tenant:%s", row_str(row, "tenant"));
    if (caller_has_on(c, LBX_ROLE_GLOBAL_ADMIN, scope) || caller_has_on(c, LBX_ROLE_AUDITOR, scope))
        return 1;
    if (row_str(row, "subscription") == NULL)
        return 0;
    snprintf(scope, sizeof(scope), "subscription:%s", row_str(row, "subscription"));
    return caller_has_on(c, LBX_ROLE_OWNER, scope);
}
