/* What the host programs need to know about other processes, read from /proc: a process's
 * identity (pid + start time, so a recycled pid is never mistaken for the one we recorded),
 * its owner, and the processes of one uid. */
#ifndef LBX_PROC_H
#define LBX_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "lbx_err.h"

/* Start time of pid in clock ticks since boot (field 22 of /proc/PID/stat). */
lbx_err lbx_proc_start_time(pid_t pid, uint64_t *start);
/* 1 when pid is alive (not a zombie) and still the process that started at `start`. */
int lbx_proc_is(pid_t pid, uint64_t start);
/* Process state letter ('R', 'S', 'Z', ...) or 0 when gone. */
char lbx_proc_state(pid_t pid);
/* 1 when any of the real, effective, saved or filesystem uids of pid is uid. */
int lbx_proc_has_uid(pid_t pid, uid_t uid);

/* Calls fn for every live (non-zombie) process with any uid equal to uid; returns how many. */
int lbx_proc_for_uid(uid_t uid, void (*fn)(pid_t pid, void *arg), void *arg);

/* Kills every process of uid (never uid 0) and waits up to timeout_ms for them to go: a child
 * that takes the uid and calls kill(-1, SIGKILL) until nothing of the uid is left (atomic
 * against fork: a fork loop cannot outrun it), then root kills one by one whatever holds the uid
 * only as its effective or filesystem uid. Returns how many live processes are left. */
int lbx_proc_kill_uid(uid_t uid, int timeout_ms);
/* One kill(-1, SIGKILL) pass as uid (never uid 0), nothing waited for: every process whose real
 * or saved uid is uid at that moment dies, and nothing started after it is touched (a login of
 * the same user that begins while a logout's sweep runs). */
void lbx_proc_kill_uid_once(uid_t uid);

#endif
