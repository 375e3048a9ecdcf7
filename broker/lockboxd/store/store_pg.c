/* The PostgreSQL backend (libpq), for several brokers sharing one store. It runs the same
 * queries as SQLite (store_sql.c, '?' rewritten to "$n", prepared once per connection) and
 * keeps SQLite's guarantees:
 * - one writer at a time: every write transaction first takes one transaction-level advisory
 *   lock (the chain-head lock), as BEGIN IMMEDIATE does on SQLite. Status preconditions then
 *   see every committed transition (READ COMMITTED takes a snapshot per statement, after the
 *   lock), and the audit hash chain stays linear: no two brokers read the same head.
 * - statement-level atomicity inside a transaction: an INSERT that violates a constraint is
 *   rolled back to a savepoint, so the caller may go on (PostgreSQL would abort the whole
 *   transaction otherwise).
 * - a bounded wait for the lock (lock_timeout), like SQLite's busy timeout. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store_pg.h"

/* pg_advisory_xact_lock key: "lbx" + 1 */
#define PG_WRITER_LOCK "SELECT pg_advisory_xact_lock(7102640081)"
#define PG_LOCK_TIMEOUT "SET lock_timeout = '10s'"
#define PG_INT2OID 21
#define PG_INT4OID 23
#define PG_INT8OID 20

struct store_pg {
    struct store base;
    PGconn *conn;
    char prepared[Q__COUNT];
    int in_tx;
};

static int is_conflict(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    /* class 23: integrity constraint violation (unique, foreign key, not null, check) */
    return state != NULL && strncmp(state, "23", 2) == 0;
}

/* libpq's messages end in a newline; ours are one line. */
static const char *one_line(const char *msg, char *buf, size_t len)
{
    snprintf(buf, len, "%s", msg ? msg : "unknown error");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static lbx_err pg_error(struct store_pg *s, const PGresult *res, const char *what,
                        struct lbx_error *e)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char buf[200];

    return lbx_error_set(e, is_conflict(res) ? LBX_ERR_CONFLICT : LBX_ERR_STORE, "%s: %s", what,
                         one_line(msg ? msg : PQerrorMessage(s->conn), buf, sizeof(buf)));
}

/* A statement without parameters or rows. */
static lbx_err exec_plain(struct store_pg *s, const char *sql, struct lbx_error *e)
{
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    lbx_err r = LBX_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        r = pg_error(s, res, sql, e);
    PQclear(res);
    return r;
}

static int connection_lost(struct store_pg *s)
{
    return PQstatus(s->conn) == CONNECTION_BAD;
}

/* A broken connection (database restarted) is re-opened between transactions; prepared
 * statements are gone with it. */
static lbx_err ensure_connected(struct store_pg *s, struct lbx_error *e)
{
    char buf[200];

    if (PQstatus(s->conn) == CONNECTION_OK)
        return LBX_OK;
    if (s->in_tx)
        return lbx_error_set(e, LBX_ERR_STORE, "database connection lost in a transaction");
    PQreset(s->conn);
    memset(s->prepared, 0, sizeof(s->prepared));
    if (PQstatus(s->conn) != CONNECTION_OK)
        return lbx_error_set(e, LBX_ERR_STORE, "database: %s",
                             one_line(PQerrorMessage(s->conn), buf, sizeof(buf)));
    lbx_warn_f("database connection re-established");
    return exec_plain(s, PG_LOCK_TIMEOUT, e);
}

static lbx_err pg_begin(struct store *st, struct lbx_error *e)
{
    struct store_pg *s = (struct store_pg *)st;
    lbx_err r;

    if (s->in_tx)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "nested transaction");
    if ((r = ensure_connected(s, e)) != LBX_OK)
        return r;
    /* A restarted server shows only when a statement fails: reconnect and try once more. */
    if ((r = exec_plain(s, "BEGIN", e)) != LBX_OK && connection_lost(s) &&
        (r = ensure_connected(s, e)) == LBX_OK)
        r = exec_plain(s, "BEGIN", e);
    if (r != LBX_OK)
        return r;
    s->in_tx = 1;
    if ((r = exec_plain(s, PG_WRITER_LOCK, e)) != LBX_OK) {
        exec_plain(s, "ROLLBACK", NULL);
        s->in_tx = 0;
    }
    return r;
}

static lbx_err pg_commit(struct store *st, struct lbx_error *e)
{
    struct store_pg *s = (struct store_pg *)st;
    PGresult *res = PQexec(s->conn, "COMMIT");
    lbx_err r = LBX_OK;

    /* COMMIT of a transaction that a failed statement aborted "succeeds" as ROLLBACK. */
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        r = pg_error(s, res, "COMMIT", e);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
        r = lbx_error_set(e, LBX_ERR_STORE, "transaction was aborted: rolled back");
    PQclear(res);
    s->in_tx = 0;
    return r;
}

