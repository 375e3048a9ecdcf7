#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "proc.h"

#define CGROUP_MAX_PIDS 4096
#define CGROUP_FILE_MAX (256 * 1024)
#define KILL_RETRY_MS 50

const char *lbx_cgroup_kind_name(enum lbx_cgroup_kind kind)
{
    switch (kind) {
    case LBX_CGROUP_V2:
        return "v2";
    case LBX_CGROUP_FREEZER:
        return "freezer";
    case LBX_CGROUP_LOGIND:
        return "logind";
    default:
        return "none";
    }
}

enum lbx_cgroup_kind lbx_cgroup_kind_from_name(const char *name)
{
    if (name == NULL)
        return LBX_CGROUP_NONE;
    if (strcmp(name, "v2") == 0)
        return LBX_CGROUP_V2;
    if (strcmp(name, "freezer") == 0)
        return LBX_CGROUP_FREEZER;
    if (strcmp(name, "logind") == 0)
        return LBX_CGROUP_LOGIND;
    return LBX_CGROUP_NONE;
}

static int has_option(const char *list, const char *opt)
{
    size_t n = strlen(opt);
    const char *p = list;

    while ((p = strstr(p, opt)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static void keep_mount(char *dst, const char *mnt)
{
    /* mountinfo escapes blanks as \040: such a mount point is not one we write paths under. */
    if (dst[0] == '\0' && strchr(mnt, '\\') == NULL && strlen(mnt) < LBX_CGROUP_PATH_MAX)
        strcpy(dst, mnt);
}

lbx_err lbx_cgroup_parse_mountinfo(const char *text, struct lbx_cgroup_mounts *m)
{
    char line[2048], mnt[1024], fstype[64], super[1024], *dash;
    const char *p = text, *nl;
    size_t n;

    memset(m, 0, sizeof(*m));
    for (; *p != '\0'; p = nl ? nl + 1 : p + n) {
        nl = strchr(p, '\n');
        n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof(line))
            continue;
        memcpy(line, p, n);
        line[n] = '\0';
        /* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
        if ((dash = strstr(line, " - ")) == NULL ||
            sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
            sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
            continue;
        if (strcmp(fstype, "cgroup2") == 0)
            keep_mount(m->v2, mnt);
        else if (strcmp(fstype, "cgroup") == 0 && has_option(super, "freezer"))
            keep_mount(m->freezer, mnt);
    }
    return m->v2[0] || m->freezer[0] ? LBX_OK : LBX_ERR_NOT_FOUND;
}

lbx_err lbx_cgroup_find_mounts(struct lbx_cgroup_mounts *m, struct lbx_error *e)
{
    char *text = NULL;
    lbx_err r;

    if ((r = lbx_file_read("/proc/self/mountinfo", LBX_FILE_ANY, 1024 * 1024, &text, NULL, e)) !=
        LBX_OK)
        return r;
    r = lbx_cgroup_parse_mountinfo(text, m);
    free(text);
    if (r != LBX_OK)
        return lbx_error_set(e, r, "no cgroup2 or freezer hierarchy mounted");
    return LBX_OK;
}

lbx_err lbx_cgroup_parse_proc(const char *text, enum lbx_cgroup_kind kind, char *out, size_t len)
{
    const char *p = text, *nl, *c1, *c2;
    char ctrl[256];
    size_t n;

    for (; *p != '\0'; p = nl ? nl + 1 : p + n) {
        nl = strchr(p, '\n');
        n = nl ? (size_t)(nl - p) : strlen(p);
        /* "hierarchy-id:controllers:path" — the path may itself contain ':'. */
        if ((c1 = memchr(p, ':', n)) == NULL ||
            (c2 = memchr(c1 + 1, ':', n - (c1 + 1 - p))) == NULL)
            continue;
        if ((size_t)(c2 - c1 - 1) >= sizeof(ctrl))
            continue;
        memcpy(ctrl, c1 + 1, (size_t)(c2 - c1 - 1));
        ctrl[c2 - c1 - 1] = '\0';
        if (kind == LBX_CGROUP_FREEZER ? !has_option(ctrl, "freezer")
                                       : (ctrl[0] != '\0' || strncmp(p, "0:", 2) != 0))
            continue;
        n -= (size_t)(c2 + 1 - p);
        if (n == 0 || n >= len || c2[1] != '/')
            return LBX_ERR_SYSTEM;
        memcpy(out, c2 + 1, n);
        out[n] = '\0';
        return LBX_OK;
    }
    return LBX_ERR_NOT_FOUND;
}

lbx_err lbx_cgroup_of_pid(pid_t pid, enum lbx_cgroup_kind kind, char *out, size_t len)
{
    char path[64], *text = NULL;
    lbx_err r;

    snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
    if ((r = lbx_file_read(path, LBX_FILE_ANY, 64 * 1024, &text, NULL, NULL)) != LBX_OK)
        return r;
    r = lbx_cgroup_parse_proc(text, kind, out, len);
    free(text);
    return r;
}

static int logind_scope(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    return strncmp(base, "session-", 8) == 0 && n > 14 && strcmp(base + n - 6, ".scope") == 0;
}

static lbx_err plan_logind(const struct lbx_cgroup_mounts *m, struct lbx_cgroup *cg)
{
    struct stat st;

    if (m->v2[0] == '\0' || stat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode))
        return LBX_ERR_NOT_FOUND;
    if (lbx_cgroup_of_pid(getpid(), LBX_CGROUP_LOGIND, cg->path, sizeof(cg->path)) != LBX_OK ||
        !logind_scope(cg->path))
        return LBX_ERR_NOT_FOUND;
    cg->kind = LBX_CGROUP_LOGIND;
    strcpy(cg->mount, m->v2);
    return LBX_OK;
}

lbx_err lbx_cgroup_plan(const char *mode, const char *name, const char *sid, struct lbx_cgroup *cg,
                        struct lbx_error *e)
{
    struct lbx_cgroup_mounts m;
    const char *mount = NULL;
    lbx_err r;

    memset(cg, 0, sizeof(*cg));
    if ((r = lbx_cgroup_find_mounts(&m, e)) != LBX_OK)
        return r;
    if (mode == NULL || strcmp(mode, "auto") == 0) {
        if (plan_logind(&m, cg) == LBX_OK)
            return LBX_OK;
        cg->kind = m.v2[0] ? LBX_CGROUP_V2 : LBX_CGROUP_FREEZER;
    } else {
        cg->kind = lbx_cgroup_kind_from_name(mode);
    }
    if (cg->kind == LBX_CGROUP_V2)
        mount = m.v2;
    else if (cg->kind == LBX_CGROUP_FREEZER)
        mount = m.freezer;
    if (mount == NULL || mount[0] == '\0')
        return lbx_error_set(e, LBX_ERR_CONFIG, "cgroup mode '%s' unavailable on this host",
                             mode ? mode : "auto");
    strcpy(cg->mount, mount);
    if ((size_t)snprintf(cg->path, sizeof(cg->path), "/%s/%s", name, sid) >= sizeof(cg->path))
        return lbx_error_set(e, LBX_ERR_ARG, "cgroup path too long");
    return LBX_OK;
}

static int full_path(char *out, size_t len, const struct lbx_cgroup *cg, const char *path,
                     const char *file)
{
    int n = snprintf(out, len, "%s%s%s%s", cg->mount, path, file ? "/" : "", file ? file : "");

    return n > 0 && (size_t)n < len;
}

static lbx_err write_file(const struct lbx_cgroup *cg, const char *path, const char *file,
                          const char *value, struct lbx_error *e)
{
    char p[LBX_CGROUP_PATH_MAX * 2 + 32];
    ssize_t n;
    int fd;

    if (!full_path(p, sizeof(p), cg, path, file))
        return lbx_error_set(e, LBX_ERR_ARG, "cgroup path too long");
    if ((fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "%s: %s", p, strerror(errno));
    n = write(fd, value, strlen(value));
    if (n < 0) {
        lbx_error_set(e, LBX_ERR_SYSTEM, "%s: %s", p, strerror(errno));
        close(fd);
        return LBX_ERR_SYSTEM;
    }
    close(fd);
    return LBX_OK;
}

lbx_err lbx_cgroup_create(const struct lbx_cgroup *cg, struct lbx_error *e)
{
    char p[LBX_CGROUP_PATH_MAX * 2], *slash;

    if (cg->kind == LBX_CGROUP_LOGIND)
        return LBX_OK;
    if (!full_path(p, sizeof(p), cg, cg->path, NULL) || (slash = strrchr(p, '/')) == NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "cgroup path too long");
    *slash = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "mkdir %s: %s", p, strerror(errno));
    *slash = '/';
    if (mkdir(p, 0755) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "mkdir %s: %s", p, strerror(errno));
    return LBX_OK;
}

lbx_err lbx_cgroup_attach_path(const struct lbx_cgroup *cg, const char *path, pid_t pid,
                               struct lbx_error *e)
{
    char v[32];

    snprintf(v, sizeof(v), "%ld\n", (long)pid);
    return write_file(cg, path, "cgroup.procs", v, e);
}

lbx_err lbx_cgroup_attach(const struct lbx_cgroup *cg, pid_t pid, struct lbx_error *e)
{
    return lbx_cgroup_attach_path(cg, cg->path, pid, e);
}

int lbx_cgroup_procs(const struct lbx_cgroup *cg, pid_t *pids, int max)
{
    char p[LBX_CGROUP_PATH_MAX * 2 + 32], *text = NULL, *line, *save = NULL;
    int count = 0;
    char st;
    long pid;

    if (!full_path(p, sizeof(p), cg, cg->path, "cgroup.procs") ||
        lbx_file_read(p, LBX_FILE_ANY, CGROUP_FILE_MAX, &text, NULL, NULL) != LBX_OK)
        return -1;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        pid = strtol(line, NULL, 10);
        st = lbx_proc_state((pid_t)pid);
        if (pid <= 0 || st == 0 || st == 'Z' || st == 'X')
            continue;
        if (pids != NULL && count < max)
            pids[count] = (pid_t)pid;
        count++;
    }
    free(text);
    return count;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

#define EMPTY_LOOK_MS 10

static long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until no process is left in cg, looking at least every EMPTY_LOOK_MS. A v2 cgroup also says
 * when it empties: a change of its cgroup.events ("populated 0") wakes a poll for POLLPRI, so
 * the last exit is seen when it happens, not up to EMPTY_LOOK_MS later. Where there is no such
 * file (the v1 freezer and name=systemd hierarchies) it only looks. */
static int wait_empty(const struct lbx_cgroup *cg, int timeout_ms)
{
    char p[LBX_CGROUP_PATH_MAX * 2 + 32], events[256];
    long deadline = monotonic_ms() + timeout_ms, left;
    struct pollfd pf = {-1, POLLPRI, 0};
    int empty;

    if (cg->kind != LBX_CGROUP_FREEZER && full_path(p, sizeof(p), cg, cg->path, "cgroup.events"))
        pf.fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    for (;;) {
        /* read before looking: the poll then wakes for any change after this point */
        if (pf.fd >= 0 && pread(pf.fd, events, sizeof(events), 0) < 0) {
            close(pf.fd);
            pf.fd = -1;
        }
        if ((empty = lbx_cgroup_procs(cg, NULL, 0) <= 0) || (left = deadline - monotonic_ms()) <= 0)
            break;
        left = left < EMPTY_LOOK_MS ? left : EMPTY_LOOK_MS;
        if (pf.fd < 0 || poll(&pf, 1, (int)left) < 0)
            sleep_ms(left);
    }
    if (pf.fd >= 0)
        close(pf.fd);
    return empty;
}

static int is_frozen(const struct lbx_cgroup *cg)
{
    char p[LBX_CGROUP_PATH_MAX * 2 + 32], *text = NULL;
    int frozen = 0;

    if (cg->kind == LBX_CGROUP_FREEZER) {
        if (full_path(p, sizeof(p), cg, cg->path, "freezer.state") &&
            lbx_file_read(p, LBX_FILE_ANY, 4096, &text, NULL, NULL) == LBX_OK)
            frozen = strncmp(text, "FROZEN", 6) == 0;
    } else if (full_path(p, sizeof(p), cg, cg->path, "cgroup.events") &&
               lbx_file_read(p, LBX_FILE_ANY, 4096, &text, NULL, NULL) == LBX_OK) {
        frozen = strstr(text, "frozen 1") != NULL;
    }
    free(text);
    return frozen;
}

/* Where there is no cgroup.kill: freeze so nothing can fork, SIGKILL every task, thaw so the
 * kills are delivered. Rounds repeat in case a task slipped in while the freeze settled. */
static lbx_err freeze_and_kill(const struct lbx_cgroup *cg, struct lbx_error *e)
{
    int v1 = cg->kind == LBX_CGROUP_FREEZER, n, i, round, waited;
    const char *file = v1 ? "freezer.state" : "cgroup.freeze";
    pid_t pids[CGROUP_MAX_PIDS];
    lbx_err r;

    for (round = 0; round < 5; round++) {
        if ((r = write_file(cg, cg->path, file, v1 ? "FROZEN" : "1", e)) != LBX_OK)
            return r;
        for (waited = 0; waited < 1000 && !is_frozen(cg); waited += 5)
            sleep_ms(5);
        n = lbx_cgroup_procs(cg, pids, CGROUP_MAX_PIDS);
        for (i = 0; i < n && i < CGROUP_MAX_PIDS; i++)
            kill(pids[i], SIGKILL);
        if ((r = write_file(cg, cg->path, file, v1 ? "THAWED" : "0", e)) != LBX_OK)
            return r;
        if (n <= 0 || wait_empty(cg, 200))
            return LBX_OK;
    }
    return LBX_OK;
}

lbx_err lbx_cgroup_kill(const struct lbx_cgroup *cg, int timeout_ms, struct lbx_error *e)
{
    char p[LBX_CGROUP_PATH_MAX * 2 + 32] = "";
    int waited;
    lbx_err r;

    if (lbx_cgroup_procs(cg, NULL, 0) < 0)
        return LBX_OK; /* gone: nothing left to kill */
    if (cg->kind != LBX_CGROUP_FREEZER && full_path(p, sizeof(p), cg, cg->path, "cgroup.kill") &&
        access(p, W_OK) == 0)
        r = write_file(cg, cg->path, "cgroup.kill", "1", e);
    else
        r = freeze_and_kill(cg, e);
    if (r != LBX_OK)
        return r;
    /* One pass kills what is in the cgroup and what forks there meanwhile, not a process moved
     * in after it: kill again until the cgroup stays empty. */
    for (waited = 0; waited < timeout_ms; waited += KILL_RETRY_MS) {
        if (wait_empty(cg, KILL_RETRY_MS))
            return LBX_OK;
        if (cg->kind != LBX_CGROUP_FREEZER && access(p, W_OK) == 0)
            write_file(cg, cg->path, "cgroup.kill", "1", NULL);
        else
            freeze_and_kill(cg, NULL);
    }
    if (wait_empty(cg, 0))
        return LBX_OK;
    return lbx_error_set(e, LBX_ERR_SYSTEM, "%s%s: processes left after kill", cg->mount, cg->path);
}

static int kept(pid_t pid, const pid_t *keep, int nkeep)
{
    int i;

    for (i = 0; i < nkeep; i++)
        if (keep[i] == pid)
            return 1;
    return 0;
}

/* A caller inside cg cannot freeze it (it would freeze itself). */
static int caller_inside(const struct lbx_cgroup *cg)
{
    char mine[LBX_CGROUP_PATH_MAX];
    size_t n = strlen(cg->path);

    if (lbx_cgroup_of_pid(getpid(), cg->kind, mine, sizeof(mine)) != LBX_OK)
        return 1;
    return strncmp(mine, cg->path, n) == 0 && (mine[n] == '\0' || mine[n] == '/');
}

/* One pass: SIGKILL every live process of cg that is not kept; returns how many were. */
static int kill_unkept(const struct lbx_cgroup *cg, const pid_t *keep, int nkeep)
{
    pid_t pids[CGROUP_MAX_PIDS];
    int n = lbx_cgroup_procs(cg, pids, CGROUP_MAX_PIDS), i, hit = 0;

    for (i = 0; i < n && i < CGROUP_MAX_PIDS; i++)
        if (!kept(pids[i], keep, nkeep)) {
            kill(pids[i], SIGKILL);
            hit++;
        }
    return n > CGROUP_MAX_PIDS ? hit + 1 : hit;
}

lbx_err lbx_cgroup_kill_except(const struct lbx_cgroup *cg, const pid_t *keep, int nkeep,
                               int timeout_ms, struct lbx_error *e)
{
    int freeze = !caller_inside(cg);
    const char *file = cg->kind == LBX_CGROUP_FREEZER ? "freezer.state" : "cgroup.freeze";
    const char *on = cg->kind == LBX_CGROUP_FREEZER ? "FROZEN" : "1";
    const char *off = cg->kind == LBX_CGROUP_FREEZER ? "THAWED" : "0";
    int waited, settle, hit;

    for (waited = 0; waited <= timeout_ms; waited += 10) {
        if (lbx_cgroup_procs(cg, NULL, 0) < 0)
            return LBX_OK; /* gone */
        /* Frozen, nothing in cg forks between reading its list and the kills. */
        if (freeze && write_file(cg, cg->path, file, on, NULL) == LBX_OK)
            for (settle = 0; settle < 200 && !is_frozen(cg); settle += 2)
                sleep_ms(2);
        hit = kill_unkept(cg, keep, nkeep);
        if (freeze)
            write_file(cg, cg->path, file, off, NULL);
        if (hit == 0)
            return LBX_OK;
        sleep_ms(10);
    }
    return lbx_error_set(e, LBX_ERR_SYSTEM, "%s%s: processes left after kill", cg->mount, cg->path);
}

lbx_err lbx_cgroup_remove(const struct lbx_cgroup *cg, struct lbx_error *e)
{
    char p[LBX_CGROUP_PATH_MAX * 2];
    int tries;

    if (cg->kind == LBX_CGROUP_LOGIND || cg->kind == LBX_CGROUP_NONE)
        return LBX_OK;
    if (!full_path(p, sizeof(p), cg, cg->path, NULL))
        return lbx_error_set(e, LBX_ERR_ARG, "cgroup path too long");
    /* A just-killed cgroup can stay busy for a moment while the last exits are accounted. */
    for (tries = 0; tries < 50; tries++) {
        if (rmdir(p) == 0 || errno == ENOENT)
            return LBX_OK;
        if (errno != EBUSY)
            break;
        sleep_ms(10);
    }
    return lbx_error_set(e, LBX_ERR_SYSTEM, "rmdir %s: %s", p, strerror(errno));
}
