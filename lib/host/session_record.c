#include "session_record.h"

#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "json.h"

#define RECORD_MAX_LEN (16 * 1024)

int lbx_session_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    /* Ours ("s-...") or a logind scope ("session-7.scope"): letters, digits, - _ . only. */
    if (n == 0 || n >= LBX_SID_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, key, json_string(v));
}

char *lbx_session_record_dump(const struct lbx_session_record *r, int with_token)
{
    json_t *o = json_object();
    char *text;

    if (o == NULL)
        return NULL;
    set_str(o, "sid", r->sid);
    set_str(o, "user", r->user);
    json_object_set_new(o, "uid", json_integer(r->uid));
    if (with_token)
        set_str(o, "token", r->token);
    set_str(o, "grant_id", r->grant_id);
    set_str(o, "request_id", r->request_id);
    set_str(o, "ticket", r->ticket);
    set_str(o, "approved_by", r->approved_by);
    json_object_set_new(o, "exp", json_integer(r->exp));
    json_object_set_new(o, "created", json_integer(r->created));
    set_str(o, "cgroup_kind", lbx_cgroup_kind_name(r->cgroup.kind));
    set_str(o, "cgroup_mount", r->cgroup.mount);
    set_str(o, "cgroup_path", r->cgroup.path);
    set_str(o, "monitor_cgroup", r->monitor_cgroup);
    json_object_set_new(o, "monitor_pid", json_integer(r->monitor_pid));
    json_object_set_new(o, "monitor_start", json_integer((json_int_t)r->monitor_start));
    json_object_set_new(o, "reaper_pid", json_integer(r->reaper_pid));
    json_object_set_new(o, "reaper_start", json_integer((json_int_t)r->reaper_start));
    set_str(o, "ended", r->ended);
    json_object_set_new(o, "ended_at", json_integer(r->ended_at));
    text = lbx_json_dump(o);
    json_decref(o);
    return text;
}

static lbx_err get_dup(const json_t *o, const char *key, int required, char **out)
{
    const char *v;
    lbx_err r = lbx_json_get_string(o, key, &v);

    if (r == LBX_ERR_TOKEN_CLAIM_MISSING && !required)
        return LBX_OK;
    if (r != LBX_OK)
        return r;
    return (*out = strdup(v)) ? LBX_OK : LBX_ERR_NOMEM;
}

static lbx_err get_fixed(const json_t *o, const char *key, char *out, size_t len)
{
    const char *v;
    lbx_err r = lbx_json_get_string(o, key, &v);

    if (r != LBX_OK)
        return r;
    if (strlen(v) >= len)
        return LBX_ERR_TOO_LARGE;
    strcpy(out, v);
    return LBX_OK;
}

static lbx_err get_num(const json_t *o, const char *key, int64_t *out)
{
    return lbx_json_get_int(o, key, out);
}

static lbx_err parse_fields(const json_t *o, struct lbx_session_record *rec)
{
    int64_t uid = 0, mpid = 0, mstart = 0, rpid = 0, rstart = 0;
    char kind[16];
    lbx_err r;

    if ((r = get_fixed(o, "sid", rec->sid, sizeof(rec->sid))) ||
        (r = get_dup(o, "user", 1, &rec->user)) || (r = get_num(o, "uid", &uid)) ||
        (r = get_dup(o, "token", 0, &rec->token)) ||
        (r = get_dup(o, "grant_id", 1, &rec->grant_id)) ||
        (r = get_dup(o, "request_id", 0, &rec->request_id)) ||
        (r = get_dup(o, "ticket", 0, &rec->ticket)) ||
        (r = get_dup(o, "approved_by", 0, &rec->approved_by)) ||
        (r = get_num(o, "exp", &rec->exp)) || (r = get_num(o, "created", &rec->created)) ||
        (r = get_fixed(o, "cgroup_kind", kind, sizeof(kind))) ||
        (r = get_fixed(o, "cgroup_mount", rec->cgroup.mount, sizeof(rec->cgroup.mount))) ||
        (r = get_fixed(o, "cgroup_path", rec->cgroup.path, sizeof(rec->cgroup.path))) ||
        (r = get_fixed(o, "monitor_cgroup", rec->monitor_cgroup, sizeof(rec->monitor_cgroup))) ||
        (r = get_num(o, "monitor_pid", &mpid)) || (r = get_num(o, "monitor_start", &mstart)) ||
        (r = get_num(o, "reaper_pid", &rpid)) || (r = get_num(o, "reaper_start", &rstart)) ||
        (r = get_dup(o, "ended", 0, &rec->ended)) || (r = get_num(o, "ended_at", &rec->ended_at)))
        return r;
    rec->cgroup.kind = lbx_cgroup_kind_from_name(kind);
    if (uid < 0 || uid > 0x7fffffff || mpid < 0 || mpid > 0x7fffffff || rpid < 0 ||
        rpid > 0x7fffffff || mstart < 0 || rstart < 0 || rec->cgroup.kind == LBX_CGROUP_NONE ||
        !lbx_session_id_valid(rec->sid))
        return LBX_ERR_JSON;
    rec->uid = (uid_t)uid;
    rec->monitor_pid = (pid_t)mpid;
    rec->monitor_start = (uint64_t)mstart;
    rec->reaper_pid = (pid_t)rpid;
    rec->reaper_start = (uint64_t)rstart;
    return LBX_OK;
}

