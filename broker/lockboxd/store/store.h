/* The broker's store, behind a small interface so that the handlers never know the backend
 * (SQLite: store_sqlite.c, PostgreSQL: store_pg.c): a backend opens a database, runs
 * transactions (one writer at a time on both), and executes named
 * queries (enum store_q; portable SQL text in store_sql.c, '?' placeholders) with typed
 * parameters, returning rows as JSON objects (column name -> integer, string or null).
 *
 * Every state transition runs as: store_begin (a write transaction), the precondition update
 * ("... WHERE status = 'pending'", changes must be 1), its audit event and outbox entries,
 * store_commit. A crash anywhere before commit leaves nothing behind. */
#ifndef LBX_STORE_H
#define LBX_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "lbx_err.h"

/* One query per line: the formatter cannot lay out an X-macro list. */
/* clang-format off */
#define STORE_QUERIES(X) \
    X(TENANT_INSERT) \
    X(TENANT_LIST) \
    X(TENANT_GET) \
    X(SUB_INSERT) \
    X(SUB_LIST) \
    X(SUB_GET) \
    X(HOST_INSERT) \
    X(HOST_LIST) \
    X(HOST_GET) \
    X(GROUP_INSERT) \
    X(GROUP_LIST) \
    X(GROUP_GET) \
    X(GROUP_MEMBER_ADD) \
    X(GROUP_MEMBERS) \
    X(IDENTITY_INSERT) \
    X(IDENTITY_LIST) \
    X(IDENTITY_GET) \
    X(IDENTITY_BY_LOGIN) \
    X(IDENTITY_DISABLE) \
    X(ROLE_INSERT) \
    X(ROLE_LIST) \
    X(ROLE_GET) \
    X(ROLE_REMOVE) \
    X(ROLES_OF_IDENTITY) \
    X(ROLE_HOLDERS) \
    X(POLICY_GET) \
    X(POLICY_PUT) \
    X(POLICY_LIST) \
    X(TOKEN_INSERT) \
    X(TOKEN_LIST) \
    X(TOKEN_GET) \
    X(TOKEN_BY_HASH) \
    X(TOKEN_TOUCH) \
    X(TOKEN_REVOKE) \
    X(REQ_INSERT) \
    X(REQ_GET) \
    X(REQ_GRANT_STATE) \
    X(REQ_PAGE) \
    X(REQ_PAGE_APPROVERS) \
    X(REQ_PAGE_APPROVALS) \
    X(REQ_STATUS_PAGE) \
    X(REQ_STATUS_PAGE_APPROVERS) \
    X(REQ_STATUS_PAGE_APPROVALS) \
    X(REQ_FOR_LOGIN_HOST) \
    X(REQ_TRANSITION) \
    X(REQ_TOUCH) \
    X(REQ_SET_DECISION) \
    X(REQ_SET_ACCESS) \
    X(REQ_SET_REVOKED) \
    X(REQ_DUE_EXPIRY) \
    X(REQ_DUE_END) \
    X(REQ_LIVE_OF_REQUESTER) \
    X(APPROVER_INSERT) \
    X(APPROVERS_OF) \
    X(APPROVAL_INSERT) \
    X(APPROVALS_OF) \
    X(AUDIT_LAST) \
    X(AUDIT_INSERT) \
    X(AUDIT_LIST) \
    X(AUDIT_ALL) \
    X(OUTBOX_INSERT) \
    X(OUTBOX_DUE) \
    X(OUTBOX_CLAIM) \
    X(OUTBOX_DONE) \
    X(OUTBOX_RETRY) \
    X(OUTBOX_GIVE_UP) \
    X(RECORDING_INSERT) \
    X(RECORDINGS_OF) \
    X(RECORDING_GET)
/* clang-format on */

enum store_q {
#define STORE_Q_ENUM(name) Q_##name,
    STORE_QUERIES(STORE_Q_ENUM)
#undef STORE_Q_ENUM
        Q__COUNT
};

/* Portable SQL per query ('?' placeholders, RETURNING where a new id is needed). */
extern const char *const store_sql[Q__COUNT];
extern const char *const store_query_names[Q__COUNT];

enum store_val_type { SV_END_T, SV_NULL_T, SV_INT_T, SV_TEXT_T };
struct store_val {
    enum store_val_type type;
    int64_t i;
    const char *s;
};
#define SV_END ((struct store_val){SV_END_T, 0, NULL})
#define SV_INT(x) ((struct store_val){SV_INT_T, (int64_t)(x), NULL})
/* A NULL string binds SQL NULL. */
#define SV_TEXT(x) store_text(x)
static inline struct store_val store_text(const char *s)
{
    return (struct store_val){s ? SV_TEXT_T : SV_NULL_T, 0, s};
}
#define SV_PARAMS(...) ((const struct store_val[]){__VA_ARGS__, SV_END})

struct store;

enum store_sp { STORE_SP_BEGIN, STORE_SP_RELEASE, STORE_SP_ROLLBACK };
/* The SQL of each (the same on SQLite and PostgreSQL). */
extern const char *const store_savepoint_sql[];

