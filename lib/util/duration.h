#ifndef LBX_DURATION_H
#define LBX_DURATION_H

#include <stdint.h>

#include "lbx_err.h"

/* "90" (seconds), "45s", "30m", "4h", "2d", "1h30m". Refuses negatives, overflow, empty parts
 * and anything over 10 years. */
lbx_err lbx_duration_parse(const char *s, int64_t *seconds);
/* "4h", "1h30m", "45s" — for messages. */
void lbx_duration_format(int64_t seconds, char *buf, unsigned buflen);
/* Milliseconds on CLOCK_MONOTONIC: what every deadline and wait is measured in. */
int64_t lbx_monotonic_ms(void);

#endif