lbx_err lbx_session_record_parse(const char *text, size_t len, struct lbx_session_record *rec,
                                 struct lbx_error *e)
{
    json_t *o = NULL;
    lbx_err r;

    memset(rec, 0, sizeof(*rec));
    if ((r = lbx_json_parse_object(text, len, RECORD_MAX_LEN, 2, &o, e)) != LBX_OK)
        return r;
    if ((r = parse_fields(o, rec)) != LBX_OK) {
        lbx_session_record_free(rec);
        lbx_error_set(e, LBX_ERR_JSON, "session record: bad or missing field (%s)",
                      lbx_strerror(r));
        r = LBX_ERR_JSON;
    }
    json_decref(o);
    return r;
}

/* kind: "json" (the record), "view" (without the token) or "armed" (the reaper's mark). */
static int record_path(char *out, size_t len, const char *dir, const char *sid, const char *kind)
{
    int n = snprintf(out, len, "%s/%s.%s", dir, sid, kind);

    return n > 0 && (size_t)n < len && lbx_session_id_valid(sid);
}

lbx_err lbx_session_record_write(const char *dir, const struct lbx_session_record *rec,
                                 gid_t view_gid, struct lbx_error *e)
{
    char path[4096], *full = NULL, *view = NULL;
    lbx_err r = LBX_ERR_NOMEM;

    if (!record_path(path, sizeof(path), dir, rec->sid, "json"))
        return lbx_error_set(e, LBX_ERR_ARG, "bad session id or directory");
    if ((full = lbx_session_record_dump(rec, 1)) == NULL ||
        (view = lbx_session_record_dump(rec, 0)) == NULL) {
        lbx_error_set(e, r, "session record");
        goto out;
    }
    if ((r = lbx_file_write_volatile(path, full, strlen(full), 0600, (gid_t)-1, e)) != LBX_OK)
        goto out;
    record_path(path, sizeof(path), dir, rec->sid, "view");
    r = lbx_file_write_volatile(path, view, strlen(view), 0640, view_gid, e);
out:
    lbx_free_secret(full);
    free(view);
    return r;
}

lbx_err lbx_session_record_read(const char *dir, const char *sid, int view,
                                struct lbx_session_record *rec, struct lbx_error *e)
{
    char path[4096], *text = NULL;
    size_t len;
    lbx_err r;

    memset(rec, 0, sizeof(*rec));
    if (!record_path(path, sizeof(path), dir, sid, view ? "view" : "json"))
        return lbx_error_set(e, LBX_ERR_ARG, "bad session id");
    if ((r = lbx_file_read(path, LBX_FILE_ROOT, RECORD_MAX_LEN, &text, &len, e)) != LBX_OK)
        return r;
    r = lbx_session_record_parse(text, len, rec, e);
    if (r == LBX_OK && strcmp(rec->sid, sid) != 0) {
        lbx_session_record_free(rec);
        r = lbx_error_set(e, LBX_ERR_JSON, "%s: names another session", path);
    }
    lbx_freezero(text, len);
    return r;
}

