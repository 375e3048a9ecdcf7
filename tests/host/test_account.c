/* NSS lookups (lib/host/account.c) against this machine's own database: canonical names, "no
 * such entry" told apart from a found entry, membership by primary group and by member list.
 * Lookups that fail and groups too large for a small buffer are exercised through the PAM
 * module (tests/pam_lockbox/t_pam_who.sh: an NSS shim, a 2,000-member group). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"

static void test_by_name_and_uid(void **state)
{
    struct lbx_account a, b;

    assert_int_equal(lbx_account_by_name("root", &a, NULL), LBX_OK);
    assert_string_equal(a.name, "root");
    assert_int_equal(a.uid, 0);
    assert_true(a.shell[0] == '/');
    assert_int_equal(lbx_account_by_uid(0, &b, NULL), LBX_OK);
    assert_string_equal(b.name, "root");
    lbx_account_free(&a);
    lbx_account_free(&b);
    lbx_account_free(&b); /* idempotent */
}

static void test_no_such_entry(void **state)
{
    struct lbx_account a;
    struct lbx_error e = {0};
    gid_t gid = 12345;

    assert_int_equal(lbx_account_by_name("lbx-no-such-user-7", &a, &e), LBX_ERR_NOT_FOUND);
    assert_null(a.name);
    assert_non_null(strstr(e.detail, "lbx-no-such-user-7"));
    assert_int_equal(lbx_account_by_uid((uid_t)4000000123u, &a, NULL), LBX_ERR_NOT_FOUND);
    assert_int_equal(lbx_group_gid("lbx-no-such-group-7", &gid, NULL), LBX_ERR_NOT_FOUND);
    assert_int_equal(gid, 12345);
    assert_int_equal(lbx_account_by_name("", &a, NULL), LBX_ERR_NOT_FOUND);
}

static void test_membership(void **state)
{
    struct lbx_account root = {0},
                       named = {.name = "lbx-not-a-member", .uid = 4000000123u, .gid = 4000000123u};
    gid_t gid = 1;

    assert_int_equal(lbx_account_by_name("root", &root, NULL), LBX_OK);
    assert_int_equal(lbx_group_gid("root", &gid, NULL), LBX_OK);
    assert_int_equal(gid, 0);
    /* root's primary group is root */
    assert_int_equal(lbx_group_has("root", &root, NULL), LBX_OK);
    assert_int_equal(lbx_group_has("root", &named, NULL), LBX_ERR_NOT_FOUND);
    assert_int_equal(lbx_group_has("lbx-no-such-group-7", &root, NULL), LBX_ERR_NOT_FOUND);
    /* by primary gid alone, whatever the name */
    named.gid = 0;
    assert_int_equal(lbx_group_has("root", &named, NULL), LBX_OK);
    lbx_account_free(&root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_name_and_uid),
        cmocka_unit_test(test_no_such_entry),
        cmocka_unit_test(test_membership),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
