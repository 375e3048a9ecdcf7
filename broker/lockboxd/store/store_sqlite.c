/* The SQLite backend: WAL mode, a busy timeout so brokers and tools sharing the file wait for
 * each other, foreign keys on, synchronous=FULL (an audit event acknowledged is on disk), one
 * prepared statement per query cached on the connection. Broker workers also queue their write
 * transactions on flock("<db>.writer"): SQLite's busy handler sleeps in steps of up to 100 ms,
 * a blocked flock wakes the moment the lock is free.
 *
 * The WAL checkpoint (copying committed pages back into the database, with two fsyncs) is
 * SQLite's automatic one moved after the writer lock's release: done inside it, every
 * ~1000-page checkpoint stalled all the other workers' commits behind it. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite.h"

#define SQLITE_BUSY_MS 10000
#define WAL_CHECKPOINT_PAGES 1000 /* SQLite's default autocheckpoint */

/* The transaction statements every write runs (a token's member runs the two savepoint ones,
 * store_savepoint_sql), prepared once like the queries instead of parsed again by
 * sqlite3_exec each time. */
enum tx_stmt {
    TX_SP_BEGIN = STORE_SP_BEGIN,
    TX_SP_RELEASE = STORE_SP_RELEASE,
    TX_BEGIN,
    TX_COMMIT,
    TX_READ_BEGIN,
    TX_READ_END,
    TX__COUNT
};

struct store_sqlite {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[Q__COUNT];
    sqlite3_stmt *tx_stmts[TX__COUNT];
    int in_tx, in_read;
    int lock_fd;   /* the writer lock file, or -1 */
    int wal_pages; /* the WAL's size after the last commit (the WAL hook) */
    char *path;
};

static lbx_err db_error(struct store_sqlite *s, int rc, const char *what, struct lbx_error *e)
{
    int base = rc & 0xff;

    if (base == SQLITE_CONSTRAINT)
        return lbx_error_set(e, LBX_ERR_CONFLICT, "%s: %s", what, sqlite3_errmsg(s->db));
    return lbx_error_set(e, LBX_ERR_STORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

static lbx_err exec_plain(struct store_sqlite *s, const char *sql, struct lbx_error *e)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? LBX_OK : db_error(s, rc, sql, e);
}

static lbx_err exec_tx(struct store_sqlite *s, enum tx_stmt t, const char *sql, struct lbx_error *e)
{
    int rc;

    if (s->tx_stmts[t] == NULL &&
        (rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->tx_stmts[t],
                                 NULL)) != SQLITE_OK)
        return db_error(s, rc, sql, e);
    rc = sqlite3_step(s->tx_stmts[t]);
    sqlite3_reset(s->tx_stmts[t]);
    return rc == SQLITE_DONE ? LBX_OK : db_error(s, rc, sql, e);
}

static void writer_unlock(struct store_sqlite *s)
{
    if (s->lock_fd >= 0)
        flock(s->lock_fd, LOCK_UN);
}

static lbx_err writer_lock(struct store_sqlite *s, struct lbx_error *e)
{
    while (s->lock_fd >= 0 && flock(s->lock_fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return lbx_error_set(e, LBX_ERR_STORE, "writer lock: %s", strerror(errno));
    return LBX_OK;
}

static lbx_err sq_begin(struct store *st, struct lbx_error *e)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    lbx_err r;

    if (s->in_tx)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "nested transaction");
    if (s->in_read) /* a snapshot left open: never one transaction inside the other */
        st->ops->snapshot(st, 0);
    if ((r = writer_lock(s, e)) != LBX_OK)
        return r;
    if ((r = exec_tx(s, TX_BEGIN, "BEGIN IMMEDIATE", e)) == LBX_OK)
        s->in_tx = 1;
    else
        writer_unlock(s);
    return r;
}

/* Passive: never waits for readers nor blocks writers; what it cannot copy yet, the next one
 * will. A failure only leaves the WAL longer. */
