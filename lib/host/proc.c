#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_PAUSE_FIRST_NS 2000000L
#define KILL_PAUSE_MAX_NS 16000000L
#define KILL_WAIT_MS 2
#define LOOK_FIRST_MS 100
#define LOOK_MAX_MS 400

static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t len)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* The fields after "pid (comm)": comm may hold spaces and parentheses, so start at the last ')'. */
static const char *stat_fields(pid_t pid, char *buf, size_t len)
{
    char *p;

    if (read_proc_file(pid, "stat", buf, len) <= 0 || (p = strrchr(buf, ')')) == NULL)
        return NULL;
    return p + 2;
}

lbx_err lbx_proc_start_time(pid_t pid, uint64_t *start)
{
    char buf[1024];
    const char *p = stat_fields(pid, buf, sizeof(buf));
    int field;

    if (p == NULL)
        return LBX_ERR_NOT_FOUND;
    /* p points at field 3 (state); the start time is field 22. */
    for (field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL)
            p++;
    }
    if (p == NULL || !isdigit((unsigned char)*p))
        return LBX_ERR_SYSTEM;
    *start = strtoull(p, NULL, 10);
    return LBX_OK;
}

char lbx_proc_state(pid_t pid)
{
    char buf[1024];
    const char *p = stat_fields(pid, buf, sizeof(buf));

    return p ? *p : 0;
}

int lbx_proc_is(pid_t pid, uint64_t start)
{
    uint64_t now_start;
    char st;

    if (pid <= 0 || lbx_proc_start_time(pid, &now_start) != LBX_OK || now_start != start)
        return 0;
    st = lbx_proc_state(pid);
    return st != 0 && st != 'Z' && st != 'X';
}

int lbx_proc_has_uid(pid_t pid, uid_t uid)
{
    char buf[4096], *line;
    unsigned long u[4];

    if (read_proc_file(pid, "status", buf, sizeof(buf)) <= 0 ||
        (line = strstr(buf, "\nUid:")) == NULL)
        return 0;
    if (sscanf(line + 5, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
        return 0;
    return u[0] == uid || u[1] == uid || u[2] == uid || u[3] == uid;
}

/* A process's /proc directory belongs to its effective uid, or to root when it is not dumpable
 * (a setuid program, changed credentials). Only those owned by uid or root can hold uid as real,
 * effective, saved or filesystem uid, short of a privileged process that makes itself dumpable
 * under a third uid; the status of the others is not read, which keeps a look at a host of
 * thousands of processes cheap enough to repeat every few milliseconds. */
static int may_hold(int proc_fd, const char *name, uid_t uid)
{
    struct stat st;

    return fstatat(proc_fd, name, &st, 0) == 0 && (st.st_uid == 0 || st.st_uid == uid);
}

int lbx_proc_for_uid(uid_t uid, void (*fn)(pid_t pid, void *arg), void *arg)
{
    struct dirent *d;
    DIR *dir;
    char st;
    long pid, self = (long)getpid();
    int count = 0;

    if ((dir = opendir("/proc")) == NULL)
        return 0;
    while ((d = readdir(dir)) != NULL) {
        if (!isdigit((unsigned char)d->d_name[0]))
            continue;
        pid = strtol(d->d_name, NULL, 10);
        if (pid <= 1 || pid == self || !may_hold(dirfd(dir), d->d_name, uid) ||
            !lbx_proc_has_uid((pid_t)pid, uid))
            continue;
        st = lbx_proc_state((pid_t)pid);
        if (st == 0 || st == 'Z' || st == 'X')
            continue;
        count++;
        if (fn != NULL)
            fn((pid_t)pid, arg);
    }
    closedir(dir);
    return count;
}

/* In the killer only (a copy of the caller, raw syscalls): with all three uids set to uid it
 * may signal exactly the processes whose real or saved uid is uid, and kill(-1) reaches them all
 * in one pass the kernel makes atomic against fork (a parent with a pending SIGKILL cannot
 * finish a fork). Raw syscalls: glibc's setresuid would try to signal threads the copy does
 * not have. */
struct killer {
    uid_t uid;
    int passes;
};

__attribute__((no_sanitize_address)) static int kill_as(void *arg)
{
    const struct killer *k = arg;
    uid_t uid = k->uid;
    struct timespec pause = {0, KILL_PAUSE_FIRST_NS};
    int round;

    if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresuid, uid, uid, uid) != 0)
        _exit(2);
    /* One pass does it; more only for what a non-uid parent starts meanwhile. Zombies of the uid
     * answer kill(-1) until their parents reap them, which on a host ending thousands of
     * processes at once takes its init a while: the pause between passes grows, so that the
     * passes leave the CPU to the dying and their reapers, and the parent stops this process
     * once nothing of the uid lives. */
    for (round = 0; round < k->passes; round++) {
        if (kill(-1, SIGKILL) != 0 && errno == ESRCH)
            _exit(0);
        if (round + 1 == k->passes)
            break;
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < KILL_PAUSE_MAX_NS)
            pause.tv_nsec *= 2;
    }
    _exit(1);
}

