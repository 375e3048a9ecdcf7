/* The user's side of the fork: the shell or command runs as the user with the user's own
 * group only — the recording group the hook holds (setgid) must not reach it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"

void lbx_exec_user(const struct lbx_hook *h, int login)
{
    const char *base = strrchr(h->shell, '/');
    char argv0[256];
    gid_t gid = getgid();

    if (setresgid(gid, gid, gid) != 0 || getegid() != gid) {
        fprintf(stderr, "lockbox: cannot drop the recording group: %s\r\n", strerror(errno));
        _exit(126);
    }
    base = base ? base + 1 : h->shell;
    if (h->command != NULL) {
        execl(h->shell, base, "-c", h->command, (char *)NULL);
    } else {
        /* A leading '-' makes it a login shell, as sshd would have started it. */
        snprintf(argv0, sizeof(argv0), "%s%s", login ? "-" : "", base);
        execl(h->shell, argv0, (char *)NULL);
    }
    fprintf(stderr, "lockbox: %s: %s\r\n", h->shell, strerror(errno));
    _exit(127);
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
