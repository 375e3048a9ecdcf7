/* Session recordings. The files are created by the hook while it runs with the recording
 * group (setgid) in a directory only root and that group can enter, so the user can neither
 * find nor change them; the descriptor is close-on-exec and the user's own programs run
 * without the group. Interactive sessions are asciicast v2; commands are JSON lines. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "json.h"
#include "log.h"

double lbx_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lbx_recording_open(const struct lbx_hook *h, const char *ext, struct lbx_recording *rc)
{
    char path[4096], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int fd;

    memset(rc, 0, sizeof(*rc));
    rc->started = lbx_now();
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s-%s-%s-%ld.%s", h->cfg.record_dir, stamp,
                         h->rec.user, h->rec.sid, (long)getpid(), ext) >= sizeof(path))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    /* The recording group reads recordings; the hook's umask (077) would leave them 0600. */
    if (fchmod(fd, 0640) != 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    if ((rc->f = fdopen(fd, "w")) == NULL) {
        close(fd);
        return -1;
    }
    return 0;
}

static void write_json_line(struct lbx_recording *rc, json_t *v)
{
    char *text;

    if (v == NULL || rc->f == NULL)
        return;
    text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        fputs(text, rc->f);
        fputc('\n', rc->f);
        fflush(rc->f);
        free(text);
    }
    json_decref(v);
}

int lbx_cast_header(struct lbx_recording *rc, const struct lbx_hook *h, int cols, int rows)
{
    const char *term = getenv("TERM");
    char title[512];
    json_t *env;

    snprintf(title, sizeof(title), "lockbox %s: %s, grant %s", h->rec.sid, h->rec.user,
             h->rec.grant_id);
    env = json_pack("{s:s, s:s}", "SHELL", h->shell, "TERM", term ? term : "");
    write_json_line(rc, json_pack("{s:i, s:i, s:i, s:I, s:s, s:o}", "version", 2, "width",
                                  cols > 0 ? cols : 80, "height", rows > 0 ? rows : 24, "timestamp",
                                  (json_int_t)rc->started, "title", title, "env",
                                  env ? env : json_object()));
    return rc->f != NULL && !ferror(rc->f) ? 0 : -1;
}

/* Valid UTF-8 copy of carry + data (bad bytes become U+FFFD); an incomplete sequence at the
 * end is kept in carry for the next chunk, since a read can split a character. */
static char *to_utf8(struct lbx_recording *rc, const char *data, size_t len, size_t *outlen)
{
    size_t total = rc->ncarry + len, i = 0, o = 0, n;
    unsigned char *in = malloc(total + 1), *out = malloc(total * 3 + 1);
    int incomplete;

    if (in == NULL || out == NULL) {
        free(in);
        free(out);
        return NULL;
    }
    memcpy(in, rc->carry, rc->ncarry);
    memcpy(in + rc->ncarry, data, len);
    rc->ncarry = 0;
    while (i < total) {
        n = lbx_utf8_seq_len(in + i, total - i, &incomplete);
        if (incomplete) { /* fewer than n (<= 4) bytes left: always fits the carry */
            rc->ncarry = total - i < sizeof(rc->carry) ? total - i : 0;
            memcpy(rc->carry, in + i, rc->ncarry);
            break;
        }
        if (n == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, in + i, n);
        o += n;
        i += n;
    }
    free(in);
    *outlen = o;
    return (char *)out;
}

void lbx_cast_event(struct lbx_recording *rc, const char *type, const char *data, size_t len)
{
    size_t n = 0;
    char *text;

    if (rc->f == NULL || (text = to_utf8(rc, data, len, &n)) == NULL)
        return;
    if (n > 0)
        write_json_line(rc, json_pack("[f, s, s%]", lbx_now() - rc->started, type, text, n));
    free(text);
}

void lbx_command_log(struct lbx_recording *rc, const struct lbx_hook *h, const char *event,
                     const uint64_t counts[3], int status)
{
    json_t *o = json_pack("{s:s, s:f, s:s, s:s, s:s, s:s}", "event", event, "time", lbx_now(),
                          "session", h->rec.sid, "user", h->rec.user, "grant", h->rec.grant_id,
                          "command", h->command ? h->command : "");

    if (o == NULL) /* a command line that is not UTF-8: keep the event, say so */
        o = json_pack("{s:s, s:f, s:s, s:s, s:s, s:s}", "event", event, "time", lbx_now(),
                      "session", h->rec.sid, "user", h->rec.user, "grant", h->rec.grant_id,
                      "command", "(not UTF-8)");
    if (o != NULL && counts != NULL) {
        json_object_set_new(o, "stdin_bytes", json_integer((json_int_t)counts[0]));
        json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)counts[1]));
        json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)counts[2]));
        json_object_set_new(o, "status", json_integer(status));
    }
    write_json_line(rc, o);
}

void lbx_recording_close(struct lbx_recording *rc)
{
    if (rc->f != NULL)
        fclose(rc->f);
    rc->f = NULL;
}
