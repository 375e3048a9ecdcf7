/* lockbox-reaper: one root process per guarded session. It holds the session record, ends the
 * session at the token's exp or on revocation, and reports the end. Split by concern:
 *   lockbox-reaper.c  arguments, start-up checks, the event loop (timerfd, watcher, liveness)
 *   grant_watch.c     the thread that asks the broker about the grant and flushes the spool
 *   teardown.c        ending the session (lib/host/session_end.c) and the reports to the broker */
#ifndef LBX_REAPER_H
#define LBX_REAPER_H

#include <pthread.h>
#include <stdint.h>

#include "host_config.h"
#include "session_record.h"

/* What the watcher thread tells the loop, one message per write on its pipe. */
struct lbx_watch_msg {
    int status; /* enum lbx_grant_status */
    int64_t access_end;
};

struct lbx_watch {
    const struct lbx_host_config *cfg;
    struct lbx_http_conn *conn; /* kept between its calls; the thread frees it (NULL: fresh ones) */
    char grant_id[128];
    int fd; /* write end of the pipe to the loop */
    pthread_t thread;
};

/* Starts the watcher; it writes a message whenever the broker answers, and stops after a
 * non-active answer. Broker outages are logged and retried every poll_interval. */
int lbx_watch_start(struct lbx_watch *w);

struct lbx_reaper {
    struct lbx_host_config cfg;
    struct lbx_session_record rec;
    char sessions_dir[4096];
    gid_t view_gid;
};

/* Ends the session for `reason` ("expired", "revoked", "exited", "error") unless sshd's close
 * has claimed its end first (lib/host/session_end.h). */
void lbx_teardown(struct lbx_reaper *rp, const char *reason);
/* Reports a session event, spooling it while the broker is away. conn: see broker_host.h. */
void lbx_reaper_report(struct lbx_reaper *rp, struct lbx_http_conn *conn, const char *event,
                       const char *reason);

#endif
