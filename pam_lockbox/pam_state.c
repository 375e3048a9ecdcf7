/* The account phase's accepted token, handed to the session phase of the same connection through
 * <run_dir>/pending/<uid>-<pid>-<start>.json (0600, handoff.h; the layout in run_dir.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "handoff.h"
#include "json.h"
#include "pam_internal.h"
#include "proc.h"
#include "run_dir.h"

#define HANDOFF_MAX (16 * 1024)

/* The processes that may run this login's session phase. sshd 9.2 makes each connection's
 * monitor a session leader (setsid) and opens the session there; the account phase runs in
 * the monitor too, except under keyboard-interactive, where it runs in a forked [pam] child
 * of the monitor. So: ourselves, and our parent when it leads our session. A hand-off written
 * for a process that never opens a session is swept once that process is gone. */
static int monitor_candidates(pid_t out[2])
{
    pid_t self = getpid(), parent = getppid(), sid = getsid(0);
    int n = 0;

    out[n++] = self;
    if (sid != self && sid == parent && parent > 1)
        out[n++] = parent;
    return n;
}

static lbx_err handoff_path(const struct lbx_host_config *cfg, uid_t uid, pid_t pid, char *buf,
                            size_t len, struct lbx_error *e)
{
    char dir[4096];
    uint64_t start;

    if (lbx_run_path(cfg, LBX_RUN_PENDING, dir, sizeof(dir)) == NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "run_dir too long");
    if (lbx_proc_start_time(pid, &start) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "process %ld: no start time", (long)pid);
    if (lbx_handoff_path(dir, uid, pid, start, buf, len) != 0)
        return lbx_error_set(e, LBX_ERR_ARG, "run_dir too long");
    return LBX_OK;
}

void lbx_pam_handoff_clear(const struct lbx_host_config *cfg, uid_t uid)
{
    char path[4096];
    pid_t who[2];
    int i, n = monitor_candidates(who);

    for (i = 0; i < n; i++)
        if (handoff_path(cfg, uid, who[i], path, sizeof(path), NULL) == LBX_OK)
            unlink(path);
    if (lbx_run_path(cfg, LBX_RUN_PENDING, path, sizeof(path)) != NULL)
        lbx_handoff_sweep(path, LBX_HANDOFF_ALL_UIDS);
}

lbx_err lbx_pam_handoff_write(const struct lbx_host_config *cfg, uid_t uid, const char *token,
                              const char *approved_by, struct lbx_error *e)
{
    char path[4096], *text = NULL;
    pid_t who[2];
    int i, n;
    json_t *o;
    lbx_err r;

    if ((r = lbx_run_dir_make(cfg, e)) != LBX_OK)
        return r;
    o = json_pack("{s:s}", "token", token);
    if (o != NULL && approved_by != NULL)
        json_object_set_new(o, "approved_by", json_string(approved_by));
    if (o == NULL || (text = lbx_json_dump(o)) == NULL) {
        json_decref(o);
        return lbx_error_set(e, LBX_ERR_NOMEM, "handoff");
    }
    json_decref(o);
    n = monitor_candidates(who);
    for (i = 0; i < n && r == LBX_OK; i++)
        if ((r = handoff_path(cfg, uid, who[i], path, sizeof(path), e)) == LBX_OK)
            r = lbx_file_write_volatile(path, text, strlen(text), 0600, (gid_t)-1, e);
    lbx_free_secret(text);
    return r;
}

static lbx_err dup_string(const json_t *o, const char *key, char **out)
{
    const char *v;

    if (lbx_json_get_string(o, key, &v) != LBX_OK)
        return LBX_ERR_JSON;
    return (*out = strdup(v)) ? LBX_OK : LBX_ERR_NOMEM;
}

static lbx_err read_entry(const char *path, char **token, char **approved_by, struct lbx_error *e)
{
    char *text = NULL;
    json_t *o = NULL;
    size_t len;
    lbx_err r;

    *token = *approved_by = NULL;
    if ((r = lbx_file_read(path, LBX_FILE_ROOT, HANDOFF_MAX, &text, &len, e)) != LBX_OK)
        return r;
    r = lbx_json_parse_object(text, len, HANDOFF_MAX, 2, &o, e);
    lbx_freezero(text, len);
    if (r != LBX_OK)
        return r;
    if ((r = dup_string(o, "token", token)) != LBX_OK)
        r = lbx_error_set(e, r, "%s: no token", path);
    else if (json_object_get(o, "approved_by") != NULL &&
             (r = dup_string(o, "approved_by", approved_by)) != LBX_OK)
        r = lbx_error_set(e, r, "%s: bad approved_by", path);
    json_decref(o);
    return r;
}

/* Only our own entry: the session phase runs in the monitor, and a token written for any other
 * process is another connection's. Read once: the entry is removed whatever it holds. */
lbx_err lbx_pam_handoff_take(const struct lbx_host_config *cfg, uid_t uid, char **token,
                             char **approved_by, struct lbx_error *e)
{
    char path[4096];
    lbx_err r;

    *token = *approved_by = NULL;
    if ((r = handoff_path(cfg, uid, getpid(), path, sizeof(path), e)) != LBX_OK)
        return r;
    r = read_entry(path, token, approved_by, e);
    unlink(path);
    return r;
}

static int verifies(const char *path, void *arg)
{
    const struct lbx_pam *p = arg;
    char *token = NULL, *approved_by = NULL;
    struct lbx_claims claims;
    int ok = 0;

    if (read_entry(path, &token, &approved_by, NULL) == LBX_OK &&
        lbx_grant_check(&p->cfg, NULL, token, p->user, &claims, NULL) == LBX_OK) {
        lbx_claims_free(&claims);
        ok = 1;
    }
    lbx_free_secret(token);
    free(approved_by);
    return ok;
}

int lbx_pam_handoff_held(const struct lbx_pam *p)
{
    char dir[4096];

    if (lbx_run_path(&p->cfg, LBX_RUN_PENDING, dir, sizeof(dir)) == NULL)
        return 0;
    return lbx_handoff_each_live(dir, p->uid, verifies, (void *)p);
}