static void sq_upkeep(struct store *st)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    int rc;

    if (s->wal_pages < WAL_CHECKPOINT_PAGES)
        return;
    s->wal_pages = 0;
    if ((rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL)) !=
        SQLITE_OK)
        lbx_warn_f("WAL checkpoint: %s", sqlite3_errstr(rc));
}

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    ((struct store_sqlite *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

static lbx_err sq_commit(struct store *st, struct lbx_error *e)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    lbx_err r = exec_tx(s, TX_COMMIT, "COMMIT", e);

    if (r != LBX_OK)
        exec_plain(s, "ROLLBACK", NULL);
    s->in_tx = 0;
    writer_unlock(s);
    if (!st->defer_upkeep)
        sq_upkeep(st);
    return r;
}

static void sq_rollback(struct store *st)
{
    struct store_sqlite *s = (struct store_sqlite *)st;

    if (s->in_tx) {
        exec_plain(s, "ROLLBACK", NULL);
        writer_unlock(s);
    }
    s->in_tx = 0;
}

/* A failed BEGIN leaves every read on its own; a failed COMMIT of a read transaction has
 * nothing to lose (the next statement finds autocommit again). */
static void sq_snapshot(struct store *st, int begin)
{
    struct store_sqlite *s = (struct store_sqlite *)st;

    if (s->in_tx)
        return;
    if (begin && !s->in_read)
        s->in_read = exec_tx(s, TX_READ_BEGIN, "BEGIN", NULL) == LBX_OK;
    else if (!begin && s->in_read) {
        if (exec_tx(s, TX_READ_END, "COMMIT", NULL) != LBX_OK)
            exec_plain(s, "ROLLBACK", NULL);
        s->in_read = 0;
    }
}

/* "<db>.writer", 0600, next to the database; every worker opens its own (a flock belongs to
 * the open file, so a descriptor inherited across fork would share it). */
static lbx_err sq_writer_lock(struct store *st, struct lbx_error *e)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    char path[4096];

    if (s->lock_fd >= 0)
        return LBX_OK;
    if ((size_t)snprintf(path, sizeof(path), "%s.writer", s->path) >= sizeof(path))
        return lbx_error_set(e, LBX_ERR_STORE, "database path too long");
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return lbx_error_set(e, LBX_ERR_STORE, "%s: %s", path, strerror(errno));
    return LBX_OK;
}

static lbx_err sq_savepoint(struct store *st, enum store_sp op, struct lbx_error *e)
{
    struct store_sqlite *s = (struct store_sqlite *)st;

    if (op == STORE_SP_BEGIN || op == STORE_SP_RELEASE)
        return exec_tx(s, (enum tx_stmt)op, store_savepoint_sql[op], e);
    return exec_plain(s, store_savepoint_sql[op], e); /* two statements; rare */
}

static int sq_tx_alive(struct store *st)
{
    struct store_sqlite *s = (struct store_sqlite *)st;

    return s->in_tx && !sqlite3_get_autocommit(s->db);
}

static lbx_err bind_params(struct store_sqlite *s, sqlite3_stmt *stmt,
                           const struct store_val *params, struct lbx_error *e)
{
    int i, rc = SQLITE_OK;

    for (i = 0; params != NULL && params[i].type != SV_END_T && rc == SQLITE_OK; i++) {
        if (params[i].type == SV_INT_T)
            rc = sqlite3_bind_int64(stmt, i + 1, params[i].i);
        else if (params[i].type == SV_TEXT_T)
            rc = sqlite3_bind_text(stmt, i + 1, params[i].s, -1, SQLITE_STATIC);
        else
            rc = sqlite3_bind_null(stmt, i + 1);
    }
    if (rc != SQLITE_OK || i != sqlite3_bind_parameter_count(stmt))
        return lbx_error_set(e, LBX_ERR_INTERNAL, "bad parameters for query");
    return LBX_OK;
}

static json_t *column_json(sqlite3_stmt *stmt, int col)
{
    json_t *v;

    switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(stmt, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(stmt, col));
    case SQLITE_TEXT:
        v = json_stringn((const char *)sqlite3_column_text(stmt, col),
                         (size_t)sqlite3_column_bytes(stmt, col));
        return v ? v : json_null(); /* not UTF-8: never written by us */
    default:
        return json_null();
    }
}

