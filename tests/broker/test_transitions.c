/* The request transitions (broker/lockboxd/transitions/) on the real store layer over an
 * in-memory SQLite database: no HTTP, no daemon. Each row of the lifecycle happens exactly once
 * or not at all, only for the people the rules allow, with its audit event; refused or
 * malformed input changes nothing. The daemon-level scripts beside this file drive the same
 * code over HTTPS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "broker.h"
#include "requests.h"

#define HOUR 3600

static struct broker b;
static struct caller eng, owner, stranger, admin;

static void sql(enum store_q q, const struct store_val *params)
{
    struct lbx_error e = {0};

    assert_int_equal(store_exec(b.store, q, params, NULL, NULL, &e), LBX_OK);
}

static void person(struct caller *c, const char *name, const char *login, enum lbx_role role,
                   const char *scope)
{
    int64_t then = (int64_t)time(NULL) - HOUR; /* assigned before any request is made */

    memset(c, 0, sizeof(*c));
    c->kind = CALLER_PERSON;
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->login, sizeof(c->login), "%s", login ? login : "");
    c->roles = 1u << role;
    c->assignments = json_pack("[{s:s, s:s}]", "role", lbx_role_name(role), "scope", scope);
    sql(Q_IDENTITY_INSERT, SV_PARAMS(SV_TEXT(name), SV_TEXT(login), SV_TEXT(NULL), SV_INT(then)));
    sql(Q_ROLE_INSERT,
        SV_PARAMS(SV_TEXT(name), SV_TEXT(lbx_role_name(role)), SV_TEXT(scope), SV_INT(then)));
}

static int setup(void **state)
{
    struct lbx_error e = {0};
    int64_t then = (int64_t)time(NULL) - HOUR;

    (void)state;
    memset(&b, 0, sizeof(b));
    broker_config_defaults(&b.cfg);
    if (store_sqlite_open(":memory:", &b.store, &e) != LBX_OK) {
        fprintf(stderr, "store: %s\n", e.detail);
        return -1;
    }
    assert_int_equal(store_begin(b.store, &e), LBX_OK);
    sql(Q_TENANT_INSERT, SV_PARAMS(SV_TEXT("t1"), SV_TEXT("Tenant"), SV_INT(then)));
    sql(Q_SUB_INSERT, SV_PARAMS(SV_TEXT("s1"), SV_TEXT("t1"), SV_TEXT("Sub"), SV_INT(then)));
    sql(Q_HOST_INSERT, SV_PARAMS(SV_TEXT("node-7"), SV_TEXT("t1"), SV_TEXT("s1"), SV_INT(then)));
    person(&eng, "alice", "support-alice", LBX_ROLE_ENGINEER, "global");
    person(&owner, "olga", NULL, LBX_ROLE_OWNER, "subscription:s1");
    person(&stranger, "sam", NULL, LBX_ROLE_OWNER, "subscription:other");
    person(&admin, "root-admin", NULL, LBX_ROLE_ADMIN, "global");
    assert_int_equal(store_commit(b.store, &e), LBX_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    caller_free(&eng);
    caller_free(&owner);
    caller_free(&stranger);
    caller_free(&admin);
    store_close(b.store);
    broker_config_free(&b.cfg);
    return 0;
}

static int64_t audit_count(void)
{
    struct lbx_error e = {0};
    json_t *rows = NULL;
    int64_t n;

    assert_int_equal(
        store_exec(b.store, Q_AUDIT_ALL, SV_PARAMS(SV_INT(0), SV_INT(1000000)), &rows, NULL, &e),
        LBX_OK);
    n = (int64_t)json_array_size(rows);
    json_decref(rows);
    return n;
}

/* A new pending request by alice for node-7 (out: its stored row); returns its id. */
static int64_t create(void)
{
    struct request_input in = {"node-7", NULL, "T-1", "disk full", 2 * HOUR};
    struct lbx_error e = {0};
    json_t *out = NULL;
    int64_t id = 0;

    assert_int_equal(request_create(&b, &eng, &in, &out, &e), LBX_OK);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "pending");
    id = row_int(out, "id");
    assert_true(id > 0);
    json_decref(out);
    return id;
}

static const char *status_of(int64_t id, char *buf, size_t len)
{
    struct lbx_error e = {0};
    json_t *row = NULL;

    assert_int_equal(request_load(b.store, id, &row, &e), LBX_OK);
    snprintf(buf, len, "%s", row_str(row, "status"));
    json_decref(row);
    return buf;
}

