/* Benchmark 6's data: grows a real broker's SQLite file (schema made by lockboxd, directory
 * seeded through its API, broker stopped) to R requests and A audit events, in one transaction
 * with prepared statements. Fixed seed: the same input gives the same rows (event ids and
 * times aside, which come from a counter).
 *
 *   bench_scale_gen DB REQUESTS EVENTS [PENDING]
 *
 * Requests: 1 in 1000 pending (or PENDING of them, evenly spread: the console benchmark's 10 000)
 * (approvers carol and dave, expiring tomorrow), the rest decided and over (ended, expired, denied,
 * revoked), spread over 5000 logins and two hosts. Audit events continue the broker's own hash
 * chain (seq, prev_hash, SHA-256 of the body text through policy/audit_chain.c), so `lockboxctl
 * audit verify --db` must pass over all of them. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"

static const char *const STATUSES[] = {"ended", "ended",   "ended",   "ended",  "ended",
                                       "ended", "expired", "expired", "denied", "revoked"};
static const char *const ACTIONS[] = {"request_created", "request_approved", "token_issued",
                                      "session_started", "session_ended"};

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_scale_gen: %s: %s\n", sql, err);
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int add_requests(sqlite3 *db, long n, long stride, long now)
{
    sqlite3_stmt *rq, *ap;
    char login[32];
    long i, created;
    int pending, rc = 0;

    sqlite3_prepare_v2(db,
                       "INSERT INTO requests (status, requester, login, host, tenant, "
                       "subscription, ticket, reason, duration, created, request_expiry, "
                       "approvals_required, decided_by, decided_at, access_start, access_end,"
                       " updated) VALUES (?,?,?,?,'contoso',?,?,'scale benchmark',14400,?,?,"
                       "1,?,?,?,?,?)",
                       -1, &rq, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO request_approvers (request, identity, stage) VALUES "
                       "(?, ?, 'customer')",
                       -1, &ap, NULL);
    srand(42);
    for (i = 0; i < n && rc == 0; i++) {
        pending = i % stride == stride - 1;
        created = now - (n - i) - 86400;
        snprintf(login, sizeof(login), "support-u%d", rand() % 5000);
        sqlite3_bind_text(rq, 1, pending ? "pending" : STATUSES[rand() % 10], -1, SQLITE_STATIC);
        sqlite3_bind_text(rq, 2, i % 2 ? "alice" : "bob", -1, SQLITE_STATIC);
        sqlite3_bind_text(rq, 3, login, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(rq, 4, i % 3 ? "node-7" : "node-9", -1, SQLITE_STATIC);
        if (i % 3)
            sqlite3_bind_text(rq, 5, "prod", -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(rq, 5);
        sqlite3_bind_int64(rq, 6, 100000 + i);
        sqlite3_bind_int64(rq, 7, created);
        sqlite3_bind_int64(rq, 8, pending ? now + 86400 : created + 4 * 86400);
        if (pending) {
            for (int k = 9; k <= 12; k++)
                sqlite3_bind_null(rq, k);
        } else {
            sqlite3_bind_text(rq, 9, "carol", -1, SQLITE_STATIC);
            sqlite3_bind_int64(rq, 10, created + 60);
            sqlite3_bind_int64(rq, 11, created + 60);
            sqlite3_bind_int64(rq, 12, created + 60 + 14400);
        }
        sqlite3_bind_int64(rq, 13, created);
        rc = sqlite3_step(rq) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(rq);
        for (int k = 0; pending && rc == 0 && k < 2; k++) {
            sqlite3_bind_int64(ap, 1, sqlite3_last_insert_rowid(db));
            sqlite3_bind_text(ap, 2, k ? "dave" : "carol", -1, SQLITE_STATIC);
            rc = sqlite3_step(ap) == SQLITE_DONE ? 0 : -1;
            sqlite3_reset(ap);
        }
    }
    sqlite3_finalize(rq);
    sqlite3_finalize(ap);
    return rc;
}

/* Continues the chain after the broker's last event. */
static int add_events(sqlite3 *db, long n, long now)
{
    char prev[LBX_AUDIT_HASH_HEX + 1] = LBX_AUDIT_GENESIS, hash[LBX_AUDIT_HASH_HEX + 1];
    char body[1024], event_id[40];
    sqlite3_stmt *last, *ins;
    long long seq = 1, i, t;
    int len, rc = 0;

    sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &last,
                       NULL);
    if (sqlite3_step(last) == SQLITE_ROW) {
        seq = sqlite3_column_int64(last, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(last, 1));
    }
    sqlite3_finalize(last);
    sqlite3_prepare_v2(db,
                       "INSERT INTO audit (seq, event_id, time, action, body, hash) "
                       "VALUES (?,?,?,?,?,?)",
                       -1, &ins, NULL);
    for (i = 0; i < n && rc == 0; i++, seq++) {
        const char *action = ACTIONS[i % 5];

        t = now - (n - i) / 10;
        snprintf(event_id, sizeof(event_id), "E-bench%012lld", seq);
        /* the broker's canonical form: sorted keys, compact */
        len = snprintf(body, sizeof(body),
                       "{\"access_expiry\":%lld,\"action\":\"%s\",\"actor\":\"host:node-7\","
                       "\"detail\":{\"login\":\"support-u%lld\",\"result\":\"issued\"},"
                       "\"event_id\":\"%s\",\"host\":\"node-7\",\"justification\":\"scale "
                       "benchmark\",\"prev_hash\":\"%s\",\"request_expiry\":%lld,\"request_id\":"
                       "\"LBX-%lld\",\"seq\":%lld,\"status\":\"approved\",\"tenant\":\"contoso\","
                       "\"ticket\":\"%lld\",\"time\":%lld}",
                       t + 14400, action, i % 5000, event_id, prev, t + 345600, i / 10 + 1, seq,
                       100000 + i / 10, t);
        if (lbx_audit_hash(body, (size_t)len, hash) != LBX_OK)
            return -1;
        sqlite3_bind_int64(ins, 1, seq);
        sqlite3_bind_text(ins, 2, event_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, t);
        sqlite3_bind_text(ins, 4, action, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, body, len, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, hash, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(ins);
        memcpy(prev, hash, sizeof(prev));
    }
    sqlite3_finalize(ins);
    return rc;
}

int main(int argc, char **argv)
{
    long now = (long)time(NULL);
    sqlite3 *db;
    long requests, stride = 1000;
    int rc;

    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: bench_scale_gen DB REQUESTS EVENTS [PENDING]\n");
        return 2;
    }
    requests = atol(argv[2]);
    if (argc == 5 && atol(argv[4]) > 0)
        stride = requests / atol(argv[4]) > 1 ? requests / atol(argv[4]) : 1;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return 1;
    /* A throw-away copy: no journal while filling it, WAL again (as the broker uses) after. */
    rc = exec(db, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF; "
                  "PRAGMA journal_mode = OFF; PRAGMA cache_size = -262144; BEGIN");
    if (rc == 0)
        rc = add_requests(db, requests, stride, now);
    if (rc == 0)
        rc = add_events(db, atol(argv[3]), now);
    if (rc == 0)
        rc = exec(db, "COMMIT; PRAGMA journal_mode = WAL");
    if (rc != 0)
        fprintf(stderr, "bench_scale_gen: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc == 0 ? 0 : 1;
}