struct store_ops {
    const char *name;
    void (*close)(struct store *st);
    /* A write transaction: taken at once, so two writers never deadlock on an upgrade. */
    lbx_err (*begin)(struct store *st, struct lbx_error *e);
    lbx_err (*commit)(struct store *st, struct lbx_error *e);
    void (*rollback)(struct store *st);
    /* Inside the write transaction: a savepoint begun, released, or rolled back to and
     * released (one at a time: a group's member transaction). */
    lbx_err (*savepoint)(struct store *st, enum store_sp op, struct lbx_error *e);
    /* The write transaction begun is still open (an I/O error can roll it back whole). */
    int (*tx_alive)(struct store *st);
    /* rows (may be NULL) receives a JSON array of row objects; changes (may be NULL) the number
     * of rows an INSERT/UPDATE/DELETE touched. A unique or foreign-key violation is
     * LBX_ERR_CONFLICT, anything else LBX_ERR_STORE. */
    lbx_err (*exec)(struct store *st, enum store_q q, const struct store_val *params, json_t **rows,
                    int64_t *changes, struct lbx_error *e);
    /* Optional (NULL: the backend already queues its writers, as PostgreSQL's advisory lock
     * does): from now on every write transaction first waits for an exclusive lock that this
     * connection's peers in other processes share. */
    lbx_err (*writer_lock)(struct store *st, struct lbx_error *e);
    /* Optional (NULL: every read stands alone): between begin (1) and end (0) the reads share
     * one snapshot and take the backend's read locks once (SQLite: a deferred transaction,
     * nothing when a write transaction is open). No write in between. */
    void (*snapshot)(struct store *st, int begin);
    /* Optional: the upkeep a commit leaves (SQLite: the WAL checkpoint). Runs right after each
     * commit unless the store's defer_upkeep is set: then the caller runs it with
     * store_upkeep, when no answer waits for it any more. */
    void (*upkeep)(struct store *st);
};

/* Group commit (store_group.c): while enabled, store_begin joins one shared write transaction
 * (opened by the first member, which calls `opened`), each member being a savepoint that its
 * store_commit releases and its store_rollback undoes; store_group_commit then makes all of
 * them durable at once — one fsync for many transactions. Until it returns nothing a member
 * wrote may be reported to anyone: the caller holds its answers back (group_commit.c). */
struct store_group {
    int enabled, open, member, failed;
    void (*opened)(void *arg);
    void *arg;
};

struct store {
    const struct store_ops *ops;
    struct store_group group;
    int defer_upkeep;
};

static inline void store_upkeep(struct store *st)
{
    if (st->ops->upkeep != NULL)
        st->ops->upkeep(st);
}

enum store_backend { STORE_BACKEND_NONE, STORE_BACKEND_SQLITE, STORE_BACKEND_PG };

/* Which backend a location names; *path (may be NULL) what to hand it. NONE for another URL. */
enum store_backend store_backend(const char *location, const char **path);

/* "sqlite:PATH" or a plain PATH (SQLite), or a "postgresql://..." URL (libpq). Creates and
 * migrates the schema. */
lbx_err store_open(const char *location, struct store **out, struct lbx_error *e);
lbx_err store_sqlite_open(const char *path, struct store **out, struct lbx_error *e);
lbx_err store_pg_open(const char *conninfo, struct store **out, struct lbx_error *e);

/* Several broker processes on one store (workers): their write transactions queue on a lock
 * (SQLite: flock on "<db>.writer") instead of polling in SQLite's busy handler. Call on each
 * process's own connection. */
lbx_err store_writer_lock_enable(struct store *st, struct lbx_error *e);

static inline void store_close(struct store *st)
{
    if (st != NULL)
        st->ops->close(st);
}
/* A write transaction (a member of the open group when grouping is enabled). */
lbx_err store_begin(struct store *st, struct lbx_error *e);
lbx_err store_commit(struct store *st, struct lbx_error *e);
void store_rollback(struct store *st);

void store_group_enable(struct store *st, void (*opened)(void *arg), void *arg);
/* Commits the open group (nothing to do when none is open); then grouping stays enabled. An
 * error means every member's writes are gone. */
lbx_err store_group_commit(struct store *st, struct lbx_error *e);
/* Commits the open group, then every transaction commits on its own again. */
lbx_err store_group_disable(struct store *st, struct lbx_error *e);
static inline int store_group_is_open(const struct store *st)
{
    return st->group.open;
}

static inline void store_snapshot(struct store *st, int begin)
{
    if (st->ops->snapshot != NULL)
        st->ops->snapshot(st, begin);
}

/* Runs q; rows/changes as in store_ops.exec. */
lbx_err store_exec(struct store *st, enum store_q q, const struct store_val *params, json_t **rows,
                   int64_t *changes, struct lbx_error *e);
/* Runs q and returns its first row (a new reference) or LBX_ERR_NOT_FOUND. */
lbx_err store_row(struct store *st, enum store_q q, const struct store_val *params, json_t **row,
                  struct lbx_error *e);
/* Runs q and checks that it changed exactly one row: LBX_ERR_CONFLICT otherwise (the
 * precondition of a transition did not hold: somebody else got there first). */
lbx_err store_change_one(struct store *st, enum store_q q, const struct store_val *params,
                         struct lbx_error *e);

/* Row field helpers: NULL / 0 when absent or null. */
const char *row_str(const json_t *row, const char *key);
int64_t row_int(const json_t *row, const char *key);

#endif