static lbx_err decide(const struct caller *c, int64_t id, enum lbx_event ev)
{
    struct lbx_error e = {0};
    json_t *out = NULL;
    lbx_err r = request_decide(&b, c, id, ev, "ok", &out, &e);

    assert_true(r == LBX_OK ? out != NULL : out == NULL);
    json_decref(out);
    return r;
}

#define assert_status(id, want)                                                                    \
    do {                                                                                           \
        char s_[32];                                                                               \
        assert_string_equal(status_of(id, s_, sizeof(s_)), want);                                  \
    } while (0)

static void test_create_snapshots_approvers(void **state)
{
    struct request_input in = {"node-7", NULL, "T-1", "disk full", 2 * HOUR};
    struct lbx_error e = {0};
    json_t *out = NULL, *approvers;
    int64_t before = audit_count();

    (void)state;
    assert_int_equal(request_create(&b, &eng, &in, &out, &e), LBX_OK);
    approvers = json_object_get(out, "approvers");
    assert_int_equal(json_array_size(approvers), 1);
    assert_string_equal(row_str(json_array_get(approvers, 0), "identity"), "olga");
    assert_int_equal(audit_count(), before + 1);
    json_decref(out);
}

static void test_approve_once(void **state)
{
    int64_t id = create(), before = audit_count();

    (void)state;
    /* Another scope's owner does not learn that the request exists. */
    assert_int_equal(decide(&stranger, id, LBX_EV_APPROVE), LBX_ERR_NOT_FOUND);
    assert_int_equal(decide(&eng, id, LBX_EV_APPROVE), LBX_ERR_FORBIDDEN); /* the requester */
    assert_status(id, "pending");
    assert_int_equal(audit_count(), before); /* refusals write nothing here */
    assert_int_equal(decide(&owner, id, LBX_EV_APPROVE), LBX_OK);
    assert_status(id, "approved");
    assert_int_equal(audit_count(), before + 1);
    assert_int_equal(decide(&owner, id, LBX_EV_APPROVE), LBX_ERR_CONFLICT);
    assert_int_equal(decide(&owner, id, LBX_EV_DENY), LBX_ERR_CONFLICT);
    assert_int_equal(audit_count(), before + 1);
}

static void test_deny_is_final(void **state)
{
    int64_t id = create();

    (void)state;
    assert_int_equal(decide(&owner, id, LBX_EV_DENY), LBX_OK);
    assert_status(id, "denied");
    assert_int_equal(decide(&owner, id, LBX_EV_APPROVE), LBX_ERR_CONFLICT);
    assert_int_equal(decide(&owner, id, LBX_EV_REVOKE), LBX_ERR_CONFLICT);
    assert_status(id, "denied");
}

static void test_revoke_rules(void **state)
{
    int64_t id = create();

    (void)state;
    assert_int_equal(decide(&owner, id, LBX_EV_REVOKE), LBX_ERR_CONFLICT); /* nothing granted */
    assert_int_equal(decide(&owner, id, LBX_EV_APPROVE), LBX_OK);
    assert_int_equal(decide(&stranger, id, LBX_EV_REVOKE), LBX_ERR_NOT_FOUND);
    assert_status(id, "approved");
    assert_int_equal(decide(&eng, id, LBX_EV_REVOKE), LBX_OK); /* ending one's own grant */
    assert_status(id, "revoked");
    assert_int_equal(decide(&admin, id, LBX_EV_REVOKE), LBX_ERR_CONFLICT);
}

/* The timer's events: only when due, once. */
static void test_timer_expire_and_end(void **state)
{
    struct lbx_error e = {0};
    int64_t now = (int64_t)time(NULL), pending = create(), granted = create();

    (void)state;
    assert_int_equal(request_timer_event(&b, pending, LBX_EV_EXPIRE, now, &e), LBX_ERR_CONFLICT);
    assert_int_equal(decide(&owner, granted, LBX_EV_APPROVE), LBX_OK);
    assert_int_equal(request_timer_event(&b, granted, LBX_EV_END, now, &e), LBX_ERR_CONFLICT);
    assert_status(pending, "pending");
    assert_status(granted, "approved");
    /* A tick far in the future: the request TTL and the 2 h access window are both over. */
    assert_true(lifecycle_tick(&b, now + 30 * 24 * HOUR) >= 2);
    assert_status(pending, "expired");
    assert_status(granted, "ended");
    assert_int_equal(lifecycle_tick(&b, now + 30 * 24 * HOUR), 0);
    assert_int_equal(request_timer_event(&b, pending, LBX_EV_EXPIRE, now + 30 * 24 * HOUR, &e),
                     LBX_ERR_CONFLICT);
    /* A person cannot make the timer's events. */
    pending = create();
    assert_int_not_equal(decide(&admin, pending, LBX_EV_EXPIRE), LBX_OK);
    assert_int_not_equal(decide(&admin, pending, LBX_EV_END), LBX_OK);
    assert_status(pending, "pending");
}

