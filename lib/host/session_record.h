/* The session record: what the PAM module knows about one guarded SSH session, written under
 * <run_dir>/sessions/ by root. Two files per session, both replaced atomically:
 *   <sid>.json  0600 root            — everything, including the grant token (reaper, close);
 *   <sid>.view  0640 root:<rec group> — the same minus the token, for lockbox-session, which
 *                                       runs as the user, setgid to the recording group.
 * a third, <sid>.armed, once the reaper guards the session, and a fourth, <sid>.end, made by
 * whichever of the reaper and the module's close ends the session first.
 * The session id is the basename of the session's cgroup, so a process finds its own record
 * from /proc/self/cgroup and never from anything the user controls. */
#ifndef LBX_SESSION_RECORD_H
#define LBX_SESSION_RECORD_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "lbx_err.h"

#define LBX_SID_MAX 128

struct lbx_session_record {
    char sid[LBX_SID_MAX];
    char *user;
    uid_t uid;
    char *token;       /* only in the .json file; NULL when read from the view */
    char *grant_id;    /* jti */
    char *request_id;  /* lbx_req, may be NULL */
    char *ticket;      /* lbx_ticket, may be NULL */
    char *approved_by; /* from the broker, display only; may be NULL */
    int64_t exp;
    int64_t created;
    struct lbx_cgroup cgroup;
    char monitor_cgroup[LBX_CGROUP_PATH_MAX]; /* where sshd's monitor came from */
    pid_t monitor_pid;
    uint64_t monitor_start;
    pid_t reaper_pid; /* the reaper the module started for this session */
    uint64_t reaper_start;
    char *ended; /* NULL while live; "expired" | "revoked" | "exited" | "error" */
    int64_t ended_at;
};

/* sid: "s-" + 16 random bytes in base64url. */
lbx_err lbx_session_new_id(char sid[LBX_SID_MAX]);
/* 1 when s is a well-formed session id (safe as a file and cgroup name). */
int lbx_session_id_valid(const char *s);

/* Writes <dir>/<sid>.json (0600) and <dir>/<sid>.view (0640, group view_gid). */
lbx_err lbx_session_record_write(const char *dir, const struct lbx_session_record *rec,
                                 gid_t view_gid, struct lbx_error *e);
/* Reads <dir>/<sid>.json (view = 0) or .view (view = 1); the file must be owned by root. */
lbx_err lbx_session_record_read(const char *dir, const char *sid, int view,
                                struct lbx_session_record *rec, struct lbx_error *e);
lbx_err lbx_session_record_parse(const char *text, size_t len, struct lbx_session_record *rec,
                                 struct lbx_error *e);
/* JSON text (malloc'd), with or without the token. */
char *lbx_session_record_dump(const struct lbx_session_record *rec, int with_token);
/* Removes the record, its view and its armed mark. */
lbx_err lbx_session_record_remove(const char *dir, const char *sid);
/* <dir>/<sid>.armed: the reaper made it once its timer is armed (root, empty); lockbox-session
 * runs nothing of a session before it exists. */
lbx_err lbx_session_mark_armed(const char *dir, const char *sid, struct lbx_error *e);
int lbx_session_is_armed(const char *dir, const char *sid);
/* Takes the right to end the session: 1 when this caller has it, 0 when another caller took
 * it first or the record is gone (ended already), -1 on error (the caller ends the session
 * anyway: fail closed). */
int lbx_session_claim_end(const char *dir, const char *sid);
int lbx_session_end_claimed(const char *dir, const char *sid);
void lbx_session_record_free(struct lbx_session_record *rec);

/* Calls fn for each record in dir (full records, root only). */
int lbx_session_record_each(const char *dir, void (*fn)(const struct lbx_session_record *, void *),
                            void *arg);

/* How many live sessions of uid in dir hold a grant (reaper alive, not ended, exp ahead),
 * leaving out the session except_sid and the grant except_grant (either may be NULL). */
int lbx_session_grants_held(const char *dir, uid_t uid, const char *except_sid,
                            const char *except_grant);

#endif