static lbx_err collect_rows(sqlite3_stmt *stmt, json_t *rows, int *rc)
{
    json_t *row;
    int i;

    while ((*rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (rows == NULL)
            continue;
        if ((row = json_object()) == NULL || json_array_append_new(rows, row) != 0)
            return LBX_ERR_NOMEM;
        for (i = 0; i < sqlite3_column_count(stmt); i++)
            if (json_object_set_new(row, sqlite3_column_name(stmt, i), column_json(stmt, i)) != 0)
                return LBX_ERR_NOMEM;
    }
    return LBX_OK;
}

static lbx_err sq_exec(struct store *st, enum store_q q, const struct store_val *params,
                       json_t **rows, int64_t *changes, struct lbx_error *e)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    json_t *out = NULL;
    sqlite3_stmt *stmt;
    int rc;
    lbx_err r;

    if ((unsigned)q >= Q__COUNT)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "bad query");
    if (s->stmts[q] == NULL &&
        (rc = sqlite3_prepare_v3(s->db, store_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[q],
                                 NULL)) != SQLITE_OK)
        return db_error(s, rc, store_query_names[q], e);
    stmt = s->stmts[q];
    if ((r = bind_params(s, stmt, params, e)) != LBX_OK)
        goto out;
    if (rows != NULL && (out = json_array()) == NULL) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "rows");
        goto out;
    }
    if ((r = collect_rows(stmt, out, &rc)) != LBX_OK) {
        lbx_error_set(e, r, "rows");
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_error(s, rc, store_query_names[q], e);
        goto out;
    }
    if (changes != NULL)
        *changes = sqlite3_changes64(s->db);
    if (rows != NULL) {
        *rows = out;
        out = NULL;
    }
out:
    json_decref(out);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return r;
}

static void sq_close(struct store *st)
{
    struct store_sqlite *s = (struct store_sqlite *)st;
    int i;

    sq_rollback(st);
    for (i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    for (i = 0; i < TX__COUNT; i++)
        sqlite3_finalize(s->tx_stmts[i]);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->path);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .tx_alive = sq_tx_alive,
    .exec = sq_exec,
    .writer_lock = sq_writer_lock,
    .snapshot = sq_snapshot,
    .upkeep = sq_upkeep,
};

static lbx_err user_version(struct store_sqlite *s, int *version, struct lbx_error *e)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &stmt, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        *version = sqlite3_column_int(stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK ? LBX_OK : db_error(s, rc, "user_version", e);
}

static lbx_err migrate(struct store_sqlite *s, struct lbx_error *e)
{
    char pragma[64];
    int version, target;
    lbx_err r;

    for (target = 1; store_sqlite_migrations[target - 1] != NULL; target++) {
        if ((r = sq_begin(&s->base, e)) != LBX_OK)
            return r;
        if ((r = user_version(s, &version, e)) == LBX_OK && version < target) {
            snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", target);
            if ((r = exec_plain(s, store_sqlite_migrations[target - 1], e)) == LBX_OK &&
                (r = exec_plain(s, pragma, e)) == LBX_OK)
                lbx_info_f("store schema migrated to version %d", target);
        }
        if (r != LBX_OK) {
            sq_rollback(&s->base);
            return r;
        }
        if ((r = sq_commit(&s->base, e)) != LBX_OK)
            return r;
    }
    if ((r = user_version(s, &version, e)) == LBX_OK && version > target - 1)
        return lbx_error_set(e, LBX_ERR_STORE,
                             "database schema version %d is newer than this "
                             "broker (%d)",
                             version, target - 1);
    return r;
}

lbx_err store_sqlite_open(const char *path, struct store **out, struct lbx_error *e)
{
    struct store_sqlite *s;
    int rc;
    lbx_err r;

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "store");
    s->base.ops = &sqlite_ops;
    s->lock_fd = -1;
    if ((s->path = strdup(path)) == NULL) {
        free(s);
        return lbx_error_set(e, LBX_ERR_NOMEM, "store");
    }
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                             SQLITE_OPEN_FULLMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        r = lbx_error_set(e, LBX_ERR_STORE, "%s: %s", path,
                          s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_MS);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_wal_hook(s->db, on_wal_commit, s); /* replaces the automatic checkpoint */
    if ((r = exec_plain(s, "PRAGMA journal_mode = WAL", e)) != LBX_OK ||
        (r = exec_plain(s, "PRAGMA synchronous = FULL", e)) != LBX_OK ||
        (r = exec_plain(s, "PRAGMA foreign_keys = ON", e)) != LBX_OK ||
        (r = migrate(s, e)) != LBX_OK)
        goto fail;
    *out = &s->base;
    return LBX_OK;
fail:
    sq_close(&s->base);
    return r;
}
