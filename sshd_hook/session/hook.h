/* lockbox-session, the ForceCommand (runs as the user, setgid to the recording group).
 *   lockbox-session.c  finds the session's record through its own cgroup, checks the reaper,
 *                      refuses or dispatches
 *   pty_session.c      interactive: banner, pty, warnings, asciicast recording, last line
 *   pipe_session.c     commands and subsystems: bytes passed through untouched and counted
 *   recording.c        the files under record_dir the user cannot write
 *   child.c            starting the user's shell or command without our group
 *   hook_config.c      the compiled-in configuration path and installed path */
#ifndef LBX_HOOK_H
#define LBX_HOOK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "host_config.h"
#include "session_record.h"

struct lbx_hook {
    struct lbx_host_config cfg;
    struct lbx_session_record rec; /* the view: no token */
    char sessions_dir[4096];
    const char *shell;   /* runs the user's shell or command: the account's login shell from the
                            password database, or session_shell when that is the hook itself */
    const char *command; /* SSH_ORIGINAL_COMMAND or NULL */
};

/* hook_config.c: the configuration file and the hook's installed path, fixed at build time. */
extern const char lbx_hook_config_path[];
extern const char lbx_hook_path[];

/* recording.c */
struct lbx_recording {
    FILE *f;
    double started;         /* CLOCK_REALTIME seconds */
    unsigned char carry[4]; /* an incomplete UTF-8 sequence held for the next chunk */
    size_t ncarry;
};
/* Opens <record_dir>/<time>-<user>-<sid>.<ext> for writing (never an existing file). */
int lbx_recording_open(const struct lbx_hook *h, const char *ext, struct lbx_recording *rc);
int lbx_cast_header(struct lbx_recording *rc, const struct lbx_hook *h, int cols, int rows);
/* Appends one asciicast v2 event [t, type, data]; invalid UTF-8 becomes U+FFFD. */
void lbx_cast_event(struct lbx_recording *rc, const char *type, const char *data, size_t len);
/* Appends one JSON line for a non-interactive command (event "start" or "end"). */
void lbx_command_log(struct lbx_recording *rc, const struct lbx_hook *h, const char *event,
                     const uint64_t counts[3], int status);
void lbx_recording_close(struct lbx_recording *rc);
double lbx_now(void);

/* child.c: in a forked child, drops the recording group and execs the shell or command. */
void lbx_exec_user(const struct lbx_hook *h, int login) __attribute__((noreturn));
/* The same without a terminal: spawned with its standard streams on fds[0..2]; 0 or errno. */
int lbx_spawn_user(const struct lbx_hook *h, const int fds[3], pid_t *pid);
/* 1 when the command is a file transfer (sftp-server, internal-sftp, scp, rsync --server). */
int lbx_is_file_transfer(const char *command);

/* pty_session.c / pipe_session.c: run the session, return the exit status for sshd. */
int lbx_pty_session(struct lbx_hook *h);
int lbx_pipe_session(struct lbx_hook *h);

/* tell.c: one line on the terminal (stderr) prefixed "lockbox: ". */
void lbx_hook_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Re-reads the view for the end reason (after the reaper's SIGUSR1); "" when unknown. */
void lbx_hook_end_reason(const struct lbx_hook *h, char *out, size_t len);

#endif
