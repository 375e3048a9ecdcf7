/* gone [-e EARLY] SECS UID:AT ... — run as root inside the systemd lane's container: watches
 * several accounts' ends at once and prints, for each UID, one line:
 *   UID LAG STOPPED
 *              LAG: ms from AT to the end of the first look at or after AT - EARLY (negative:
 *              the account was gone before AT) that found no live
 *              (non-zombie) process with UID as real, effective, saved or filesystem uid:
 *              an upper bound of the teardown's lag. STOPPED: the same for the first look
 *              that found none that could still run an instruction of its own (every one
 *              gone, a zombie, exiting, or with SIGKILL pending): what is left then is the
 *              kernel tearing processes down
 *   UID early  a look before AT - EARLY found nothing of UID running any more (EARLY: how
 *              long before AT an end may begin, the reaper's lead before exp; default 0)
 *   UID never  something of UID still ran SECS seconds after AT
 *   UID none   AT is "none": that end never came (the test could not start the session)
 * AT is the moment the end is due, in ms since the epoch, or the path of a file that will
 * hold it (written when the end is asked for). Looks start half a second before the first
 * known AT - EARLY, one pass over /proc each 10 ms (a stat per process): one process that forks
 * nothing, so that the watching takes little from the teardowns it measures on a small
 * machine (ps in a shell loop, one per account, did). */
#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_WATCHED 64
#define LEAD_MS 500
#define LOOK_EVERY_MS 10
#define NOT_YET LLONG_MIN

struct watched {
    unsigned uid;
    const char *at;  /* digits, "none", or a path */
    long long at_ms; /* -1 while unknown */
    int alive, running, done;
    long long stopped; /* ms from at_ms to the first look that found nothing running */
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* The due time of w: -1 while its file is not written, -2 for "none". */
static long long due(const struct watched *w)
{
    char buf[64] = "";
    FILE *f;

    if (strcmp(w->at, "none") == 0)
        return -2;
    if (w->at[0] != '/')
        return atoll(w->at);
    if ((f = fopen(w->at, "re")) == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) == NULL)
        buf[0] = '\0';
    fclose(f);
    if (strncmp(buf, "none", 4) == 0)
        return -2;
    return buf[0] >= '0' && buf[0] <= '9' ? atoll(buf) : -1;
}

/* 1 when the kernel has it exiting (PF_EXITING in the flags of /proc/NAME/stat, field 9). */
static int exiting(const char *name)
{
    char path[300], buf[1024], *p;
    unsigned long flags = 0;
    int field;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%s/stat", name);
    if ((f = fopen(path, "re")) == NULL)
        return 1; /* gone meanwhile */
    p = fgets(buf, sizeof(buf), f);
    fclose(f);
    if (p == NULL || (p = strrchr(buf, ')')) == NULL)
        return 1;
    for (field = 2; field < 9 && p != NULL; field++)
        if ((p = strchr(p + 1, ' ')) == NULL)
            return 0;
    return sscanf(p + 1, "%lu", &flags) == 1 && (flags & 0x4) != 0;
}

/* 2 when the process of /proc/NAME holds uid as real, effective, saved or filesystem uid and
 * may still run, 1 when it holds it but is dying (SIGKILL pending or exiting), 0 otherwise
 * (another uid, a zombie, gone). */
static int holds(const char *name, unsigned uid)
{
    char path[300], line[256];
    unsigned ids[4];
    unsigned long long pending = 0, shared = 0;
    int zombie = 0, got_uid = 0, k, mine = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%s/status", name);
    if ((f = fopen(path, "re")) == NULL)
        return 0; /* gone meanwhile */
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "State:", 6) == 0)
            zombie = line[6 + strspn(line + 6, " \t")] == 'Z' ||
                     line[6 + strspn(line + 6, " \t")] == 'X';
        else if (strncmp(line, "Uid:", 4) == 0)
            got_uid = sscanf(line + 4, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) == 4;
        else if (strncmp(line, "SigPnd:", 7) == 0)
            pending = strtoull(line + 7, NULL, 16);
        else if (strncmp(line, "ShdPnd:", 7) == 0)
            shared = strtoull(line + 7, NULL, 16);
    }
    fclose(f);
    for (k = 0; got_uid && !zombie && k < 4; k++)
        if (ids[k] == uid)
            mine = 1;
    if (!mine)
        return 0;
    if (((pending | shared) & (1ULL << (SIGKILL - 1))) != 0 || exiting(name))
        return 1;
    return 2;
}