static void pg_rollback(struct store *st)
{
    struct store_pg *s = (struct store_pg *)st;

    if (s->in_tx)
        exec_plain(s, "ROLLBACK", NULL);
    s->in_tx = 0;
}

/* '?' -> "$n" outside string literals. */
static lbx_err rewrite_placeholders(const char *sql, char **out, int *nparams)
{
    struct lbx_buf b;
    int quoted = 0, n = 0;
    lbx_err r = LBX_OK;
    const char *p;

    lbx_buf_init(&b, 64 * 1024);
    for (p = sql; *p != '\0' && r == LBX_OK; p++) {
        if (*p == '\'')
            quoted = !quoted;
        if (*p == '?' && !quoted)
            r = lbx_buf_printf(&b, "$%d", ++n);
        else
            r = lbx_buf_append(&b, p, 1);
    }
    if (r == LBX_OK && (*out = lbx_buf_steal(&b)) == NULL)
        r = LBX_ERR_NOMEM;
    lbx_buf_free(&b);
    *nparams = n;
    return r;
}

static lbx_err prepare(struct store_pg *s, enum store_q q, struct lbx_error *e)
{
    char *sql = NULL;
    PGresult *res;
    int n;
    lbx_err r;

    if (s->prepared[q])
        return LBX_OK;
    if ((r = rewrite_placeholders(store_sql[q], &sql, &n)) != LBX_OK)
        return lbx_error_set(e, r, "%s", store_query_names[q]);
    res = PQprepare(s->conn, store_query_names[q], sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        r = pg_error(s, res, store_query_names[q], e);
    else
        s->prepared[q] = 1;
    PQclear(res);
    free(sql);
    return r;
}

#define PG_MAX_PARAMS 32

/* Parameters in text format; integers as decimal strings in bufs. */
static lbx_err text_params(const struct store_val *params, const char **values, char bufs[][24],
                           int *n, struct lbx_error *e)
{
    int i;

    for (i = 0; params != NULL && params[i].type != SV_END_T; i++) {
        if (i == PG_MAX_PARAMS)
            return lbx_error_set(e, LBX_ERR_INTERNAL, "too many query parameters");
        if (params[i].type == SV_INT_T) {
            snprintf(bufs[i], sizeof(bufs[i]), "%lld", (long long)params[i].i);
            values[i] = bufs[i];
        } else {
            values[i] = params[i].type == SV_TEXT_T ? params[i].s : NULL;
        }
    }
    *n = i;
    return LBX_OK;
}

static json_t *cell_json(const PGresult *res, int row, int col)
{
    Oid type = PQftype(res, col);
    const char *v = PQgetvalue(res, row, col);
    json_t *j;

    if (PQgetisnull(res, row, col))
        return json_null();
    if (type == PG_INT8OID || type == PG_INT4OID || type == PG_INT2OID)
        return json_integer(strtoll(v, NULL, 10));
    j = json_stringn(v, (size_t)PQgetlength(res, row, col));
    return j ? j : json_null(); /* not UTF-8: never written by us */
}

static lbx_err collect_rows(const PGresult *res, json_t **rows)
{
    json_t *out = json_array(), *row;
    int i, c;

    for (i = 0; out != NULL && i < PQntuples(res); i++) {
        if ((row = json_object()) == NULL || json_array_append_new(out, row) != 0)
            goto nomem;
        for (c = 0; c < PQnfields(res); c++)
            if (json_object_set_new(row, PQfname(res, c), cell_json(res, i, c)) != 0)
                goto nomem;
    }
    if (out == NULL)
        return LBX_ERR_NOMEM;
    *rows = out;
    return LBX_OK;
nomem:
    json_decref(out);
    return LBX_ERR_NOMEM;
}

/* Runs a prepared query; inside a transaction an INSERT runs under a savepoint so that a
 * constraint violation undoes that statement only, as on SQLite. */
static lbx_err run(struct store_pg *s, enum store_q q, const struct store_val *params,
                   PGresult **out, struct lbx_error *e)
{
    const char *values[PG_MAX_PARAMS];
    char bufs[PG_MAX_PARAMS][24];
    int n = 0, guarded = s->in_tx && strncmp(store_sql[q], "INSERT", 6) == 0;
    ExecStatusType st;
    lbx_err r;

    if ((r = ensure_connected(s, e)) != LBX_OK || (r = prepare(s, q, e)) != LBX_OK ||
        (r = text_params(params, values, bufs, &n, e)) != LBX_OK)
        return r;
    if (guarded && (r = exec_plain(s, "SAVEPOINT lbx_stmt", e)) != LBX_OK)
        return r;
    *out = PQexecPrepared(s->conn, store_query_names[q], n, values, NULL, NULL, 0);
    st = PQresultStatus(*out);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        r = pg_error(s, *out, store_query_names[q], e);
        if (guarded)
            exec_plain(s, "ROLLBACK TO SAVEPOINT lbx_stmt", NULL);
    }
    if (guarded)
        exec_plain(s, "RELEASE SAVEPOINT lbx_stmt", NULL);
    return r;
}

