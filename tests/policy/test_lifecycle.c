/* The request state machine and the access-window caps (policy/lifecycle.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "lifecycle.h"
#include "token.h"

static void every_transition_of_the_table(void **state)
{
    static const struct {
        enum lbx_status from;
        enum lbx_event ev;
        enum lbx_status to;
    } allowed[] = {
        {LBX_ST_INTERNAL_REVIEW, LBX_EV_REVIEW_APPROVE, LBX_ST_PENDING},
        {LBX_ST_INTERNAL_REVIEW, LBX_EV_DENY, LBX_ST_DENIED},
        {LBX_ST_INTERNAL_REVIEW, LBX_EV_EXPIRE, LBX_ST_EXPIRED},
        {LBX_ST_INTERNAL_REVIEW, LBX_EV_CANCEL, LBX_ST_CANCELLED},
        {LBX_ST_PENDING, LBX_EV_CANCEL, LBX_ST_CANCELLED},
        {LBX_ST_PENDING, LBX_EV_APPROVE, LBX_ST_APPROVED},
        {LBX_ST_PENDING, LBX_EV_DENY, LBX_ST_DENIED},
        {LBX_ST_PENDING, LBX_EV_EXPIRE, LBX_ST_EXPIRED},
        {LBX_ST_APPROVED, LBX_EV_REVOKE, LBX_ST_REVOKED},
        {LBX_ST_APPROVED, LBX_EV_END, LBX_ST_ENDED},
    };
    enum lbx_status to;
    int s, ev, n = 0;
    size_t i;

    (void)state;
    for (s = 0; s < LBX_ST__COUNT; s++)
        for (ev = 0; ev < LBX_EV__COUNT; ev++) {
            lbx_err r = lbx_lifecycle_next((enum lbx_status)s, (enum lbx_event)ev, &to);
            int expected = 0;

            for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
                if (allowed[i].from == (enum lbx_status)s && allowed[i].ev == (enum lbx_event)ev) {
                    expected = 1;
                    assert_int_equal(r, LBX_OK);
                    assert_int_equal(to, allowed[i].to);
                }
            if (!expected)
                assert_int_equal(r, LBX_ERR_CONFLICT);
            n += expected;
        }
    assert_int_equal(n, 10);
}

static void final_statuses_accept_nothing(void **state)
{
    (void)state;
    assert_true(lbx_status_is_final(LBX_ST_DENIED));
    assert_true(lbx_status_is_final(LBX_ST_EXPIRED));
    assert_true(lbx_status_is_final(LBX_ST_REVOKED));
    assert_true(lbx_status_is_final(LBX_ST_ENDED));
    assert_true(lbx_status_is_final(LBX_ST_CANCELLED));
    assert_false(lbx_status_is_final(LBX_ST_PENDING));
    assert_false(lbx_status_is_final(LBX_ST_APPROVED));
    assert_true(lbx_status_is_open(LBX_ST_INTERNAL_REVIEW));
    assert_false(lbx_status_is_open(LBX_ST_APPROVED));
}

static void names_round_trip(void **state)
{
    enum lbx_status s;
    int i;

    (void)state;
    for (i = 0; i < LBX_ST__COUNT; i++) {
        assert_int_equal(lbx_status_parse(lbx_status_name((enum lbx_status)i), &s), LBX_OK);
        assert_int_equal(s, i);
    }
    assert_int_equal(lbx_status_parse("approved ", &s), LBX_ERR_ARG);
    assert_int_equal(lbx_status_parse(NULL, &s), LBX_ERR_ARG);
    assert_int_equal(lbx_lifecycle_next((enum lbx_status)99, LBX_EV_APPROVE, &s), LBX_ERR_ARG);
}

static void access_window_is_capped(void **state)
{
    int64_t end;

    (void)state;
    assert_int_equal(lbx_access_end(1000, 3600, 8 * 3600, &end), LBX_OK);
    assert_int_equal(end, 1000 + 3600);
    /* policy max cuts the requested duration */
    assert_int_equal(lbx_access_end(1000, 4 * 3600, 3600, &end), LBX_OK);
    assert_int_equal(end, 1000 + 3600);
    /* nothing raises the 8 h hard cap: not the request, not the policy */
    assert_int_equal(lbx_access_end(1000, 100 * 3600, 100 * 3600, &end), LBX_OK);
    assert_int_equal(end, 1000 + LBX_GRANT_MAX_LIFETIME);
    assert_int_equal(lbx_access_end(1000, 9 * 3600, 0, &end), LBX_OK);
    assert_int_equal(end, 1000 + LBX_GRANT_MAX_LIFETIME);
    assert_int_equal(lbx_access_end(1000, 0, 3600, &end), LBX_ERR_ARG);
    assert_int_equal(lbx_access_end(1000, -5, 3600, &end), LBX_ERR_ARG);
}

static void requested_durations(void **state)
{
    (void)state;
    assert_int_equal(lbx_duration_allowed(3600, 8 * 3600, NULL), LBX_OK);
    assert_int_equal(lbx_duration_allowed(8 * 3600, 8 * 3600, NULL), LBX_OK);
    assert_int_equal(lbx_duration_allowed(8 * 3600 + 1, 8 * 3600, NULL), LBX_ERR_LIFETIME_CAP);
    assert_int_equal(lbx_duration_allowed(8 * 3600 + 1, 24 * 3600, NULL), LBX_ERR_LIFETIME_CAP);
    assert_int_equal(lbx_duration_allowed(7200, 3600, NULL), LBX_ERR_LIFETIME_CAP);
    assert_int_equal(lbx_duration_allowed(0, 3600, NULL), LBX_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_transition_of_the_table),
        cmocka_unit_test(final_statuses_accept_nothing),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(access_window_is_capped),
        cmocka_unit_test(requested_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