/* A copy of this process that raises no SIGCHLD when it ends (the caller may be sshd, whose
 * handler must never see a child of ours), waited for with __WCLONE. */
static pid_t start_killer(struct killer *k, char *stack, size_t len)
{
    return clone(kill_as, stack + len, 0, k);
}

static void kill_pid(pid_t pid, void *arg)
{
    pid_t *spare = arg;

    if (pid != *spare)
        kill(pid, SIGKILL);
}

struct count_ctx {
    pid_t except;
    int count;
};

static void count_other(pid_t pid, void *arg)
{
    struct count_ctx *c = arg;

    if (pid != c->except)
        c->count++;
}

/* Live processes of uid other than the killer itself. */
static int count_except(uid_t uid, pid_t except)
{
    struct count_ctx c = {except, 0};

    lbx_proc_for_uid(uid, count_other, &c);
    return c.count;
}

int lbx_proc_kill_uid(uid_t uid, int timeout_ms)
{
    struct timespec tick = {0, 2000000};
    char stack[16384] __attribute__((aligned(16)));
    int waited, status, left, look_at = LOOK_FIRST_MS, look_ms = LOOK_FIRST_MS;
    struct killer k = {uid, 5000};
    pid_t child = -1, none = -1;

    if (uid == 0)
        return -1;
    /* The killer says when nothing the uid may signal is left (zombies included): waiting for
     * it costs nothing. A look at /proc costs more than the kills on a host of thousands of
     * processes, several accounts ending in the same second, and takes the CPU the dying need:
     * only a few, growing apart, for what the killer cannot tell (the rest are zombies whose
     * parents are slow to reap them). */
    for (waited = 0; waited <= timeout_ms; waited += KILL_WAIT_MS) {
        /* A process of the uid may kill the killer before the killer kills it: start another. */
        if (child <= 0)
            child = start_killer(&k, stack, sizeof(stack));
        if (child > 0 && waitpid(child, &status, WNOHANG | __WCLONE) == child) {
            child = -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                break; /* nothing the uid may signal is left: the rest is root's to kill */
        }
        if (waited >= look_at) {
            if (count_except(uid, child) == 0)
                break;
            if (look_ms < LOOK_MAX_MS)
                look_ms *= 2;
            look_at = waited + look_ms;
        }
        nanosleep(&(struct timespec){0, KILL_WAIT_MS * 1000000L}, NULL);
    }
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, __WCLONE);
    }
    /* Processes that hold the uid only as effective or filesystem uid (kill(-1) as the uid does
     * not reach them): one by one, as root. */
    for (waited = 0; waited < 20 && (left = lbx_proc_for_uid(uid, kill_pid, &none)) > 0; waited++)
        nanosleep(&tick, NULL);
    return waited == 0 ? 0 : lbx_proc_for_uid(uid, NULL, NULL);
}

void lbx_proc_kill_uid_once(uid_t uid)
{
    char stack[16384] __attribute__((aligned(16)));
    struct killer k = {uid, 1};
    int status;
    pid_t child;

    if (uid == 0 || (child = start_killer(&k, stack, sizeof(stack))) <= 0)
        return;
    while (waitpid(child, &status, __WCLONE) < 0 && errno == EINTR)
        ;
}