lbx_err lbx_session_record_remove(const char *dir, const char *sid)
{
    char path[4096];
    lbx_err r = LBX_OK;

    if (!record_path(path, sizeof(path), dir, sid, "json"))
        return LBX_ERR_ARG;
    if (unlink(path) != 0)
        r = LBX_ERR_IO;
    record_path(path, sizeof(path), dir, sid, "view");
    if (unlink(path) != 0)
        r = LBX_ERR_IO;
    record_path(path, sizeof(path), dir, sid, "armed");
    unlink(path); /* absent when the reaper never armed */
    record_path(path, sizeof(path), dir, sid, "end");
    unlink(path); /* absent while the session is live */
    return r;
}

lbx_err lbx_session_mark_armed(const char *dir, const char *sid, struct lbx_error *e)
{
    char path[4096];
    int fd;

    if (!record_path(path, sizeof(path), dir, sid, "armed"))
        return lbx_error_set(e, LBX_ERR_ARG, "bad session id or directory");
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
    close(fd);
    return LBX_OK;
}

/* O_EXCL makes the claim atomic: of the reaper (expiry, revocation, a vanished sshd) and the
 * module's close (logout), exactly one ends the session, however they race. */
int lbx_session_claim_end(const char *dir, const char *sid)
{
    char path[4096], record[4096];
    int fd;

    if (!record_path(path, sizeof(path), dir, sid, "end"))
        return -1;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return errno == EEXIST ? 0 : -1;
    close(fd);
    /* The record goes before its claim: a claim made after an end has removed both finds no
     * record, and there is nothing left to end. */
    if (!record_path(record, sizeof(record), dir, sid, "json") || access(record, F_OK) != 0) {
        unlink(path);
        return 0;
    }
    return 1;
}

int lbx_session_end_claimed(const char *dir, const char *sid)
{
    struct stat st;
    char path[4096];

    return record_path(path, sizeof(path), dir, sid, "end") && lstat(path, &st) == 0;
}

int lbx_session_is_armed(const char *dir, const char *sid)
{
    struct stat st;
    char path[4096];

    return record_path(path, sizeof(path), dir, sid, "armed") && lstat(path, &st) == 0 &&
           S_ISREG(st.st_mode) && st.st_uid == 0;
}

void lbx_session_record_free(struct lbx_session_record *rec)
{
    free(rec->user);
    lbx_free_secret(rec->token);
    free(rec->grant_id);
    free(rec->request_id);
    free(rec->ticket);
    free(rec->approved_by);
    free(rec->ended);
    memset(rec, 0, sizeof(*rec));
}

int lbx_session_record_each(const char *dir, void (*fn)(const struct lbx_session_record *, void *),
                            void *arg)
{
    struct lbx_session_record rec;
    char sid[LBX_SID_MAX];
    struct dirent *d;
    DIR *dh;
    size_t n;
    int count = 0;

    if ((dh = opendir(dir)) == NULL)
        return 0;
    while ((d = readdir(dh)) != NULL) {
        n = strlen(d->d_name);
        if (n <= 5 || n - 5 >= sizeof(sid) || strcmp(d->d_name + n - 5, ".json") != 0)
            continue;
        memcpy(sid, d->d_name, n - 5);
        sid[n - 5] = '\0';
        if (lbx_session_record_read(dir, sid, 0, &rec, NULL) != LBX_OK)
            continue;
        count++;
        fn(&rec, arg);
        lbx_session_record_free(&rec);
    }
    closedir(dh);
    return count;
}

struct holders {
    uid_t uid;
    const char *except_sid, *except_grant;
    int count;
};

/* A session holds a grant while its reaper lives, it is not ended and its exp is ahead. */
static void count_holder(const struct lbx_session_record *r, void *arg)
{
    struct holders *h = arg;

    if (r->uid != h->uid || r->ended != NULL || r->exp <= time(NULL) ||
        !lbx_proc_is(r->reaper_pid, r->reaper_start))
        return;
    if ((h->except_sid != NULL && strcmp(r->sid, h->except_sid) == 0) ||
        (h->except_grant != NULL && r->grant_id != NULL &&
         strcmp(r->grant_id, h->except_grant) == 0))
        return;
    h->count++;
}

int lbx_session_grants_held(const char *dir, uid_t uid, const char *except_sid,
                            const char *except_grant)
{
    struct holders h = {uid, except_sid, except_grant, 0};

    lbx_session_record_each(dir, count_holder, &h);
    return h.count;
}
