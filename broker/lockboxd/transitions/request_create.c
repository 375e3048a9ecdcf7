/* Creating a request: target resolution, policy, approver snapshot, and the one transaction
 * that records it with its audit event and notifications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "notify.h"
#include "requests.h"

#define TICKET_MAX 128

struct target {
    json_t *row; /* the host or host group */
    const char *tenant, *subscription;
};

static lbx_err resolve_target(struct broker *b, const struct caller *c,
                              const struct request_input *in, struct target *t, struct lbx_error *e)
{
    const char *name = in->host ? in->host : in->host_group;
    lbx_err r;

    if ((in->host == NULL) == (in->host_group == NULL))
        return lbx_error_set(e, LBX_ERR_ARG, "give exactly one of 'host' and 'host_group'");
    if (!lbx_valid_name(name))
        return lbx_error_set(e, LBX_ERR_ARG, "bad host or group name");
    r = store_row(b->store, in->host ? Q_HOST_GET : Q_GROUP_GET, SV_PARAMS(SV_TEXT(name)), &t->row,
                  e);
    if (r == LBX_OK) {
        t->tenant = row_str(t->row, "tenant");
        t->subscription = row_str(t->row, "subscription");
        /* An engineer scoped to one tenant does not learn that other tenants' hosts exist. */
        if (engineer_scope_for(c->assignments, t->tenant) != NULL)
            return LBX_OK;
        r = LBX_ERR_NOT_FOUND;
    }
    if (r == LBX_ERR_NOT_FOUND)
        return lbx_error_set(e, r, "no %s '%s'", in->host ? "host" : "host group", name);
    return r;
}

static lbx_err check_input(const struct caller *c, const struct request_input *in,
                           struct lbx_error *e)
{
    const char *p;

    if (!caller_has(c, LBX_ROLE_ENGINEER))
        return lbx_error_set(e, LBX_ERR_FORBIDDEN, "only support engineers create requests");
    if (c->login[0] == '\0')
        return lbx_error_set(e, LBX_ERR_FORBIDDEN, "identity %s has no host login", c->name);
    if (strlen(in->ticket) > TICKET_MAX)
        return lbx_error_set(e, LBX_ERR_ARG, "ticket is longer than %d bytes", TICKET_MAX);
    for (p = in->ticket; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return lbx_error_set(e, LBX_ERR_ARG, "ticket must be printable without spaces");
    if (strlen(in->reason) > REQUEST_REASON_MAX)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "reason is longer than %d bytes",
                             REQUEST_REASON_MAX);
    return LBX_OK;
}

/* Identities holding role on scope now (requester left out), by the pure snapshot rule. */
static lbx_err snapshot(struct store *st, enum lbx_role role, const char *scope,
                        const char *requester, int64_t now, json_t **names, struct lbx_error *e)
{
    struct lbx_assignment a[LBX_APPROVERS_MAX];
    const char *picked[LBX_APPROVERS_MAX], *id = NULL;
    enum lbx_scope_type type;
    json_t *rows = NULL, *row;
    size_t i, n = 0, count;
    lbx_err r;

    *names = json_array();
    if ((r = lbx_scope_parse(scope, &type, &id, e)) != LBX_OK ||
        (r = store_exec(st, Q_ROLE_HOLDERS, SV_PARAMS(SV_TEXT(lbx_role_name(role)), SV_TEXT(scope)),
                        &rows, NULL, e)) != LBX_OK)
        return r;
    json_array_foreach(rows, i, row)
    {
        if (n == LBX_APPROVERS_MAX)
            break;
        a[n++] = (struct lbx_assignment){row_str(row, "identity"), role, type, id,
                                         row_int(row, "created"),  0};
    }
    count = lbx_holders_snapshot(a, n, role, type, id, requester, now, picked, LBX_APPROVERS_MAX);
    for (i = 0; i < count; i++)
        json_array_append_new(*names, json_string(picked[i]));
    json_decref(rows);
    return LBX_OK;
}

