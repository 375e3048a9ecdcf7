/* The broker's queries, in SQL that SQLite 3.35+ and PostgreSQL both accept ('?' placeholders
 * are rewritten by a backend that needs "$n"). Kept in one table so a new backend only has to
 * execute them, never to know what the handlers do. */
#include "store.h"

const char *const store_query_names[Q__COUNT] = {
#define STORE_Q_NAME(name) #name,
    STORE_QUERIES(STORE_Q_NAME)
#undef STORE_Q_NAME
};

#define REQ_COLUMNS                                                                                \
    "id, status, requester, login, host, host_group, tenant, subscription, ticket, reason, "       \
    "duration, created, request_expiry, approvals_required, lockbox_off, decided_by, decided_at, " \
    "access_start, access_end, comment, revoked_by, revoked_at, revoke_comment, updated"

/* The ids of one list page; `filter` is "" or REQ_BY_STATUS (two statuses, bound first). */
#define REQ_PAGE(filter)                                                                           \
    "SELECT id FROM requests WHERE " filter "created >= ? AND id < ? ORDER BY id DESC LIMIT ?"
#define REQ_BY_STATUS "status IN (?, ?) AND "
#define REQ_PAGE_APPROVERS(filter)                                                                 \
    "SELECT request, identity, stage FROM request_approvers WHERE request IN (" REQ_PAGE(          \
        filter) ") ORDER BY request, stage, identity"
#define REQ_PAGE_APPROVALS(filter)                                                                 \
    "SELECT request, identity, stage, time, comment FROM approvals WHERE request IN (" REQ_PAGE(   \
        filter) ") ORDER BY request, time, identity"