static void test_unknown_request(void **state)
{
    (void)state;
    assert_int_equal(decide(&owner, 999999, LBX_EV_APPROVE), LBX_ERR_NOT_FOUND);
}

/* Bad input: refused with its reason, no request and no audit event written. */
static void test_bad_input_changes_nothing(void **state)
{
    static char long_reason[REQUEST_REASON_MAX + 2];
    const struct {
        struct request_input in;
        const struct caller *c;
        lbx_err want;
    } rows[] = {
        {{"node-7", NULL, "T 1", "r", HOUR}, &eng, LBX_ERR_ARG}, /* space in ticket */
        {{"node-7", NULL, "T-1", long_reason, HOUR}, &eng, LBX_ERR_TOO_LARGE},
        {{"node-9", NULL, "T-1", "r", HOUR}, &eng, LBX_ERR_NOT_FOUND},        /* no such host */
        {{"../etc", NULL, "T-1", "r", HOUR}, &eng, LBX_ERR_ARG},              /* not a name */
        {{"node-7", "g", "T-1", "r", HOUR}, &eng, LBX_ERR_ARG},               /* host and group */
        {{"node-7", NULL, "T-1", "r", 9 * HOUR}, &eng, LBX_ERR_LIFETIME_CAP}, /* over 8 h */
        {{"node-7", NULL, "T-1", "r", HOUR}, &owner, LBX_ERR_FORBIDDEN},      /* not an engineer */
    };
    struct lbx_error e = {0};
    json_t *out = NULL;
    int64_t before = audit_count();
    size_t i;

    (void)state;
    memset(long_reason, 'x', sizeof(long_reason) - 1);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        lbx_err r = request_create(&b, rows[i].c, &rows[i].in, &out, &e);

        if (r != rows[i].want)
            fail_msg("row %zu: %s (%s), want %s", i, lbx_strerror(r), e.detail,
                     lbx_strerror(rows[i].want));
        assert_null(out);
    }
    assert_int_equal(audit_count(), before);
}

/* The one rule of who reaches a tenant as an engineer: global first, else exactly that tenant;
 * no other role, no other tenant, no prefix of it. */
static void test_engineer_scope_rule(void **state)
{
    json_t *both = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "engineer", "scope", "tenant:t1",
                             "role", "engineer", "scope", "global");
    json_t *others =
        json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "role", "owner", "scope",
                  "tenant:t1", "role", "engineer", "scope", "tenant:t1x", "role", "engineer",
                  "scope", "tenant:", "role", "engineer", "scope", "subscription:t1");
    json_t *one = json_pack("[{s:s, s:s}]", "role", "engineer", "scope", "tenant:t1");

    (void)state;
    assert_string_equal(engineer_scope_for(both, "t1"), "global");
    assert_string_equal(engineer_scope_for(both, "t2"), "global");
    assert_string_equal(engineer_scope_for(one, "t1"), "tenant:t1");
    assert_null(engineer_scope_for(one, "t2"));
    assert_null(engineer_scope_for(one, "t"));
    assert_null(engineer_scope_for(others, "t1"));
    assert_null(engineer_scope_for(others, ""));
    assert_null(engineer_scope_for(NULL, "t1"));
    assert_null(engineer_scope_for(one, NULL));
    json_decref(both);
    json_decref(others);
    json_decref(one);
}

/* A pending and an approved request of an engineer of tenant t1 (ids out). */
static void two_live(const struct caller *c, int64_t *pending, int64_t *approved)
{
    struct request_input in = {"node-7", NULL, "T-1", "disk full", 2 * HOUR};
    struct lbx_error e = {0};
    json_t *out = NULL;

    assert_int_equal(request_create(&b, c, &in, &out, &e), LBX_OK);
    *approved = row_int(out, "id");
    json_decref(out);
    assert_int_equal(decide(&owner, *approved, LBX_EV_APPROVE), LBX_OK);
    assert_int_equal(request_create(&b, c, &in, &out, &e), LBX_OK);
    *pending = row_int(out, "id");
    json_decref(out);
}

static lbx_err withdraw(struct withdrawal *w)
{
    struct lbx_error e = {0};
    lbx_err r;

    assert_int_equal(store_begin(b.store, &e), LBX_OK);
    if ((r = requests_withdraw(&b, w, &e)) == LBX_OK)
        assert_int_equal(store_commit(b.store, &e), LBX_OK);
    else
        store_rollback(b.store);
    return r;
}

