/* The audit hash chain (policy/audit_chain.c): a good chain verifies; an edited, deleted,
 * inserted or reordered event is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "audit_chain.h"

#define N 4
struct chain {
    char body[N][256];
    char hash[N][LBX_AUDIT_HASH_HEX + 1];
};

static void build(struct chain *c)
{
    char prev[LBX_AUDIT_HASH_HEX + 1] = LBX_AUDIT_GENESIS;
    int i;

    for (i = 0; i < N; i++) {
        snprintf(c->body[i], sizeof(c->body[i]),
                 "{\"action\":\"a%d\",\"event_id\":\"E-%d\",\"prev_hash\":\"%s\",\"seq\":%d}", i,
                 i + 1, prev, i + 1);
        assert_int_equal(lbx_audit_hash(c->body[i], strlen(c->body[i]), c->hash[i]), LBX_OK);
        memcpy(prev, c->hash[i], sizeof(prev));
    }
}

/* Verifies rows (seq, body index) in order; returns the seq of the first bad one or 0. */
static int64_t verify(const struct chain *c, const int64_t *seqs, const int *idx, int n,
                      struct lbx_error *e)
{
    struct lbx_audit_verifier v;
    int i;

    lbx_audit_verify_init(&v);
    for (i = 0; i < n; i++)
        if (lbx_audit_verify_next(&v, seqs[i], c->body[idx[i]], c->hash[idx[i]], e) != LBX_OK)
            return seqs[i];
    return 0;
}

static void good_chain_verifies(void **state)
{
    struct chain c;
    const int64_t seqs[] = {1, 2, 3, 4};
    const int idx[] = {0, 1, 2, 3};

    (void)state;
    build(&c);
    assert_int_equal(verify(&c, seqs, idx, N, NULL), 0);
    assert_string_not_equal(c.hash[0], c.hash[1]);
}

static void edited_event_is_named(void **state)
{
    struct lbx_error e = {0};
    struct chain c;
    const int64_t seqs[] = {1, 2, 3, 4};
    const int idx[] = {0, 1, 2, 3};

    (void)state;
    build(&c);
    c.body[2][12] = 'X'; /* "action":"a2" -> edited */
    assert_int_equal(verify(&c, seqs, idx, N, &e), 3);
    assert_non_null(strstr(e.detail, "edited"));
    assert_non_null(strstr(e.detail, "E-3"));
}

static void deleted_event_is_named(void **state)
{
    struct lbx_error e = {0};
    struct chain c;
    const int64_t seqs[] = {1, 2, 4};
    const int idx[] = {0, 1, 3};

    (void)state;
    build(&c);
    assert_int_equal(verify(&c, seqs, idx, 3, &e), 4);
    assert_non_null(strstr(e.detail, "deleted or inserted"));
}

static void deleted_and_renumbered_is_named(void **state)
{
    struct lbx_error e = {0};
    struct chain c;
    const int64_t seqs[] = {1, 2, 3};
    const int idx[] = {0, 1, 3};

    (void)state;
    build(&c);
    /* the row renumbered to close the gap: its body still says seq 4 */
    assert_int_equal(verify(&c, seqs, idx, 3, &e), 3);
}

static void reordered_events_are_named(void **state)
{
    struct lbx_error e = {0};
    struct chain c;
    const int64_t seqs[] = {1, 2, 3, 4};
    const int idx[] = {0, 2, 1, 3};

    (void)state;
    build(&c);
    assert_int_equal(verify(&c, seqs, idx, N, &e), 2);
}

static void inserted_event_is_named(void **state)
{
    char forged[LBX_AUDIT_HASH_HEX + 1];
    struct lbx_audit_verifier v;
    struct lbx_error e = {0};
    struct chain c;

    (void)state;
    build(&c);
    lbx_audit_verify_init(&v);
    assert_int_equal(lbx_audit_verify_next(&v, 1, c.body[0], c.hash[0], &e), LBX_OK);
    /* a well-formed event with its own correct hash, but linked to nothing */
    const char *body = "{\"action\":\"x\",\"event_id\":\"E-99\",\"prev_hash\":\"" LBX_AUDIT_GENESIS
                       "\",\"seq\":2}";
    lbx_audit_hash(body, strlen(body), forged);
    assert_int_equal(lbx_audit_verify_next(&v, 2, body, forged, &e), LBX_ERR_CONFLICT);
    assert_non_null(strstr(e.detail, "E-99"));
}

static void garbage_is_refused(void **state)
{
    struct lbx_audit_verifier v;

    (void)state;
    lbx_audit_verify_init(&v);
    assert_int_equal(lbx_audit_verify_next(&v, 1, "not json", "00", NULL), LBX_ERR_CONFLICT);
    lbx_audit_verify_init(&v);
    assert_int_equal(lbx_audit_verify_next(&v, 1, NULL, "00", NULL), LBX_ERR_CONFLICT);
    lbx_audit_verify_init(&v);
    assert_int_equal(lbx_audit_verify_next(&v, 1, "{\"seq\":1}", "00", NULL), LBX_ERR_CONFLICT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_chain_verifies),
        cmocka_unit_test(edited_event_is_named),
        cmocka_unit_test(deleted_event_is_named),
        cmocka_unit_test(deleted_and_renumbered_is_named),
        cmocka_unit_test(reordered_events_are_named),
        cmocka_unit_test(inserted_event_is_named),
        cmocka_unit_test(garbage_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
