/* lockbox-session — sshd's ForceCommand for support accounts.
 *
 * It trusts nothing the user controls: not its arguments or environment (anyone may run a
 * setgid program; ~/.pam_environment and AcceptEnv set variables), only the compiled-in
 * configuration file, and only when it is root's. Its session is the cgroup it runs in — sshd's
 * monitor entered it in pam_open_session and no user can leave it — and the record for that
 * cgroup is root's. No record, a record for someone else, an ended grant or a reaper that is dead
 * or never armed: it refuses.
 *
 * It may also be a support account's login shell: sshd then starts it directly, as
 * `lockbox-session -c <ForceCommand>`, so no shell (and no ~/.bashrc) runs before it; the
 * user's shell and commands then run under session_shell. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "cgroup.h"
#include "duration.h"
#include "grant_end.h"
#include "hook.h"
#include "proc.h"
#include "run_dir.h"

#ifdef __SANITIZE_ADDRESS__
/* make asan: LeakSanitizer cannot inspect a setgid process (it is not dumpable) and would turn
 * every exit into a fatal error; the hook's allocations are checked by valgrind-free ASan only. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

/* Looks for a record named after the cgroup this process is in, in the hierarchies a session
 * can live in; the record must name exactly this cgroup. */
static lbx_err find_session(struct lbx_hook *h)
{
    static const enum lbx_cgroup_kind kinds[] = {LBX_CGROUP_V2, LBX_CGROUP_FREEZER};
    char path[LBX_CGROUP_PATH_MAX];
    const char *sid;
    size_t i;
    int v2_line;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (lbx_cgroup_of_pid(getpid(), kinds[i], path, sizeof(path)) != LBX_OK)
            continue;
        sid = strrchr(path, '/') + 1;
        if (!lbx_session_id_valid(sid) ||
            lbx_session_record_read(h->sessions_dir, sid, 1, &h->rec, NULL) != LBX_OK)
            continue;
        v2_line = kinds[i] == LBX_CGROUP_V2;
        if (strcmp(h->rec.cgroup.path, path) == 0 &&
            (v2_line ? h->rec.cgroup.kind != LBX_CGROUP_FREEZER
                     : h->rec.cgroup.kind == LBX_CGROUP_FREEZER))
            return LBX_OK;
        lbx_session_record_free(&h->rec);
    }
    return LBX_ERR_UNGUARDED;
}

/* sshd does not wait for the reaper to arm itself (it loads while sshd forks this side), so
 * this does: normally it has long been armed. A reaper that dies, or takes longer than
 * ARMED_WAIT_MS, guards nothing. */
#define ARMED_WAIT_MS 5000

static int reaper_armed(const struct lbx_hook *h)
{
    struct timespec pause = {0, 1000000};
    int64_t deadline = lbx_monotonic_ms() + ARMED_WAIT_MS;

    while (!lbx_session_is_armed(h->sessions_dir, h->rec.sid)) {
        if (!lbx_proc_is(h->rec.reaper_pid, h->rec.reaper_start) || lbx_monotonic_ms() >= deadline)
            return 0;
        nanosleep(&pause, NULL);
    }
    return 1;
}

static const char *unguarded_reason(const struct lbx_hook *h)
{
    if (h->rec.uid != getuid())
        return "the session record names another user";
    if (h->rec.ended != NULL)
        return "the grant has ended";
    if (lbx_grant_over(h->rec.exp))
        return "the grant has expired";
    if (h->rec.reaper_pid <= 1 || !reaper_armed(h) ||
        !lbx_proc_is(h->rec.reaper_pid, h->rec.reaper_start))
        return "no reaper guards this session";
    return NULL;
}

/* sshd starts a login shell as `SHELL -c COMMAND`; with the hook as the account's login shell
 * and ForceCommand naming the hook, COMMAND is the hook's own installed path. That one form
 * tells the hook nothing it does not know, so it counts as no argument at all. The string is
 * only ever compared, never opened: it must equal the compiled-in path, and that path must be
 * the program running now (a copy elsewhere is not what sshd was told to start). */
static int is_login_shell_call(int argc, char **argv)
{
    char self[PATH_MAX];
    ssize_t n;

    if (argc != 3 || strcmp(argv[1], "-c") != 0 || strcmp(argv[2], lbx_hook_path) != 0)
        return 0;
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    return strcmp(self, lbx_hook_path) == 0;
}

/* Other arguments are root's to give (a diagnosis by hand); from anyone else they would be
 * orders from the caller of a setgid program, so they are refused, as is a call without even
 * argv[0]. */
static lbx_err load_config(struct lbx_hook *h, int argc, char **argv, struct lbx_error *e)
{
    if (is_login_shell_call(argc, argv))
        argc = 1;
    else if (argc != 1 && getuid() != 0)
        return lbx_error_set(e, LBX_ERR_ARG,
                             "takes no arguments (as a login shell: -c %s; it reads %s only)",
                             lbx_hook_path, lbx_hook_config_path);
    return lbx_host_config_load_at(&h->cfg, lbx_hook_config_path, argc > 1 ? argc - 1 : 0,
                                   (const char **)argv + 1, LBX_FILE_ROOT, e);
}

/* 1 when path leads to the program running now, under whatever name. */
static int is_this_program(const char *path)
{
    struct stat self, other;

    return stat("/proc/self/exe", &self) == 0 && stat(path, &other) == 0 &&
           self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

/* What runs the user's shell or command: the login shell, or session_shell when the login shell
 * is the hook. NULL when that would be the hook again (it would start itself for ever). */
static const char *command_shell(const struct lbx_hook *h, const char *login_shell)
{
    const char *shell = is_this_program(login_shell) ? h->cfg.session_shell : login_shell;

    return is_this_program(shell) ? NULL : shell;
}

int main(int argc, char **argv)
{
    struct lbx_hook h;
    struct lbx_error e = {0};
    struct lbx_account pw = {0};
    const char *why;
    int rc;

    memset(&h, 0, sizeof(h));
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    if (load_config(&h, argc, argv, &e) != LBX_OK) {
        lbx_hook_say("configuration error (%s); refusing", e.detail);
        return 1;
    }
    lbx_run_path(&h.cfg, LBX_RUN_SESSIONS, h.sessions_dir, sizeof(h.sessions_dir));
    if (lbx_account_by_uid(getuid(), &pw, &e) != LBX_OK || pw.shell[0] != '/') {
        lbx_hook_say("no login shell for uid %lu; refusing", (unsigned long)getuid());
        lbx_account_free(&pw);
        return 1;
    }
    if ((h.shell = command_shell(&h, pw.shell)) == NULL) {
        lbx_hook_say("the shell for this session would be lockbox-session itself; refusing");
        lbx_account_free(&pw);
        return 1;
    }
    h.command = getenv("SSH_ORIGINAL_COMMAND");
    if (find_session(&h) != LBX_OK) {
        lbx_hook_say("this session is not guarded by lockbox (no session record); refusing");
        return 1;
    }
    if ((why = unguarded_reason(&h)) != NULL) {
        lbx_hook_say("%s; refusing", why);
        rc = 1;
    } else if (h.command != NULL && !h.cfg.allow_file_transfer && lbx_is_file_transfer(h.command)) {
        lbx_hook_say("file transfer is not allowed on this host; refusing");
        rc = 1;
    } else {
        rc = isatty(STDIN_FILENO) ? lbx_pty_session(&h) : lbx_pipe_session(&h);
    }
    lbx_session_record_free(&h.rec);
    lbx_host_config_free(&h.cfg);
    lbx_account_free(&pw);
    return rc;
}
