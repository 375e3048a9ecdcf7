/* Wake pipes between workers: the parent makes one pipe per worker before forking; a worker
 * that committed a transition (a revoke, an approval, an end) writes one byte to every other
 * worker's pipe, and each worker's event loop, reading its own, re-checks its long-polls at
 * once (wake_local: waiters_wake_local) instead of at its next one-second re-read. Both ends are
 * non-blocking: a full pipe already holds a wake-up, and a worker that is being restarted
 * reads what was written meanwhile. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

lbx_err peer_wake_pipes(int n, int **wr, int **rd, struct lbx_error *e)
{
    int i, fds[2];

    *wr = calloc((size_t)n, sizeof(int));
    *rd = calloc((size_t)n, sizeof(int));
    if (*wr == NULL || *rd == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "wake pipes");
    for (i = 0; i < n; i++) {
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
            return lbx_error_set(e, LBX_ERR_SYSTEM, "wake pipe: %s", strerror(errno));
        (*rd)[i] = fds[0];
        (*wr)[i] = fds[1];
    }
    return LBX_OK;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct broker *b = arg;
    char buf[64];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;

    b->wake_local(b);
}

lbx_err peer_wake_start(struct broker *b, void (*wake_local)(struct broker *b), struct lbx_error *e)
{
    if (b->nworkers <= 1)
        return LBX_OK;
    b->wake_local = wake_local;
    if ((b->wake_ev = event_new(b->base, b->wake_rd, EV_READ | EV_PERSIST, on_wake, b)) == NULL ||
        event_add(b->wake_ev, NULL) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "wake pipe event");
    return LBX_OK;
}

void peer_wake_stop(struct broker *b)
{
    if (b->wake_ev != NULL)
        event_free(b->wake_ev);
    b->wake_ev = NULL;
}

void peer_wake_send(struct broker *b)
{
    int i;

    for (i = 0; i < b->nworkers; i++)
        if (i != b->worker && write(b->wake_wr[i], "w", 1) < 0 && errno != EAGAIN)
            lbx_warn_f("wake worker %d: %s", i, strerror(errno));
}
