/* The user's side of the fork: the shell or command runs as the user with the user's own
 * group only — the recording group the hook holds (setgid) must not reach it. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"

/* The shell's argv, one for both ways of starting it: `base -c COMMAND`, or `[-]base` alone (a
 * leading '-' makes it a login shell, as sshd would have started it). argv0 holds the name. */
static void user_argv(const struct lbx_hook *h, int login, char *argv0, size_t len, char *argv[4])
{
    const char *base = strrchr(h->shell, '/');

    snprintf(argv0, len, "%s%s", login && h->command == NULL ? "-" : "",
             base ? base + 1 : h->shell);
    argv[0] = argv0;
    argv[1] = h->command != NULL ? (char *)"-c" : NULL;
    argv[2] = (char *)h->command;
    argv[3] = NULL;
}

void lbx_exec_user(const struct lbx_hook *h, int login)
{
    char argv0[256], *argv[4];
    gid_t gid = getgid();

    if (setresgid(gid, gid, gid) != 0 || getegid() != gid) {
        fprintf(stderr, "lockbox: cannot drop the recording group: %s\r\n", strerror(errno));
        _exit(126);
    }
    user_argv(h, login, argv0, sizeof(argv0), argv);
    execv(h->shell, argv);
    fprintf(stderr, "lockbox: %s: %s\r\n", h->shell, strerror(errno));
    _exit(127);
}

/* The command without a terminal, its standard streams on fds[0..2]. posix_spawn copies no page
 * of the hook (a fork would, only to exec), which a login's exec phase feels on a virtual
 * machine. POSIX_SPAWN_RESETIDS makes the effective group the real one before the exec, and the
 * exec then makes the saved one the same: the recording group is gone, as setresgid leaves it
 * in lbx_exec_user. 0 or an errno value. */
int lbx_spawn_user(const struct lbx_hook *h, const int fds[3], pid_t *pid)
{
    char argv0[256], *argv[4];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t pipe_only;
    int rc, i;

    user_argv(h, 0, argv0, sizeof(argv0), argv);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE); /* the hook ignores it; the command must not */
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        return rc;
    if ((rc = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    for (i = 0; i < 3 && rc == 0; i++)
        rc = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
    if (rc == 0 && (rc = posix_spawnattr_setsigdefault(&at, &pipe_only)) == 0 &&
        (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_RESETIDS)) == 0)
        rc = posix_spawn(pid, h->shell, &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static int basename_is(const char *word, size_t n, const char *name)
{
    const char *slash = memrchr(word, '/', n);

    if (slash != NULL) {
        n -= (size_t)(slash + 1 - word);
        word = slash + 1;
    }
    return strlen(name) == n && memcmp(word, name, n) == 0;
}

int lbx_is_file_transfer(const char *command)
{
    const char *p = command;
    size_t n;

    p += strspn(p, " \t");
    n = strcspn(p, " \t");
    if (basename_is(p, n, "sftp-server") || basename_is(p, n, "internal-sftp") ||
        basename_is(p, n, "scp") || basename_is(p, n, "rsync"))
        return 1;
    return 0;
}
