/* lockboxctl audit export|verify. Events come from the broker (GET /v1/audit, JSON lines with
 * the exact stored body and hash) or straight from the SQLite file (--db, read-only). Verify
 * recomputes the whole hash chain here, trusting neither the broker nor the file, and names the
 * first bad event. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"
#include "ctl.h"
#include "json.h"

#define PAGE 5000

struct filter {
    int64_t since, until;
    const char *action, *db;
};

typedef int (*event_cb)(int64_t seq, const char *body, const char *hash, void *ctx);

static int each_from_api(const struct filter *f, event_cb cb, void *ctx)
{
    char path[512], *text = NULL, *line, *save = NULL;
    int64_t after = 0, n;
    json_t *ev = NULL;
    int rc;

    do {
        snprintf(path, sizeof(path), "/v1/audit?since=%lld&until=%lld&after=%lld&limit=%d%s%s",
                 (long long)f->since, (long long)f->until, (long long)after, PAGE,
                 f->action ? "&action=" : "", f->action ? f->action : "");
        if ((rc = ctl_call_raw("GET", path, 60, &text)) != CTL_EXIT_OK)
            return rc;
        n = 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
            const char *body = NULL, *hash = NULL;

            if (lbx_json_parse_object(line, strlen(line), 1 << 20, 4, &ev, NULL) != LBX_OK ||
                lbx_json_get_int(ev, "seq", &after) != LBX_OK ||
                lbx_json_get_string(ev, "body", &body) != LBX_OK ||
                lbx_json_get_string(ev, "hash", &hash) != LBX_OK)
                rc = ctl_fail(CTL_EXIT_FAIL, "unreadable audit line from the broker");
            else
                rc = cb(after, body, hash, ctx);
            json_decref(ev);
            if (rc != CTL_EXIT_OK)
                break;
        }
        free(text);
    } while (rc == CTL_EXIT_OK && n == PAGE);
    return rc;
}

/* A row whose indexed columns disagree with its (hashed) body was edited in place. */
static int columns_match(sqlite3_stmt *st, const char *body)
{
    json_t *obj = NULL;
    const char *action = NULL;
    int64_t t = 0;
    int ok;

    if (lbx_json_parse_object(body, strlen(body), 1 << 20, LBX_JSON_MAX_DEPTH, &obj, NULL) !=
        LBX_OK)
        return 1; /* the chain check names it */
    ok = lbx_json_get_string(obj, "action", &action) == LBX_OK &&
         lbx_json_get_int(obj, "time", &t) == LBX_OK &&
         !strcmp(action, (const char *)sqlite3_column_text(st, 2)) &&
         t == sqlite3_column_int64(st, 1);
    json_decref(obj);
    return ok;
}

static int each_from_db(const struct filter *f, event_cb cb, void *ctx)
{
#define AUDIT_SELECT "SELECT seq, time, action, body, hash FROM audit "
#define AUDIT_WHERE "WHERE time >= ? AND time <= ? AND (? IS NULL OR action = ?) ORDER BY seq"
    /* Without a time window (verify, a full export) walk the table in seq order: through the
     * time index SQLite would sort every event in a temporary B-tree first (10 M: minutes). */
    const char *sql = f->since == 0 && f->until == INT64_MAX / 2 ? AUDIT_SELECT
                          "NOT INDEXED " AUDIT_WHERE
                                                                 : AUDIT_SELECT AUDIT_WHERE;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc = CTL_EXIT_OK, step;

    if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ctl_fail(CTL_EXIT_FAIL, "%s: %s", f->db, db ? sqlite3_errmsg(db) : "cannot open");
        goto out;
    }
    sqlite3_bind_int64(st, 1, f->since);
    sqlite3_bind_int64(st, 2, f->until);
    sqlite3_bind_text(st, 3, f->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->action, -1, SQLITE_STATIC);
    while (rc == CTL_EXIT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 3);
        const char *hash = (const char *)sqlite3_column_text(st, 4);

        if (body != NULL && !columns_match(st, body))
            rc = ctl_fail(CTL_EXIT_FAIL,
                          "audit chain broken at event %lld: its time or action "
                          "column was edited",
                          (long long)sqlite3_column_int64(st, 0));
        else
            rc = cb(sqlite3_column_int64(st, 0), body, hash, ctx);
    }
    if (rc == CTL_EXIT_OK && step != SQLITE_DONE)
        rc = ctl_fail(CTL_EXIT_FAIL, "%s: %s", f->db, sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static int each(const struct filter *f, event_cb cb, void *ctx)
{
    return f->db ? each_from_db(f, cb, ctx) : each_from_api(f, cb, ctx);
}

static int verify_one(int64_t seq, const char *body, const char *hash, void *ctx)
{
    struct lbx_error e = {0};

    if (lbx_audit_verify_next(ctx, seq, body, hash, &e) != LBX_OK)
        return ctl_fail(CTL_EXIT_FAIL, "audit chain broken at %s", e.detail);
    return CTL_EXIT_OK;
}

static int parse_filter(int argc, char **argv, struct filter *f, const char **format,
                        const char *usage)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},  {"until", required_argument, NULL, 'u'},
        {"action", required_argument, NULL, 'a'}, {"format", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},     {NULL, 0, NULL, 0}};
    int c;

    memset(f, 0, sizeof(*f));
    f->until = INT64_MAX / 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 's' && ctl_parse_time(optarg, &f->since) != 0) ||
            (c == 'u' && ctl_parse_time(optarg, &f->until) != 0) ||
            (c == 'f' && (format == NULL || (strcmp(optarg, "jsonl") && strcmp(optarg, "csv")))) ||
            c == '?')
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
        if (c == 'a')
            f->action = optarg;
        else if (c == 'd')
            f->db = optarg;
        else if (c == 'f')
            *format = optarg;
    }
    return optind == argc ? CTL_EXIT_OK : ctl_fail(CTL_EXIT_USAGE, "%s", usage);
}

