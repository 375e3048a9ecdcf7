/* The host's runtime directory (host.conf run_dir), one layout for every host program:
 *   <run_dir>/                          0755 root
 *   <run_dir>/pending/                  0700 root  the token an account phase accepted, for the
 *                                                  session phase of that connection (handoff.h)
 *   <run_dir>/sessions/                 0711 root  session records and their views
 *                                                  (session_record.h): users may open their
 *                                                  own session's view by name, list none
 *   <run_dir>/broker.tls-session        0600 root  the TLS session kept for the broker
 *                                                  (tls_resume.h)
 * Every path under run_dir is built here and nowhere else. */
#ifndef LBX_RUN_DIR_H
#define LBX_RUN_DIR_H

#include <stddef.h>

#include "host_config.h"
#include "lbx_err.h"

enum lbx_run_path { LBX_RUN_PENDING, LBX_RUN_SESSIONS, LBX_RUN_TLS_SESSION };

/* "<run_dir>/<which>" into buf; NULL (buf "") when it does not fit. */
const char *lbx_run_path(const struct lbx_host_config *cfg, enum lbx_run_path which, char *buf,
                         size_t len);
/* Makes run_dir and its directories (root, the module), or checks them when they exist:
 * root-owned, their mode exactly as above, not symbolic links. */
lbx_err lbx_run_dir_make(const struct lbx_host_config *cfg, struct lbx_error *e);

#endif
