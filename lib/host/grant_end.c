#include "grant_end.h"

#include <time.h>

int64_t lbx_grant_end_ms(int64_t exp_s)
{
    return exp_s * 1000 - LBX_END_LEAD_MS;
}

/* Not time(): that reads the coarse clock, which can still say "a second ago" when a timer for
 * the moment has already fired. */
int lbx_grant_over(int64_t exp_s)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= lbx_grant_end_ms(exp_s);
}