static lbx_err insert_people(struct store *st, int64_t id, const json_t *names, const char *stage,
                             struct lbx_error *e)
{
    json_t *n;
    size_t i;
    lbx_err r = LBX_OK;

    json_array_foreach(names, i, n)
    {
        if ((r = store_exec(st, Q_APPROVER_INSERT,
                            SV_PARAMS(SV_INT(id), SV_TEXT(json_string_value(n)), SV_TEXT(stage)),
                            NULL, NULL, e)) != LBX_OK)
            break;
    }
    return r;
}

struct creation {
    struct target t;
    char engineer_scope[LBX_NAME_MAX + 16]; /* the requester's role that reaches the target */
    struct policy_eff p;
    json_t *approvers, *reviewers;
    int64_t now, id;
};

static lbx_err take_snapshots(struct broker *b, const struct caller *c, struct creation *cr,
                              struct lbx_error *e)
{
    enum lbx_scope_type type = cr->t.subscription ? LBX_SCOPE_SUBSCRIPTION : LBX_SCOPE_TENANT;
    char scope[LBX_NAME_MAX + 32];
    lbx_err r;

    snprintf(scope, sizeof(scope), "%s:%s", cr->t.subscription ? "subscription" : "tenant",
             cr->t.subscription ? cr->t.subscription : cr->t.tenant);
    if ((r = snapshot(b->store, lbx_approver_role(type), scope, c->name, cr->now, &cr->approvers,
                      e)) != LBX_OK)
        return r;
    if (json_array_size(cr->approvers) == 0)
        return lbx_error_set(e, LBX_ERR_FORBIDDEN,
                             "no eligible approver: nobody but the requester "
                             "holds the %s role on %s",
                             lbx_approver_label(type), scope);
    if ((size_t)cr->p.approvals_required > json_array_size(cr->approvers))
        return lbx_error_set(e, LBX_ERR_FORBIDDEN,
                             "policy asks for %lld approvals but only %zu "
                             "eligible approvers exist on %s",
                             (long long)cr->p.approvals_required, json_array_size(cr->approvers),
                             scope);
    if (!cr->p.internal_review)
        return LBX_OK;
    if ((r = snapshot(b->store, LBX_ROLE_SUPPORT_MANAGER, "global", c->name, cr->now,
                      &cr->reviewers, e)) != LBX_OK)
        return r;
    if (json_array_size(cr->reviewers) == 0)
        return lbx_error_set(e, LBX_ERR_FORBIDDEN,
                             "policy asks for an internal review but no "
                             "support manager other than the requester exists");
    return LBX_OK;
}

static lbx_err insert_request(struct broker *b, const struct caller *c,
                              const struct request_input *in, struct creation *cr,
                              struct lbx_error *e)
{
    const char *status = !cr->p.lockbox          ? "approved"
                         : cr->p.internal_review ? "internal-review"
                                                 : "pending";
    json_t *row = NULL;
    int64_t end;
    lbx_err r;

    r = store_row(b->store, Q_REQ_INSERT,
                  SV_PARAMS(SV_TEXT(status), SV_TEXT(c->name), SV_TEXT(c->login), SV_TEXT(in->host),
                            SV_TEXT(in->host_group), SV_TEXT(cr->t.tenant),
                            SV_TEXT(cr->t.subscription), SV_TEXT(in->ticket), SV_TEXT(in->reason),
                            SV_INT(in->duration), SV_INT(cr->now),
                            SV_INT(cr->now + cr->p.request_ttl), SV_INT(cr->p.approvals_required),
                            SV_INT(!cr->p.lockbox), SV_INT(cr->now)),
                  &row, e);
    if (r != LBX_OK)
        return r;
    cr->id = row_int(row, "id");
    json_decref(row);
    if (!cr->p.lockbox) { /* consent not required: a capped grant from now on, still audited */
        lbx_access_end(cr->now, in->duration, cr->p.access_duration, &end);
        if ((r = store_exec(b->store, Q_REQ_SET_DECISION,
                            SV_PARAMS(SV_TEXT("policy:lockbox-off"), SV_INT(cr->now),
                                      SV_TEXT("lockbox is off for this scope"), SV_INT(cr->id)),
                            NULL, NULL, e)) != LBX_OK)
            return r;
        return store_exec(b->store, Q_REQ_SET_ACCESS,
                          SV_PARAMS(SV_INT(cr->now), SV_INT(end), SV_INT(cr->id)), NULL, NULL, e);
    }
    if ((r = insert_people(b->store, cr->id, cr->approvers, "customer", e)) != LBX_OK)
        return r;
    return cr->reviewers ? insert_people(b->store, cr->id, cr->reviewers, "review", e) : LBX_OK;
}

