/* Naming and clean-up of the per-login hand-off files (see handoff.h). The files themselves
 * are written and read by pam_lockbox; the reaper only sweeps. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "handoff.h"
#include "proc.h"

int lbx_handoff_path(const char *pending_dir, uid_t uid, pid_t pid, uint64_t start, char *buf,
                     size_t len)
{
    int n = snprintf(buf, len, "%s/%lu-%ld-%llu.json", pending_dir, (unsigned long)uid, (long)pid,
                     (unsigned long long)start);

    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Parses "<uid>-<pid>-<start>.json"; 0 when name is not one. */
static int parse_name(const char *name, unsigned long *u, long *pid, unsigned long long *start)
{
    int end = 0;

    return sscanf(name, "%lu-%ld-%llu.json%n", u, pid, start, &end) == 3 && end > 0 &&
           name[end] == '\0' && *pid > 1;
}

/* 1 when name should go: stale, old format, or (uid given) one of uid's. */
static int doomed(const char *name, uid_t uid)
{
    unsigned long u;
    long pid;
    unsigned long long start;
    int end = 0;

    if (strstr(name, ".tmp.") != NULL)
        return 0; /* another login is writing it */
    if (sscanf(name, "%lu.json%n", &u, &end) == 1 && end > 0 && name[end] == '\0')
        return 1;
    if (!parse_name(name, &u, &pid, &start))
        return 0; /* not ours */
    if (uid != LBX_HANDOFF_ALL_UIDS && u == (unsigned long)uid)
        return 1;
    return !lbx_proc_is((pid_t)pid, start);
}

void lbx_handoff_sweep(const char *pending_dir, uid_t uid)
{
    struct dirent *d;
    DIR *dir;
    int dfd;

    if ((dfd = open(pending_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return;
    if ((dir = fdopendir(dfd)) == NULL) {
        close(dfd);
        return;
    }
    while ((d = readdir(dir)) != NULL)
        if (d->d_name[0] != '.' && doomed(d->d_name, uid))
            unlinkat(dfd, d->d_name, 0);
    closedir(dir);
}

int lbx_handoff_each_live(const char *pending_dir, uid_t uid,
                          int (*fn)(const char *path, void *arg), void *arg)
{
    char path[4352];
    unsigned long u;
    unsigned long long start;
    struct dirent *d;
    long pid;
    int rc = 0;
    DIR *dir;

    if ((dir = opendir(pending_dir)) == NULL)
        return 0;
    while (rc == 0 && (d = readdir(dir)) != NULL) {
        if (!parse_name(d->d_name, &u, &pid, &start) || u != (unsigned long)uid ||
            !lbx_proc_is((pid_t)pid, start))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", pending_dir, d->d_name) < (int)sizeof(path))
            rc = fn(path, arg);
    }
    closedir(dir);
    return rc;
}
