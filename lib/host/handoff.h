/* The account phase's accepted token waits for the session phase in run_dir/pending/, one file
 * per login, named after the process that will open the session — sshd's monitor for that
 * connection — and its start time: "<uid>-<pid>-<start>.json". Concurrent logins of one user
 * never share a file, and a recycled pid never finds an earlier login's token. */
#ifndef LBX_HANDOFF_H
#define LBX_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LBX_HANDOFF_ALL_UIDS ((uid_t)-1)

/* "<pending_dir>/<uid>-<pid>-<start>.json" into buf; 0, or -1 when it does not fit. */
int lbx_handoff_path(const char *pending_dir, uid_t uid, pid_t pid, uint64_t start, char *buf,
                     size_t len);
/* Removes every entry whose process is gone (or is another process now), entries of the
 * pre-per-connection format ("<uid>.json"), and — unless uid is LBX_HANDOFF_ALL_UIDS — every
 * entry of uid. Files being written (".tmp.") are left alone. */
void lbx_handoff_sweep(const char *pending_dir, uid_t uid);

/* Calls fn with the path of every entry of uid whose login process is still there, until fn
 * returns non-zero; returns that value (0 when none did). */
int lbx_handoff_each_live(const char *pending_dir, uid_t uid,
                          int (*fn)(const char *path, void *arg), void *arg);

#endif
