/* Approver rules (policy/approvers.c): role scopes, the snapshot, self-approval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "approvers.h"

static void scopes_parse(void **state)
{
    enum lbx_scope_type t;
    const char *id;

    (void)state;
    assert_int_equal(lbx_scope_parse("global", &t, &id, NULL), LBX_OK);
    assert_int_equal(t, LBX_SCOPE_GLOBAL);
    assert_int_equal(lbx_scope_parse("subscription:prod", &t, &id, NULL), LBX_OK);
    assert_int_equal(t, LBX_SCOPE_SUBSCRIPTION);
    assert_string_equal(id, "prod");
    assert_int_equal(lbx_scope_parse("management-group:mg1", &t, &id, NULL), LBX_OK);
    assert_int_equal(t, LBX_SCOPE_MANAGEMENT_GROUP);
    assert_int_equal(lbx_scope_parse("tenant:", &t, &id, NULL), LBX_ERR_ARG);
    assert_int_equal(lbx_scope_parse("tenant:a b", &t, &id, NULL), LBX_ERR_ARG);
    assert_int_equal(lbx_scope_parse("folder:x", &t, &id, NULL), LBX_ERR_ARG);
    assert_int_equal(lbx_scope_parse(NULL, &t, &id, NULL), LBX_ERR_ARG);
}

static void role_scopes(void **state)
{
    struct lbx_error e = {0};
    int r;

    (void)state;
    assert_int_equal(lbx_role_scope_check(LBX_ROLE_OWNER, LBX_SCOPE_SUBSCRIPTION, NULL), LBX_OK);
    assert_int_equal(lbx_role_scope_check(LBX_ROLE_OWNER, LBX_SCOPE_TENANT, NULL), LBX_ERR_ARG);
    assert_int_equal(lbx_role_scope_check(LBX_ROLE_GLOBAL_ADMIN, LBX_SCOPE_TENANT, NULL), LBX_OK);
    assert_int_equal(lbx_role_scope_check(LBX_ROLE_ADMIN, LBX_SCOPE_TENANT, NULL), LBX_ERR_ARG);
    assert_int_equal(lbx_role_scope_check(LBX_ROLE_ENGINEER, LBX_SCOPE_TENANT, NULL), LBX_OK);
    for (r = 0; r < LBX_ROLE__COUNT; r++) {
        assert_int_equal(lbx_role_scope_check((enum lbx_role)r, LBX_SCOPE_MANAGEMENT_GROUP, &e),
                         LBX_ERR_ARG);
        assert_non_null(strstr(e.detail, "management groups are not supported"));
    }
}

#define A(who, role, type, id, created, removed)                                                   \
    {                                                                                              \
        who, LBX_ROLE_##role, LBX_SCOPE_##type, id, created, removed                               \
    }

static void snapshot_takes_owners_in_force_at_creation(void **state)
{
    const struct lbx_assignment a[] = {
        A("carol", OWNER, SUBSCRIPTION, "prod", 100, 0),
        A("dave", OWNER, SUBSCRIPTION, "prod", 200, 0),    /* assigned after the request */
        A("erin", OWNER, SUBSCRIPTION, "prod", 50, 120),   /* removed before it */
        A("frank", OWNER, SUBSCRIPTION, "dev", 10, 0),     /* another subscription */
        A("gina", GLOBAL_ADMIN, TENANT, "contoso", 10, 0), /* not a subscription approver */
        A("carol", OWNER, SUBSCRIPTION, "prod", 110, 0),   /* duplicate assignment */
        A("hank", OWNER, SUBSCRIPTION, "prod", 150, 160),  /* removed after it: counts */
        A("alice", OWNER, SUBSCRIPTION, "prod", 10, 0),    /* the requester */
    };
    const char *names[8];
    size_t n;

    (void)state;
    assert_int_equal(lbx_approvers_snapshot(a, 8, LBX_SCOPE_SUBSCRIPTION, "prod", "alice", 150,
                                            names, 8, &n, NULL),
                     LBX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "carol");
    assert_string_equal(names[1], "hank");
}

static void tenant_scope_takes_global_admins(void **state)
{
    const struct lbx_assignment a[] = {
        A("carol", OWNER, SUBSCRIPTION, "prod", 1, 0),
        A("gina", GLOBAL_ADMIN, TENANT, "contoso", 1, 0),
        A("gus", GLOBAL_ADMIN, TENANT, "fabrikam", 1, 0),
    };
    const char *names[4];
    size_t n;

    (void)state;
    assert_int_equal(
        lbx_approvers_snapshot(a, 3, LBX_SCOPE_TENANT, "contoso", "alice", 5, names, 4, &n, NULL),
        LBX_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "gina");
    assert_string_equal(lbx_approver_label(LBX_SCOPE_TENANT), "tenant global administrator");
}

static void nobody_eligible_is_a_clear_refusal(void **state)
{
    const struct lbx_assignment a[] = {A("alice", OWNER, SUBSCRIPTION, "prod", 1, 0)};
    struct lbx_error e = {0};
    const char *names[2];
    size_t n;

    (void)state;
    assert_int_equal(
        lbx_approvers_snapshot(a, 1, LBX_SCOPE_SUBSCRIPTION, "prod", "alice", 5, names, 2, &n, &e),
        LBX_ERR_FORBIDDEN);
    assert_int_equal(n, 0);
    assert_non_null(strstr(e.detail, "no eligible approver"));
    assert_int_equal(
        lbx_approvers_snapshot(a, 1, LBX_SCOPE_GLOBAL, NULL, "bob", 5, names, 2, &n, NULL),
        LBX_ERR_ARG);
}

static void self_approval_and_outsiders(void **state)
{
    const char *const names[] = {"carol", "dave"};
    struct lbx_error e = {0};

    (void)state;
    assert_int_equal(lbx_may_approve(names, 2, "dave", "alice", NULL), LBX_OK);
    assert_int_equal(lbx_may_approve(names, 2, "alice", "alice", &e), LBX_ERR_FORBIDDEN);
    assert_non_null(strstr(e.detail, "own request"));
    assert_int_equal(lbx_may_approve(names, 2, "mallory", "alice", &e), LBX_ERR_FORBIDDEN);
    /* even if a requester were in the list, they may not approve */
    assert_int_equal(lbx_may_approve(names, 2, "carol", "carol", NULL), LBX_ERR_FORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scopes_parse),
        cmocka_unit_test(role_scopes),
        cmocka_unit_test(snapshot_takes_owners_in_force_at_creation),
        cmocka_unit_test(tenant_scope_takes_global_admins),
        cmocka_unit_test(nobody_eligible_is_a_clear_refusal),
        cmocka_unit_test(self_approval_and_outsiders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