static lbx_err record_creation(struct broker *b, const struct caller *c, struct creation *cr,
                               json_t **out, struct lbx_error *e)
{
    struct audit_event ev = {.action = "request_created", .actor = c->name};
    lbx_err r;

    if ((r = request_load(b->store, cr->id, out, e)) != LBX_OK)
        return r;
    ev.request = *out;
    ev.detail = json_pack("{s:O, s:O*, s:I, s:b}", "approvers", cr->approvers, "reviewers",
                          cr->reviewers, "approvals_required", (json_int_t)cr->p.approvals_required,
                          "lockbox", cr->p.lockbox);
    if ((r = audit_append(b->store, &ev, e)) != LBX_OK)
        return r;
    if (!cr->p.lockbox) { /* which policy let it through, and on which engineer role */
        ev = (struct audit_event){.action = "request_auto_approved",
                                  .actor = "policy:lockbox-off",
                                  .request = *out,
                                  .detail = json_pack("{s:s, s:s}", "policy", cr->p.lockbox_from,
                                                      "engineer_scope", cr->engineer_scope)};
        return audit_append(b->store, &ev, e);
    }
    return notify_enqueue(b, b->store, &cr->p,
                          cr->reviewers ? "review_requested" : "request_created", *out,
                          cr->reviewers ? cr->reviewers : cr->approvers, e);
}

lbx_err request_create(struct broker *b, const struct caller *c, const struct request_input *in,
                       json_t **out, struct lbx_error *e)
{
    struct creation cr = {.now = (int64_t)time(NULL)};
    lbx_err r;

    *out = NULL;
    if ((r = check_input(c, in, e)) != LBX_OK || (r = resolve_target(b, c, in, &cr.t, e)) != LBX_OK)
        goto out;
    if ((r = store_begin(b->store, e)) != LBX_OK)
        goto out;
    /* The roles read at authentication may have been removed since: the engineer's role is
     * read again inside the transaction that records the request, so a removal that commits
     * first (withdrawing what was live then) never leaves a request made under it behind. */
    if ((r = engineer_scope_now(b->store, c->name, cr.t.tenant, cr.engineer_scope, e)) != LBX_OK ||
        (r = policy_effective(b, b->store, cr.t.tenant, cr.t.subscription, &cr.p, e)) != LBX_OK ||
        (r = lbx_duration_allowed(in->duration, cr.p.access_duration, e)) != LBX_OK ||
        (cr.p.lockbox && (r = take_snapshots(b, c, &cr, e)) != LBX_OK) ||
        (r = insert_request(b, c, in, &cr, e)) != LBX_OK ||
        (r = record_creation(b, c, &cr, out, e)) != LBX_OK) {
        store_rollback(b->store);
        goto out;
    }
    if ((r = store_commit(b->store, e)) == LBX_OK) {
        lbx_info_f("LBX-%lld created by %s", (long long)cr.id, c->name);
        notify_kick(b);
    }
out:
    if (r != LBX_OK) {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(cr.t.row);
    json_decref(cr.approvers);
    json_decref(cr.reviewers);
    return r;
}
