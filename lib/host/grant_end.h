/* When a grant ends on this host. Its own file: the setgid hook needs it and must not link the
 * token code (libcrypto). */
#ifndef LBX_GRANT_END_H
#define LBX_GRANT_END_H

#include <stdint.h>

/* The host ends a grant's access this long before its exp: ending a few thousand processes
 * takes a small host up to two seconds (the kernel's own exit work: about 1 900 processes of
 * five accounts ending at once took a 2-core virtual machine 1.3-1.9 s), and no session may
 * outlive its grant by more than a second. From then on the grant is over for every program of
 * the host: the reaper begins the end, the module refuses logins, the hook refuses to start. */
#define LBX_END_LEAD_MS 1500

/* 1 when a grant whose exp is exp_s (epoch seconds) is over on this host (LBX_END_LEAD_MS
 * before exp, by the real-time clock). */
int lbx_grant_over(int64_t exp_s);
/* When that is, in ms since the epoch. */
int64_t lbx_grant_end_ms(int64_t exp_s);

#endif