const char *const store_sql[Q__COUNT] = {
    [Q_TENANT_INSERT] = "INSERT INTO tenants (id, name, created) VALUES (?, ?, ?)",
    [Q_TENANT_LIST] = "SELECT id, name, created FROM tenants ORDER BY id",
    [Q_TENANT_GET] = "SELECT id, name, created FROM tenants WHERE id = ?",
    [Q_SUB_INSERT] = "INSERT INTO subscriptions (id, tenant, name, created) VALUES (?, ?, ?, ?)",
    [Q_SUB_LIST] = "SELECT id, tenant, name, created FROM subscriptions ORDER BY id",
    [Q_SUB_GET] = "SELECT id, tenant, name, created FROM subscriptions WHERE id = ?",
    [Q_HOST_INSERT] = "INSERT INTO hosts (id, tenant, subscription, created) VALUES (?, ?, ?, ?)",
    [Q_HOST_LIST] = "SELECT id, tenant, subscription, created FROM hosts ORDER BY id",
    [Q_HOST_GET] = "SELECT id, tenant, subscription, created FROM hosts WHERE id = ?",
    [Q_GROUP_INSERT] =
        "INSERT INTO host_groups (id, tenant, subscription, created) VALUES (?, ?, ?, ?)",
    [Q_GROUP_LIST] = "SELECT id, tenant, subscription, created FROM host_groups ORDER BY id",
    [Q_GROUP_GET] = "SELECT id, tenant, subscription, created FROM host_groups WHERE id = ?",
    [Q_GROUP_MEMBER_ADD] = "INSERT INTO host_group_members (grp, host) VALUES (?, ?)",
    [Q_GROUP_MEMBERS] = "SELECT host FROM host_group_members WHERE grp = ? ORDER BY host",
    [Q_IDENTITY_INSERT] =
        "INSERT INTO identities (name, login, email, created) VALUES (?, ?, ?, ?)",
    [Q_IDENTITY_LIST] =
        "SELECT name, login, email, created, disabled FROM identities ORDER BY name",
    [Q_IDENTITY_GET] =
        "SELECT name, login, email, created, disabled FROM identities WHERE name = ?",
    [Q_IDENTITY_BY_LOGIN] = "SELECT name, login, email, created, disabled FROM identities "
                            "WHERE login = ? AND disabled = 0",
    [Q_IDENTITY_DISABLE] = "UPDATE identities SET disabled = 1 WHERE name = ? AND disabled = 0",
    [Q_ROLE_INSERT] = "INSERT INTO roles (identity, role, scope, created) VALUES (?, ?, ?, ?) "
                      "RETURNING id",
    [Q_ROLE_LIST] = "SELECT id, identity, role, scope, created, removed FROM roles "
                    "WHERE removed IS NULL ORDER BY id",
    [Q_ROLE_GET] = "SELECT id, identity, role, scope, created, removed FROM roles WHERE id = ?",
    [Q_ROLE_REMOVE] = "UPDATE roles SET removed = ? WHERE id = ? AND removed IS NULL",
    /* A disabled identity holds no role. */
    [Q_ROLES_OF_IDENTITY] = "SELECT r.id, r.identity, r.role, r.scope, r.created FROM roles r "
                            "JOIN identities i ON i.name = r.identity "
                            "WHERE r.identity = ? AND r.removed IS NULL AND i.disabled = 0 "
                            "ORDER BY r.id",
    [Q_ROLE_HOLDERS] = "SELECT r.identity, r.role, r.scope, r.created FROM roles r "
                       "JOIN identities i ON i.name = r.identity "
                       "WHERE r.role = ? AND r.scope = ? AND r.removed IS NULL AND i.disabled = 0 "
                       "ORDER BY r.identity",
    [Q_POLICY_GET] = "SELECT scope, body, updated FROM policies WHERE scope = ?",
    [Q_POLICY_PUT] = "INSERT INTO policies (scope, body, updated) VALUES (?, ?, ?) "
                     "ON CONFLICT (scope) DO UPDATE SET body = excluded.body, "
                     "updated = excluded.updated",
    [Q_POLICY_LIST] = "SELECT scope, body, updated FROM policies ORDER BY scope",
    [Q_TOKEN_INSERT] = "INSERT INTO api_tokens (id, identity, hash, label, created, expires) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
    [Q_TOKEN_LIST] = "SELECT id, identity, label, created, expires, last_used, revoked "
                     "FROM api_tokens ORDER BY created",
    [Q_TOKEN_GET] = "SELECT id, identity, label, created, expires, last_used, revoked "
                    "FROM api_tokens WHERE id = ?",
    /* expires is checked by the caller, which tells an expired token from an unknown one. */
    [Q_TOKEN_BY_HASH] = "SELECT t.id, t.identity, t.expires, t.last_used, i.login "
                        "FROM api_tokens t JOIN identities i ON i.name = t.identity "
                        "WHERE t.hash = ? AND t.revoked IS NULL AND i.disabled = 0",
    [Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used = ? WHERE id = ?",
    [Q_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
    [Q_REQ_INSERT] = "INSERT INTO requests (status, requester, login, host, host_group, tenant, "
                     "subscription, ticket, reason, duration, created, request_expiry, "
                     "approvals_required, lockbox_off, updated) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    [Q_REQ_GET] = "SELECT " REQ_COLUMNS " FROM requests WHERE id = ?",
    /* What a token's write re-checks: is the grant still active. */
    [Q_REQ_GRANT_STATE] = "SELECT status, access_end FROM requests WHERE id = ?",
    /* One page of a request list, newest first, with the approvers and approvals of exactly
     * that page (the same page subquery), so a page costs three statements, not three per
     * request. Keyset paging: "id < ?" continues where the last page ended. The status form
     * is served by the requests_by_status index (status, id). */
    [Q_REQ_PAGE] =
        "SELECT " REQ_COLUMNS " FROM requests WHERE id IN (" REQ_PAGE("") ") "
                                                                          "ORDER BY id DESC",
    [Q_REQ_PAGE_APPROVERS] = REQ_PAGE_APPROVERS(""),
    [Q_REQ_PAGE_APPROVALS] = REQ_PAGE_APPROVALS(""),
    [Q_REQ_STATUS_PAGE] = "SELECT " REQ_COLUMNS " FROM requests WHERE id IN (" REQ_PAGE(
        REQ_BY_STATUS) ") ORDER BY id DESC",
    [Q_REQ_STATUS_PAGE_APPROVERS] = REQ_PAGE_APPROVERS(REQ_BY_STATUS),
    [Q_REQ_STATUS_PAGE_APPROVALS] = REQ_PAGE_APPROVALS(REQ_BY_STATUS),
    /* A host's token question: only what the decision, the token and its audit event read
     * (a refusal that needs more loads the request whole). */
    [Q_REQ_FOR_LOGIN_HOST] =
        "SELECT id, status, requester, tenant, ticket, reason, host, host_group, "
        "request_expiry, access_end, decided_by, revoked_by "
        "FROM requests WHERE login = ? AND "
        "(host = ? OR host_group IN "
        "(SELECT grp FROM host_group_members WHERE host = ?)) "
        "ORDER BY id DESC LIMIT 20",
    [Q_REQ_TRANSITION] = "UPDATE requests SET status = ?, updated = ? WHERE id = ? AND status = ?",
    [Q_REQ_TOUCH] = "UPDATE requests SET updated = ? WHERE id = ? AND status = ?",
    [Q_REQ_SET_DECISION] = "UPDATE requests SET decided_by = ?, decided_at = ?, comment = ? "
                           "WHERE id = ?",
    [Q_REQ_SET_ACCESS] = "UPDATE requests SET access_start = ?, access_end = ? WHERE id = ?",
    [Q_REQ_SET_REVOKED] = "UPDATE requests SET revoked_by = ?, revoked_at = ?, "
                          "revoke_comment = ? WHERE id = ?",
    [Q_REQ_DUE_EXPIRY] = "SELECT id FROM requests WHERE status IN ('pending', 'internal-review') "
                         "AND request_expiry <= ? ORDER BY id LIMIT 100",
    [Q_REQ_DUE_END] = "SELECT id FROM requests WHERE status = 'approved' AND access_end <= ? "
                      "ORDER BY id LIMIT 100",
    /* What a withdrawal may take (requests_withdraw): an identity's open requests and unexpired
     * grants, with the tenant a role's removal decides by. */
    [Q_REQ_LIVE_OF_REQUESTER] = "SELECT id, tenant FROM requests WHERE requester = ? AND "
                                "(status IN ('pending', 'internal-review') OR "
                                "(status = 'approved' AND access_end > ?)) ORDER BY id",
    [Q_APPROVER_INSERT] = "INSERT INTO request_approvers (request, identity, stage) "
                          "VALUES (?, ?, ?)",
    [Q_APPROVERS_OF] = "SELECT identity, stage FROM request_approvers WHERE request = ? "
                       "ORDER BY stage, identity",
    [Q_APPROVAL_INSERT] = "INSERT INTO approvals (request, identity, stage, time, comment) "
                          "VALUES (?, ?, ?, ?, ?)",
    [Q_APPROVALS_OF] = "SELECT identity, stage, time, comment FROM approvals WHERE request = ? "
                       "ORDER BY time, identity",
    [Q_AUDIT_LAST] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [Q_AUDIT_INSERT] = "INSERT INTO audit (seq, event_id, time, action, body, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
    [Q_AUDIT_LIST] = "SELECT seq, body, hash FROM audit WHERE time >= ? AND time <= ? "
                     "AND (CAST(? AS TEXT) IS NULL OR action = ?) AND seq > ? ORDER BY seq LIMIT ?",
    [Q_AUDIT_ALL] = "SELECT seq, body, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
    [Q_OUTBOX_INSERT] = "INSERT INTO outbox (created, kind, target, event, request, payload, "
                        "next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [Q_OUTBOX_DUE] = "SELECT id, created, kind, target, event, request, payload, attempts "
                     "FROM outbox WHERE status = 'pending' AND next_attempt <= ? "
                     "ORDER BY id LIMIT 20",
    [Q_OUTBOX_CLAIM] = "UPDATE outbox SET next_attempt = ? WHERE id = ? AND status = 'pending' "
                       "AND next_attempt <= ?",
    [Q_OUTBOX_DONE] = "UPDATE outbox SET status = 'done', attempts = ? WHERE id = ? "
                      "AND status = 'pending'",
    [Q_OUTBOX_RETRY] = "UPDATE outbox SET attempts = ?, next_attempt = ?, last_error = ? "
                       "WHERE id = ? AND status = 'pending'",
    [Q_OUTBOX_GIVE_UP] = "UPDATE outbox SET status = 'failed', attempts = ?, last_error = ? "
                         "WHERE id = ? AND status = 'pending'",
    [Q_RECORDING_INSERT] = "INSERT INTO recordings (request, host, login, session, created, size, "
                           "cast_text) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    [Q_RECORDINGS_OF] = "SELECT id, request, host, login, session, created, size FROM recordings "
                        "WHERE request = ? ORDER BY id",
    [Q_RECORDING_GET] = "SELECT id, request, host, login, session, created, size, cast_text "
                        "FROM recordings WHERE id = ?",
};
