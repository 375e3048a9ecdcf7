/* The reaper's watcher thread: asks the broker for the grant's status (long-poll when
 * long_poll > 0, else a plain GET every poll_interval) and hands every answer to the event loop
 * through a pipe. A blocking HTTP call therefore never delays the expiry timer. While the broker
 * is away nothing is sent: the loop keeps the session to its token's exp, never longer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker_host.h"
#include "duration.h"
#include "http_client.h"
#include "log.h"
#include "reaper.h"

static void sleep_until(int64_t deadline_ms)
{
    int64_t left;
    struct timespec ts;

    while ((left = deadline_ms - lbx_monotonic_ms()) > 0) {
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000L;
        nanosleep(&ts, NULL);
    }
}

static int send_msg(int fd, int status, int64_t access_end)
{
    struct lbx_watch_msg m = {status, access_end};
    ssize_t n;

    while ((n = write(fd, &m, sizeof(m))) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof(m) ? 0 : -1;
}

static void flush_spool(const struct lbx_host_config *cfg, struct lbx_http_conn *conn)
{
    int dropped = 0, left = lbx_broker_spool_flush(cfg, conn, cfg->timeout * 1000, &dropped);

    if (dropped > 0)
        lbx_warn_f("%d spooled session report(s) refused by the broker, dropped", dropped);
    if (left > 0)
        lbx_debug_f("%d session report(s) still spooled", left);
}

static void *watch(void *arg)
{
    struct lbx_watch *w = arg;
    const struct lbx_host_config *cfg = w->cfg;
    enum lbx_grant_status st;
    struct lbx_error e = {0};
    int64_t started, access_end = 0;
    int away = 0, wait = (int)cfg->long_poll;
    lbx_err r;

    /* Reports left by sessions that ended while the broker was away go first: a long-poll
     * below may hold the connection for long_poll seconds before the next chance. */
    flush_spool(cfg, w->conn);
    for (;;) {
        started = lbx_monotonic_ms();
        r = lbx_broker_grant_status(cfg, w->conn, w->grant_id, wait, (wait + cfg->timeout) * 1000,
                                    &st, &access_end, &e);
        if (r == LBX_ERR_NOT_FOUND || r == LBX_ERR_FORBIDDEN) {
            /* The broker answered, and it does not know this grant for us: end it. */
            lbx_warn_f("grant %s: %s", w->grant_id, e.detail);
            send_msg(w->fd, LBX_GRANT_REVOKED, 0);
            break;
        }
        if (r != LBX_OK) {
            if (!away)
                lbx_warn_f("broker away (%s); session kept to its token's expiry", e.detail);
            away = 1;
        } else {
            if (away)
                lbx_info_f("broker back");
            away = 0;
            if (send_msg(w->fd, (int)st, access_end) != 0 || st != LBX_GRANT_ACTIVE)
                break;
            flush_spool(cfg, w->conn);
        }
        sleep_until(started + cfg->poll_interval * 1000);
    }
    lbx_http_conn_free(w->conn);
    w->conn = NULL;
    return NULL;
}

int lbx_watch_start(struct lbx_watch *w)
{
    return pthread_create(&w->thread, NULL, watch, w);
}
