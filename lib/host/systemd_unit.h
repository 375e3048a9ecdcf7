/* What the host gate asks of systemd where it is the init system, over its D-Bus API (root's
 * private socket first, so that a host without dbus-daemon works too):
 *   - the reaper leaves the session scope sshd's monitor is in (pam_systemd put it there) for
 *     a transient scope of its own, so that nothing that ends the session scope ends the reaper;
 *   - after a uid sweep killed a support user's manager (user@UID.service), its failed state is
 *     cleared: the host is not reported "degraded" for a session lockbox ended on purpose. */
#ifndef LBX_SYSTEMD_UNIT_H
#define LBX_SYSTEMD_UNIT_H

#include <sys/types.h>

#include "lbx_err.h"

/* 1 when systemd is the running init system (/run/systemd/system exists). */
int lbx_systemd_booted(void);

/* Moves the calling process into a new transient scope `unit` in system.slice and waits (up to
 * timeout_ms) until /proc/self/cgroup says it is there. */
lbx_err lbx_systemd_enter_scope(const char *unit, const char *description, int timeout_ms,
                                struct lbx_error *e);

/* Waits up to timeout_ms for user@UID.service to stop after its processes were killed, and
 * resets it when it failed. Quiet when the unit is not loaded. */
lbx_err lbx_systemd_forget_user_manager(uid_t uid, int timeout_ms, struct lbx_error *e);

#endif
