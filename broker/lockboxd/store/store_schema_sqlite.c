/* SQLite schema, as numbered migrations. PRAGMA user_version holds the number applied; each
 * migration runs in its own write transaction, so two brokers starting on one file at once
 * apply it once. Append new migrations; never edit a released one. */
#include "store_sqlite.h"

const char *const store_sqlite_migrations[] = {
    /* 1: directory, policy, API tokens, requests, approvals, audit chain, notification outbox */
    "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE subscriptions (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE hosts (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),"
    " subscription TEXT REFERENCES subscriptions(id), created INTEGER NOT NULL);"
    "CREATE TABLE host_groups (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),"
    " subscription TEXT REFERENCES subscriptions(id), created INTEGER NOT NULL);"
    "CREATE TABLE host_group_members (grp TEXT NOT NULL REFERENCES host_groups(id),"
    " host TEXT NOT NULL REFERENCES hosts(id), PRIMARY KEY (grp, host));"
    "CREATE TABLE identities (name TEXT PRIMARY KEY, login TEXT UNIQUE, email TEXT,"
    " created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE roles (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " identity TEXT NOT NULL REFERENCES identities(name), role TEXT NOT NULL,"
    " scope TEXT NOT NULL, created INTEGER NOT NULL, removed INTEGER);"
    "CREATE INDEX roles_by_role ON roles (role, scope);"
    "CREATE TABLE policies (scope TEXT PRIMARY KEY, body TEXT NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE api_tokens (id TEXT PRIMARY KEY,"
    " identity TEXT NOT NULL REFERENCES identities(name), hash TEXT NOT NULL UNIQUE, label TEXT,"
    " created INTEGER NOT NULL, revoked INTEGER);"
    "CREATE TABLE requests (id INTEGER PRIMARY KEY AUTOINCREMENT, status TEXT NOT NULL,"
    " requester TEXT NOT NULL REFERENCES identities(name), login TEXT NOT NULL,"
    " host TEXT REFERENCES hosts(id), host_group TEXT REFERENCES host_groups(id),"
    " tenant TEXT NOT NULL, subscription TEXT, ticket TEXT NOT NULL, reason TEXT NOT NULL,"
    " duration INTEGER NOT NULL, created INTEGER NOT NULL, request_expiry INTEGER NOT NULL,"
    " approvals_required INTEGER NOT NULL, lockbox_off INTEGER NOT NULL DEFAULT 0,"
    " decided_by TEXT, decided_at INTEGER, access_start INTEGER, access_end INTEGER,"
    " comment TEXT, revoked_by TEXT, revoked_at INTEGER, revoke_comment TEXT,"
    " updated INTEGER NOT NULL);"
    "CREATE INDEX requests_open ON requests (status, request_expiry);"
    "CREATE INDEX requests_login ON requests (login);"
    "CREATE TABLE request_approvers (request INTEGER NOT NULL REFERENCES requests(id),"
    " identity TEXT NOT NULL, stage TEXT NOT NULL, PRIMARY KEY (request, identity, stage));"
    "CREATE TABLE approvals (request INTEGER NOT NULL REFERENCES requests(id),"
    " identity TEXT NOT NULL, stage TEXT NOT NULL, time INTEGER NOT NULL, comment TEXT,"
    " PRIMARY KEY (request, identity, stage));"
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,"
    " time INTEGER NOT NULL, action TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_time ON audit (time);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL,"
    " kind TEXT NOT NULL, target TEXT NOT NULL, event TEXT NOT NULL, request INTEGER,"
    " payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending', last_error TEXT);"
    "CREATE INDEX outbox_due ON outbox (status, next_attempt);",
    /* 2: request lists filter by status in SQL, newest first (api_request_list pages through
     * this index instead of reading every recent request) */
    "CREATE INDEX requests_by_status ON requests (status, id);",
    /* 3: API tokens expire (a token made before this gets the default 90 days from the
     * upgrade) and show their last use */
    "ALTER TABLE api_tokens ADD COLUMN expires INTEGER;"
    "ALTER TABLE api_tokens ADD COLUMN last_used INTEGER;"
    "UPDATE api_tokens SET expires = CAST(strftime('%s', 'now') AS INTEGER) + 7776000"
    " WHERE expires IS NULL;",
    /* 4: session recordings (asciicast v2) sent by hosts, replayed in the console */
    "CREATE TABLE recordings (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " request INTEGER NOT NULL REFERENCES requests(id), host TEXT NOT NULL, login TEXT NOT NULL,"
    " session TEXT NOT NULL, created INTEGER NOT NULL, size INTEGER NOT NULL, cast_text TEXT NOT "
    "NULL,"
    " UNIQUE (request, host, session));",
    NULL,
};
