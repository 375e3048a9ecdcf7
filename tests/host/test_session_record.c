/* Session records: what the reaper and the hook trust about a session. Round trip, the token
 * kept out of the view, ownership enforced on read, malformed records refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "session_record.h"

static char dir[] = "/tmp/lbx-rec-test.XXXXXX";

static void fill(struct lbx_session_record *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(lbx_session_new_id(r->sid), LBX_OK);
    r->user = strdup("support-alice");
    r->uid = 1234;
    r->token = strdup("h.p.s");
    r->grant_id = strdup("G-1");
    r->ticket = strdup("T-9");
    r->exp = 1795477754;
    r->created = 1795470000;
    r->cgroup.kind = LBX_CGROUP_V2;
    strcpy(r->cgroup.mount, "/sys/fs/cgroup/unified");
    snprintf(r->cgroup.path, sizeof(r->cgroup.path), "/lockbox/%s", r->sid);
    strcpy(r->monitor_cgroup, "/");
    r->monitor_pid = 4321;
    r->monitor_start = 99;
    r->reaper_pid = 5555;
    r->reaper_start = 100;
}

static void test_roundtrip(void **state)
{
    struct lbx_session_record r, back, view;
    char path[256];
    struct stat st;

    fill(&r);
    assert_int_equal(lbx_session_record_write(dir, &r, 0, NULL), LBX_OK);
    assert_int_equal(lbx_session_record_read(dir, r.sid, 0, &back, NULL), LBX_OK);
    assert_string_equal(back.token, "h.p.s");
    assert_string_equal(back.user, "support-alice");
    assert_string_equal(back.cgroup.path, r.cgroup.path);
    assert_int_equal(back.cgroup.kind, LBX_CGROUP_V2);
    assert_int_equal(back.reaper_pid, 5555);
    assert_int_equal(back.monitor_start, 99);
    assert_null(back.request_id);
    assert_null(back.ended);
    assert_int_equal(lbx_session_record_read(dir, r.sid, 1, &view, NULL), LBX_OK);
    assert_null(view.token); /* the hook's view never holds the token */
    assert_string_equal(view.grant_id, "G-1");
    snprintf(path, sizeof(path), "%s/%s.json", dir, r.sid);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/%s.view", dir, r.sid);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    lbx_session_record_free(&view);
    /* Not root's (or writable by others): not a record anyone may trust. */
    if (geteuid() == 0) {
        assert_int_equal(chown(path, 65534, 0), 0);
        assert_int_not_equal(lbx_session_record_read(dir, r.sid, 1, &view, NULL), LBX_OK);
    }
    lbx_session_record_free(&back);
    assert_int_equal(lbx_session_record_remove(dir, r.sid), LBX_OK);
    assert_int_not_equal(lbx_session_record_read(dir, r.sid, 0, &back, NULL), LBX_OK);
    lbx_session_record_free(&r);
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "{}",
        "[]",
        "{\"sid\":\"../x\",\"user\":\"u\",\"uid\":1,\"grant_id\":\"G\",\"exp\":1,\"created\":1,"
        "\"cgroup_kind\":\"v2\",\"cgroup_mount\":\"/m\",\"cgroup_path\":\"/p\",\"monitor_cgroup\":"
        "\"/\",\"monitor_pid\":1,\"monitor_start\":1,\"reaper_pid\":1,\"reaper_start\":1,"
        "\"ended_at\":0}",
        "{\"sid\":\"s-a\",\"user\":\"u\",\"uid\":-1,\"grant_id\":\"G\",\"exp\":1,\"created\":1,"
        "\"cgroup_kind\":\"v2\",\"cgroup_mount\":\"/m\",\"cgroup_path\":\"/p\",\"monitor_cgroup\":"
        "\"/\",\"monitor_pid\":1,\"monitor_start\":1,\"reaper_pid\":1,\"reaper_start\":1,"
        "\"ended_at\":0}",
        "{\"sid\":\"s-a\",\"user\":\"u\",\"uid\":1,\"grant_id\":\"G\",\"exp\":1,\"created\":1,"
        "\"cgroup_kind\":\"v9\",\"cgroup_mount\":\"/m\",\"cgroup_path\":\"/p\",\"monitor_cgroup\":"
        "\"/\",\"monitor_pid\":1,\"monitor_start\":1,\"reaper_pid\":1,\"reaper_start\":1,"
        "\"ended_at\":0}",
        "{\"sid\":\"s-a\",\"user\":\"u\",\"uid\":1,\"grant_id\":\"G\",\"exp\":\"1\",\"created\":1,"
        "\"cgroup_kind\":\"v2\",\"cgroup_mount\":\"/m\",\"cgroup_path\":\"/p\",\"monitor_cgroup\":"
        "\"/\",\"monitor_pid\":1,\"monitor_start\":1,\"reaper_pid\":1,\"reaper_start\":1,"
        "\"ended_at\":0}",
    };
    struct lbx_session_record r;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(lbx_session_record_parse(bad[i], strlen(bad[i]), &r, NULL), LBX_OK);
}

static void test_ids(void **state)
{
    char a[LBX_SID_MAX], b[LBX_SID_MAX];

    assert_int_equal(lbx_session_new_id(a), LBX_OK);
    assert_int_equal(lbx_session_new_id(b), LBX_OK);
    assert_string_not_equal(a, b);
    assert_true(lbx_session_id_valid(a));
    assert_true(lbx_session_id_valid("session-7.scope"));
    assert_false(lbx_session_id_valid(""));
    assert_false(lbx_session_id_valid(".."));
    assert_false(lbx_session_id_valid("a/b"));
    assert_false(lbx_session_id_valid("-rf"));
}

/* The armed mark: made once, by root, a plain file; a second mark, a symlink, a file of
 * someone else's or a bad id do not count; removing the record removes it. */
static void test_armed_mark(void **state)
{
    char path[512], other[512];

    snprintf(path, sizeof(path), "%s/s-armed.armed", dir);
    assert_false(lbx_session_is_armed(dir, "s-armed"));
    assert_int_equal(lbx_session_mark_armed(dir, "s-armed", NULL), LBX_OK);
    assert_true(lbx_session_is_armed(dir, "s-armed"));
    assert_int_not_equal(lbx_session_mark_armed(dir, "s-armed", NULL), LBX_OK);
    assert_int_not_equal(lbx_session_mark_armed(dir, "../s-armed", NULL), LBX_OK);
    assert_false(lbx_session_is_armed(dir, "../s-armed"));
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_false(lbx_session_is_armed(dir, "s-armed"));
    lbx_session_record_remove(dir, "s-armed");
    assert_int_equal(access(path, F_OK), -1);
    snprintf(other, sizeof(other), "%s/elsewhere", dir);
    assert_int_equal(lbx_session_mark_armed(dir, "s-other", NULL), LBX_OK);
    snprintf(path, sizeof(path), "%s/s-other.armed", dir);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(symlink(other, path), 0);
    assert_false(lbx_session_is_armed(dir, "s-other"));
    assert_int_not_equal(lbx_session_mark_armed(dir, "s-other", NULL), LBX_OK);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_armed_mark),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
