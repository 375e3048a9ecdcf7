/* Commands and subsystems without a pty (ssh host cmd, sftp, scp): nothing of ours on stdout,
 * the bytes in both directions passed through untouched, the command line and byte counts
 * written to the recording directory. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "hook.h"

#define RELAY_BUF 65536

enum { IN, OUT, ERR };

struct relay {
    int src[3], dst[3]; /* IN: our stdin -> child; OUT/ERR: child -> our stdout/stderr */
    uint64_t bytes[3];
};

static void close_stream(struct relay *r, int i)
{
    if (r->src[i] >= 0)
        close(r->src[i]);
    r->src[i] = -1;
    /* The child sees EOF on its stdin only when we close the pipe's write end. */
    if (i == IN && r->dst[IN] >= 0) {
        close(r->dst[IN]);
        r->dst[IN] = -1;
    }
}

static void pump(struct relay *r, int i, char *buf)
{
    ssize_t n = read(r->src[i], buf, RELAY_BUF);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0 || lbx_write_all(r->dst[i], buf, (size_t)n) != LBX_OK) {
        close_stream(r, i);
        return;
    }
    r->bytes[i] += (uint64_t)n;
}

static void relay_loop(struct relay *r)
{
    static char buf[RELAY_BUF];
    struct pollfd p[3];
    int i, open_streams;

    for (;;) {
        open_streams = 0;
        for (i = 0; i < 3; i++) {
            p[i].fd = r->src[i];
            p[i].events = POLLIN;
            p[i].revents = 0;
            open_streams += r->src[i] >= 0 && i != IN;
        }
        if (open_streams == 0)
            return; /* the command closed stdout and stderr: it is done with us */
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (i = 0; i < 3; i++)
            if (r->src[i] >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                pump(r, i, buf);
    }
}

static int start_child(struct lbx_hook *h, struct relay *r, pid_t *pid)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rc;

    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        rc = errno;
    else
        rc = lbx_spawn_user(h, (int[3]){in[0], out[1], err[1]}, pid);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        errno = rc;
        return -1;
    }
    r->src[IN] = STDIN_FILENO;
    r->dst[IN] = in[1];
    r->src[OUT] = out[0];
    r->dst[OUT] = STDOUT_FILENO;
    r->src[ERR] = err[0];
    r->dst[ERR] = STDERR_FILENO;
    return 0;
}

int lbx_pipe_session(struct lbx_hook *h)
{
    struct lbx_recording rc;
    struct relay r = {{-1, -1, -1}, {-1, -1, -1}, {0, 0, 0}};
    int status = 0, i;
    pid_t pid;

    if (lbx_recording_open(h, "json", &rc) != 0) {
        lbx_hook_say("cannot record this session (%s); refusing", h->cfg.record_dir);
        return 1;
    }
    lbx_command_log(&rc, h, "start", NULL, 0);
    if (start_child(h, &r, &pid) != 0) {
        lbx_hook_say("cannot start the command: %s", strerror(errno));
        lbx_recording_close(&rc);
        return 1;
    }
    relay_loop(&r);
    for (i = 0; i < 3; i++)
        close_stream(&r, i);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lbx_command_log(&rc, h, "end", r.bytes, status);
    lbx_recording_close(&rc);
    return status;
}