static int audit_verify(int argc, char **argv)
{
    static const char usage[] = "usage: lockboxctl audit verify [--db FILE]";
    struct lbx_audit_verifier v;
    struct filter f;
    int rc;

    if ((rc = parse_filter(argc, argv, &f, NULL, usage)) != CTL_EXIT_OK)
        return rc;
    if (f.since || f.action || f.until != INT64_MAX / 2)
        return ctl_fail(CTL_EXIT_USAGE, "verify always reads the whole chain");
    lbx_audit_verify_init(&v);
    if ((rc = each(&f, verify_one, &v)) != CTL_EXIT_OK)
        return rc;
    if (ctl_json_output)
        printf("{\"ok\":true,\"events\":%lld,\"head\":\"%s\"}\n", (long long)v.count, v.prev);
    else
        printf("audit chain OK: %lld events, head %s\n", (long long)v.count, v.prev);
    return CTL_EXIT_OK;
}

static const char *const csv_fields[] = {
    "seq",    "event_id", "time",           "action",        "actor", "tenant",        "request_id",
    "status", "ticket",   "request_expiry", "access_expiry", "host",  "justification", NULL};

/* One CSV cell: quoted when needed; a leading = + - @ is defused for spreadsheets. */
static void csv_cell(const json_t *v, int is_time)
{
    char buf[40];
    const char *s;

    if (json_is_integer(v) && is_time) {
        time_t t = (time_t)json_integer_value(v);
        struct tm tm;
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        fputs(buf, stdout);
        return;
    }
    if (json_is_integer(v)) {
        printf("%lld", (long long)json_integer_value(v));
        return;
    }
    if (!json_is_string(v))
        return;
    s = json_string_value(v); /* cleaned by export_one */
    putchar('"');
    if (strchr("=+-@", s[0]) != NULL && s[0] != '\0')
        putchar('\'');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* An event as exported: the stored body byte for byte unless it holds a character a terminal
 * would act on (written by an older broker, or by a hostile one), which the sanitizer replaces
 * — the chain check (`audit verify`) reads the exact bytes, never this output. */
static int export_one(int64_t seq, const char *body, const char *hash, void *ctx)
{
    const char *format = ctx;
    json_t *obj = NULL;
    char *clean = strdup(body);
    size_t i;

    if (clean == NULL)
        return ctl_fail(CTL_EXIT_FAIL, "out of memory");
    ctl_clean_text(clean);
    if (strcmp(format, "jsonl") == 0) {
        printf("%s\n", clean);
        free(clean);
        return CTL_EXIT_OK;
    }
    if (lbx_json_parse_object(clean, strlen(clean), 1 << 20, LBX_JSON_MAX_DEPTH, &obj, NULL) !=
        LBX_OK) {
        free(clean);
        return ctl_fail(CTL_EXIT_FAIL, "event %lld: unreadable body", (long long)seq);
    }
    ctl_clean_json(obj); /* a \u escape in the body decodes to any character */
    for (i = 0; csv_fields[i] != NULL; i++) {
        if (i)
            putchar(',');
        csv_cell(json_object_get(obj, csv_fields[i]),
                 !strcmp(csv_fields[i], "time") || strstr(csv_fields[i], "expiry") != NULL);
    }
    putchar('\n');
    json_decref(obj);
    free(clean);
    return CTL_EXIT_OK;
}

static int audit_export(int argc, char **argv)
{
    static const char usage[] = "usage: lockboxctl audit export [--since T] [--until T] "
                                "[--action A] [--format jsonl|csv] [--db FILE]\n"
                                "  T: epoch seconds, 2026-11-23, 2026-11-23T10:00:00Z or 24h (ago)";
    const char *format = "jsonl";
    struct filter f;
    size_t i;
    int rc;

    if ((rc = parse_filter(argc, argv, &f, &format, usage)) != CTL_EXIT_OK)
        return rc;
    if (strcmp(format, "csv") == 0) {
        for (i = 0; csv_fields[i] != NULL; i++)
            printf("%s%s", i ? "," : "", csv_fields[i]);
        putchar('\n');
    }
    return each(&f, export_one, (void *)format);
}

int ctl_audit_main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "export"))
        return audit_export(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return audit_verify(argc - 1, argv + 1);
    return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl audit export|verify ...");
}