static lbx_err pg_exec(struct store *st, enum store_q q, const struct store_val *params,
                       json_t **rows, int64_t *changes, struct lbx_error *e)
{
    struct store_pg *s = (struct store_pg *)st;
    PGresult *res = NULL;
    lbx_err r;

    if ((unsigned)q >= Q__COUNT)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "bad query");
    r = run(s, q, params, &res, e);
    if (r != LBX_OK && !s->in_tx && connection_lost(s)) { /* as in pg_begin */
        PQclear(res);
        res = NULL;
        r = run(s, q, params, &res, e);
    }
    if (r == LBX_OK && rows != NULL && (r = collect_rows(res, rows)) != LBX_OK)
        lbx_error_set(e, r, "rows");
    if (r == LBX_OK && changes != NULL)
        *changes = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return r;
}

static void pg_close(struct store *st)
{
    struct store_pg *s = (struct store_pg *)st;

    pg_rollback(st);
    PQfinish(s->conn);
    free(s);
}

static lbx_err pg_savepoint(struct store *st, enum store_sp op, struct lbx_error *e)
{
    return exec_plain((struct store_pg *)st, store_savepoint_sql[op], e);
}

/* INERROR (a failed statement outside any savepoint) cannot commit any more either. */
static int pg_tx_alive(struct store *st)
{
    struct store_pg *s = (struct store_pg *)st;

    return s->in_tx && PQtransactionStatus(s->conn) == PQTRANS_INTRANS;
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .tx_alive = pg_tx_alive,
    .exec = pg_exec,
};

static lbx_err schema_version(struct store_pg *s, int *version, struct lbx_error *e)
{
    PGresult *res = PQexec(s->conn, "SELECT max(version) FROM lockbox_schema");
    lbx_err r = LBX_OK;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        r = pg_error(s, res, "schema version", e);
    else
        *version = PQgetisnull(res, 0, 0) ? 0 : atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return r;
}

/* Every pending migration in one transaction under the writer lock. */
static lbx_err migrate(struct store_pg *s, struct lbx_error *e)
{
    char insert[96];
    int version = 0, target;
    lbx_err r;

    if ((r = pg_begin(&s->base, e)) != LBX_OK)
        return r;
    if ((r = exec_plain(s, "SET LOCAL client_min_messages = warning", e)) != LBX_OK ||
        (r = exec_plain(s, "CREATE TABLE IF NOT EXISTS lockbox_schema (version INTEGER NOT NULL)",
                        e)) != LBX_OK ||
        (r = schema_version(s, &version, e)) != LBX_OK)
        goto out;
    for (target = 1; store_pg_migrations[target - 1] != NULL; target++) {
        if (version >= target)
            continue;
        snprintf(insert, sizeof(insert), "INSERT INTO lockbox_schema VALUES (%d)", target);
        if ((r = exec_plain(s, store_pg_migrations[target - 1], e)) != LBX_OK ||
            (r = exec_plain(s, insert, e)) != LBX_OK)
            goto out;
        lbx_info_f("store schema migrated to version %d", target);
    }
    if (version > target - 1)
        r = lbx_error_set(e, LBX_ERR_STORE,
                          "database schema version %d is newer than this broker (%d)", version,
                          target - 1);
out:
    if (r != LBX_OK)
        pg_rollback(&s->base);
    else
        r = pg_commit(&s->base, e);
    return r;
}

lbx_err store_pg_open(const char *conninfo, struct store **out, struct lbx_error *e)
{
    char buf[200];
    struct store_pg *s;
    lbx_err r;

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "store");
    s->base.ops = &pg_ops;
    s->conn = PQconnectdb(conninfo);
    if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        r = lbx_error_set(e, LBX_ERR_STORE, "database: %s",
                          s->conn ? one_line(PQerrorMessage(s->conn), buf, sizeof(buf))
                                  : "out of memory");
        goto fail;
    }
    if ((r = exec_plain(s, PG_LOCK_TIMEOUT, e)) != LBX_OK || (r = migrate(s, e)) != LBX_OK)
        goto fail;
    *out = &s->base;
    return LBX_OK;
fail:
    pg_close(&s->base);
    return r;
}