/* Marks w[i].alive for every watched uid some live process holds. One fstatat per process
 * (its /proc directory belongs to its effective uid, or to root when it is not dumpable); its
 * status is read only for an owner that is watched or root. */
static void look(struct watched *w, int n)
{
    struct dirent *d;
    struct stat st;
    int i, fd, h;
    DIR *proc;

    for (i = 0; i < n; i++)
        w[i].alive = w[i].running = 0;
    if ((proc = opendir("/proc")) == NULL)
        return;
    fd = dirfd(proc);
    while ((d = readdir(proc)) != NULL) {
        if (d->d_name[0] < '1' || d->d_name[0] > '9' || fstatat(fd, d->d_name, &st, 0) != 0)
            continue;
        for (i = 0; i < n; i++)
            if (!w[i].running && (st.st_uid == 0 || st.st_uid == w[i].uid) &&
                (h = holds(d->d_name, w[i].uid)) > 0) {
                w[i].alive = 1;
                w[i].running = h == 2;
            }
    }
    closedir(proc);
}

int main(int argc, char **argv)
{
    struct watched w[MAX_WATCHED];
    long long t, first, secs, early = 0;
    int n, i, left;
    char *colon;

    if (argc > 2 && strcmp(argv[1], "-e") == 0) {
        early = atoll(argv[2]);
        argc -= 2;
        argv += 2;
    }
    n = argc - 2;
    if (argc < 3 || n > MAX_WATCHED || (secs = atoll(argv[1])) <= 0) {
        fprintf(stderr, "usage: gone [-e EARLY_MS] SECS UID:AT ...\n");
        return 2;
    }
    for (i = 0; i < n; i++) {
        if ((colon = strchr(argv[i + 2], ':')) == NULL) {
            fprintf(stderr, "gone: %s is not UID:AT\n", argv[i + 2]);
            return 2;
        }
        w[i] = (struct watched){
            (unsigned)strtoul(argv[i + 2], NULL, 10), colon + 1, -1, 0, 0, 0, NOT_YET};
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The looks run only on a CPU nothing else wants: they take nothing from the teardowns
     * they measure, and a look that waits for the CPU makes a lag larger, never smaller. */
    sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){0});
    for (left = n; left > 0;) {
        first = -1;
        for (i = 0; i < n; i++) {
            if (w[i].done)
                continue;
            if ((w[i].at_ms = due(&w[i])) == -2) {
                printf("%u none\n", w[i].uid);
                w[i].done = 1;
                left--;
            } else if (w[i].at_ms >= 0 && (first < 0 || w[i].at_ms < first))
                first = w[i].at_ms;
        }
        if (first < 0 || now_ms() < first - early - LEAD_MS) {
            sleep_ms(LOOK_EVERY_MS * 5);
            continue;
        }
        look(w, n);
        t = now_ms();
        for (i = 0; i < n; i++) {
            if (w[i].done || w[i].at_ms < 0)
                continue;
            if (t >= w[i].at_ms - early && !w[i].running && w[i].stopped == NOT_YET)
                w[i].stopped = t - w[i].at_ms;
            if (t < w[i].at_ms - early) {
                if (w[i].alive)
                    continue;
                printf("%u early\n", w[i].uid);
            } else if (!w[i].alive)
                printf("%u %lld %lld\n", w[i].uid, t - w[i].at_ms, w[i].stopped);
            else if (t > w[i].at_ms + secs * 1000)
                printf("%u never\n", w[i].uid);
            else
                continue;
            w[i].done = 1;
            left--;
        }
        sleep_ms(LOOK_EVERY_MS);
    }
    return 0;
}
