/* The host's one grant check (lib/host/grant_check.c), as the module and the reaper call it:
 * a real token minted with a real key, checked against host.conf's issuer, host id, the login
 * and the clock; and the run_dir layout (lib/host/run_dir.c): every path from one table,
 * a run_dir too long for the buffer refused rather than cut short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "grant_check.h"
#include "run_dir.h"
#include "token_forge.h"

static struct {
    struct lbx_key *key, *other;
    struct lbx_keyring *ring;
    struct lbx_host_config cfg;
} fx;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(lbx_key_generate(&fx.key), LBX_OK);
    assert_int_equal(lbx_key_generate(&fx.other), LBX_OK);
    fx.ring = forge_public_ring(fx.key, NULL);
    fx.cfg.issuer = "lbx-test";
    fx.cfg.host_id = "node-7";
    fx.cfg.leeway = 30;
    fx.cfg.run_dir = "/run/lockbox-test";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lbx_keyring_free(fx.ring);
    lbx_key_free(fx.key);
    lbx_key_free(fx.other);
    return 0;
}

/* A grant issued `age` seconds ago lasting `life` seconds, signed by key. */
static char *grant(const struct lbx_key *key, const char *iss, const char *aud, const char *sub,
                   int64_t age, int64_t life)
{
    int64_t now = (int64_t)time(NULL);
    struct lbx_claims c = {(char *)iss, (char *)sub, (char *)aud, "G-1",           NULL,
                           NULL,        now - age,   now - age,   now - age + life};
    char *tok = NULL;

    assert_int_equal(lbx_token_mint(key, &c, &tok, NULL), LBX_OK);
    return tok;
}

static lbx_err check(char *tok, const char *login)
{
    struct lbx_claims c;
    struct lbx_error e = {0};
    lbx_err r = lbx_grant_check(&fx.cfg, fx.ring, tok, login, &c, &e);

    if (r == LBX_OK) {
        assert_string_equal(c.sub, login);
        lbx_claims_free(&c);
    } else {
        assert_null(c.jti); /* nothing left to free on a refusal */
        assert_true(e.detail[0] != '\0' || e.code != LBX_OK);
    }
    free(tok);
    return r;
}

static void test_valid_grant(void **state)
{
    (void)state;
    assert_int_equal(check(grant(fx.key, "lbx-test", "node-7", "sup", 10, 3600), "sup"), LBX_OK);
}

static void test_other_login_host_issuer_key(void **state)
{
    (void)state;
    assert_int_not_equal(check(grant(fx.key, "lbx-test", "node-7", "sup", 10, 3600), "other"),
                         LBX_OK);
    assert_int_not_equal(check(grant(fx.key, "lbx-test", "node-8", "sup", 10, 3600), "sup"),
                         LBX_OK);
    assert_int_not_equal(check(grant(fx.key, "someone", "node-7", "sup", 10, 3600), "sup"), LBX_OK);
    assert_int_not_equal(check(grant(fx.other, "lbx-test", "node-7", "sup", 10, 3600), "sup"),
                         LBX_OK);
}

/* Within the leeway the token window still holds, but a grant whose exp has come is over. */
static void test_expired_within_leeway(void **state)
{
    (void)state;
    assert_int_equal(check(grant(fx.key, "lbx-test", "node-7", "sup", 3610, 3600), "sup"),
                     LBX_ERR_TOKEN_EXPIRED);
}

static void test_no_token(void **state)
{
    struct lbx_claims c;

    (void)state;
    assert_int_equal(lbx_grant_check(&fx.cfg, fx.ring, NULL, "sup", &c, NULL),
                     LBX_ERR_TOKEN_MALFORMED);
}

/* Without a ring the keys come from trusted_keys: a missing directory is a refusal. */
static void test_keys_from_config(void **state)
{
    struct lbx_host_config cfg = fx.cfg;
    struct lbx_claims c;
    char *tok = grant(fx.key, "lbx-test", "node-7", "sup", 10, 3600);

    (void)state;
    cfg.trusted_keys = "/nonexistent/lockbox-keys";
    assert_int_not_equal(lbx_grant_check(&cfg, NULL, tok, "sup", &c, NULL), LBX_OK);
    free(tok);
}

static void test_run_paths(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(lbx_run_path(&fx.cfg, LBX_RUN_PENDING, buf, sizeof(buf)),
                        "/run/lockbox-test/pending");
    assert_string_equal(lbx_run_path(&fx.cfg, LBX_RUN_SESSIONS, buf, sizeof(buf)),
                        "/run/lockbox-test/sessions");
    assert_string_equal(lbx_run_path(&fx.cfg, LBX_RUN_TLS_SESSION, buf, sizeof(buf)),
                        "/run/lockbox-test/broker.tls-session");
    /* One byte short of "/run/lockbox-test/pending" and its NUL: refused, buf empty. */
    assert_null(lbx_run_path(&fx.cfg, LBX_RUN_PENDING, buf, strlen("/run/lockbox-test/pending")));
    assert_string_equal(buf, "");
}

static void test_run_dir_made_with_modes(void **state)
{
    struct lbx_host_config cfg = fx.cfg;
    char *dir = forge_tmpdir(), run[4096], path[4096];
    struct stat st;

    (void)state;
    snprintf(run, sizeof(run), "%s/run", dir);
    cfg.run_dir = run;
    if (geteuid() != 0) { /* the directories must be root's: as anyone else, a refusal */
        assert_int_not_equal(lbx_run_dir_make(&cfg, NULL), LBX_OK);
        forge_rmdir(dir);
        return;
    }
    assert_int_equal(lbx_run_dir_make(&cfg, NULL), LBX_OK);
    assert_int_equal(stat(lbx_run_path(&cfg, LBX_RUN_PENDING, path, sizeof(path)), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(lbx_run_path(&cfg, LBX_RUN_SESSIONS, path, sizeof(path)), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    /* Made listable by someone: restored on the next call. */
    assert_int_equal(chmod(path, 0755), 0);
    assert_int_equal(lbx_run_dir_make(&cfg, NULL), LBX_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    /* Writable by others: refused, not repaired (someone else may have put files in it). */
    assert_int_equal(chmod(path, 0773), 0);
    assert_int_equal(lbx_run_dir_make(&cfg, NULL), LBX_ERR_FILE_PERM);
    forge_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_grant),
        cmocka_unit_test(test_other_login_host_issuer_key),
        cmocka_unit_test(test_expired_within_leeway),
        cmocka_unit_test(test_no_token),
        cmocka_unit_test(test_keys_from_config),
        cmocka_unit_test(test_run_paths),
        cmocka_unit_test(test_run_dir_made_with_modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
