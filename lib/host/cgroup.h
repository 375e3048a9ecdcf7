/* Session confinement: the cgroup that holds every process of one SSH session, so that ending
 * the session is one kill of the whole group — daemonized, double-forked or not. pam_lockbox
 * creates and enters it; lockbox-reaper kills it; both find the hierarchies the same way, from
 * /proc/self/mountinfo. Three kinds:
 *   v2      our own cgroup under the cgroup2 mount, killed with cgroup.kill
 *           (freeze + SIGKILL on kernels without cgroup.kill);
 *   freezer our own cgroup under the v1 freezer hierarchy: freeze, SIGKILL every task, thaw;
 *   logind  on systemd hosts the session already lives in logind's session-N.scope; we create
 *           nothing outside systemd's delegation and kill the scope's cgroup (cgroup.kill). */
#ifndef LBX_CGROUP_H
#define LBX_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "lbx_err.h"

enum lbx_cgroup_kind {
    LBX_CGROUP_NONE,
    LBX_CGROUP_V2,
    LBX_CGROUP_FREEZER,
    LBX_CGROUP_LOGIND,
};

#define LBX_CGROUP_PATH_MAX 512

struct lbx_cgroup {
    enum lbx_cgroup_kind kind;
    char mount[LBX_CGROUP_PATH_MAX]; /* where the hierarchy is mounted */
    char path[LBX_CGROUP_PATH_MAX];  /* the cgroup inside it, "/lockbox/s-..." */
};

struct lbx_cgroup_mounts {
    char v2[LBX_CGROUP_PATH_MAX];      /* "" when absent */
    char freezer[LBX_CGROUP_PATH_MAX]; /* "" when absent */
};

const char *lbx_cgroup_kind_name(enum lbx_cgroup_kind kind);
enum lbx_cgroup_kind lbx_cgroup_kind_from_name(const char *name);

/* Parses /proc/self/mountinfo text (tests pass their own). */
lbx_err lbx_cgroup_parse_mountinfo(const char *text, struct lbx_cgroup_mounts *m);
lbx_err lbx_cgroup_find_mounts(struct lbx_cgroup_mounts *m, struct lbx_error *e);

/* The path of the cgroup holding pid in the hierarchy of `kind` (v2 and logind: the "0::" line;
 * freezer: the line naming the freezer controller), from /proc/PID/cgroup text. */
lbx_err lbx_cgroup_parse_proc(const char *text, enum lbx_cgroup_kind kind, char *out, size_t len);
lbx_err lbx_cgroup_of_pid(pid_t pid, enum lbx_cgroup_kind kind, char *out, size_t len);

/* Decides where a new session of the calling process goes. mode: "auto", "v2", "freezer".
 * For v2/freezer the cgroup is /<name>/<sid>; for logind it is the caller's scope. */
lbx_err lbx_cgroup_plan(const char *mode, const char *name, const char *sid, struct lbx_cgroup *cg,
                        struct lbx_error *e);

/* mkdir of /<name> (0755) and the session cgroup; a session cgroup that already exists is an
 * error (a sid is never reused). No-op for logind. */
lbx_err lbx_cgroup_create(const struct lbx_cgroup *cg, struct lbx_error *e);
/* Moves pid into cg (or into `path` of the same hierarchy with lbx_cgroup_attach_path). */
lbx_err lbx_cgroup_attach(const struct lbx_cgroup *cg, pid_t pid, struct lbx_error *e);
lbx_err lbx_cgroup_attach_path(const struct lbx_cgroup *cg, const char *path, pid_t pid,
                               struct lbx_error *e);
/* Live (non-zombie) processes in cg, at most max written to pids (pids may be NULL).
 * -1 when the cgroup is gone. */
int lbx_cgroup_procs(const struct lbx_cgroup *cg, pid_t *pids, int max);
/* Kills every process in cg and waits up to timeout_ms until none is left. */
lbx_err lbx_cgroup_kill(const struct lbx_cgroup *cg, int timeout_ms, struct lbx_error *e);
/* Kills every process in cg except those in keep (sshd's monitor: it then closes the
 * connection and runs pam_close_session) and waits up to timeout_ms until none else is left.
 * Frozen while it kills, unless the caller is inside cg itself. */
lbx_err lbx_cgroup_kill_except(const struct lbx_cgroup *cg, const pid_t *keep, int nkeep,
                               int timeout_ms, struct lbx_error *e);
/* rmdir of an empty session cgroup (not for logind); gone already is fine. */
lbx_err lbx_cgroup_remove(const struct lbx_cgroup *cg, struct lbx_error *e);

#endif