/* What a remaining assignment reaches stays; the rest is cancelled or revoked with who and
 * why kept on it, one event each; a second pass finds nothing. */
static void test_withdraw_what_no_role_reaches(void **state)
{
    struct caller erin;
    json_t *keeps = json_pack("[{s:s, s:s}]", "role", "engineer", "scope", "tenant:t1");
    json_t *elsewhere = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "engineer", "scope",
                                  "tenant:t2", "role", "owner", "scope", "global");
    struct withdrawal w = {.identity = "erin",
                           .actor = "root-admin",
                           .cause = "role_removed",
                           .comment = "engineer role on global removed",
                           .scope = "global",
                           .remaining = keeps,
                           .now = (int64_t)time(NULL)};
    struct lbx_error e = {0};
    int64_t pending, approved, before;
    json_t *row = NULL;

    (void)state;
    assert_int_equal(store_begin(b.store, &e), LBX_OK);
    person(&erin, "erin", "support-erin", LBX_ROLE_ENGINEER, "tenant:t1");
    assert_int_equal(store_commit(b.store, &e), LBX_OK);
    two_live(&erin, &pending, &approved);
    before = audit_count();
    assert_int_equal(withdraw(&w), LBX_OK);
    assert_int_equal(w.count, 0);
    assert_status(pending, "pending");
    assert_status(approved, "approved");
    assert_int_equal(audit_count(), before);

    w.remaining = elsewhere;
    assert_int_equal(withdraw(&w), LBX_OK);
    assert_int_equal(w.count, 2);
    assert_status(pending, "cancelled");
    assert_status(approved, "revoked");
    assert_int_equal(audit_count(), before + 2);
    assert_int_equal(request_load(b.store, pending, &row, &e), LBX_OK);
    assert_string_equal(row_str(row, "decided_by"), "root-admin");
    assert_string_equal(row_str(row, "comment"), "engineer role on global removed");
    json_decref(row);
    assert_int_equal(request_load(b.store, approved, &row, &e), LBX_OK);
    assert_string_equal(row_str(row, "revoked_by"), "root-admin");
    assert_string_equal(row_str(row, "revoke_comment"), "engineer role on global removed");
    json_decref(row);

    w.remaining = NULL;
    assert_int_equal(withdraw(&w), LBX_OK);
    assert_int_equal(w.count, 0);
    assert_int_equal(audit_count(), before + 2);
    caller_free(&erin);
    json_decref(keeps);
    json_decref(elsewhere);
}

/* The roles a caller brought from authentication are read again when the request is recorded:
 * an engineer whose role went meanwhile records nothing. */
static void test_create_rechecks_the_role(void **state)
{
    struct request_input in = {"node-7", NULL, "T-1", "disk full", 2 * HOUR};
    struct caller finn;
    struct lbx_error e = {0};
    json_t *out = NULL, *roles = NULL;
    int64_t before;

    (void)state;
    assert_int_equal(store_begin(b.store, &e), LBX_OK);
    person(&finn, "finn", "support-finn", LBX_ROLE_ENGINEER, "tenant:t1");
    assert_int_equal(store_commit(b.store, &e), LBX_OK);
    assert_int_equal(
        store_exec(b.store, Q_ROLES_OF_IDENTITY, SV_PARAMS(SV_TEXT("finn")), &roles, NULL, &e),
        LBX_OK);
    assert_int_equal(store_begin(b.store, &e), LBX_OK);
    sql(Q_ROLE_REMOVE,
        SV_PARAMS(SV_INT(time(NULL)), SV_INT(row_int(json_array_get(roles, 0), "id"))));
    assert_int_equal(store_commit(b.store, &e), LBX_OK);
    json_decref(roles);
    before = audit_count();
    assert_int_equal(request_create(&b, &finn, &in, &out, &e), LBX_ERR_FORBIDDEN);
    assert_non_null(strstr(e.detail, "finn holds no engineer role on global or tenant:t1"));
    assert_null(out);
    assert_int_equal(audit_count(), before);
    caller_free(&finn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_snapshots_approvers),
        cmocka_unit_test(test_approve_once),
        cmocka_unit_test(test_deny_is_final),
        cmocka_unit_test(test_revoke_rules),
        cmocka_unit_test(test_timer_expire_and_end),
        cmocka_unit_test(test_unknown_request),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_engineer_scope_rule),
        cmocka_unit_test(test_withdraw_what_no_role_reaches),
        cmocka_unit_test(test_create_rechecks_the_role),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
