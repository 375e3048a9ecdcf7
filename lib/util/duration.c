#include "duration.h"

#include <stdio.h>
#include <time.h>

#define DURATION_MAX_SECONDS (10LL * 366 * 24 * 3600)

lbx_err lbx_duration_parse(const char *s, int64_t *seconds)
{
    int64_t total = 0, n, unit;
    int digits;

    *seconds = 0;
    if (s == NULL || *s == '\0')
        return LBX_ERR_ARG;
    while (*s != '\0') {
        n = 0;
        digits = 0;
        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (*s++ - '0');
            if (n > DURATION_MAX_SECONDS)
                return LBX_ERR_ARG;
            digits++;
        }
        if (digits == 0)
            return LBX_ERR_ARG;
        switch (*s) {
        case '\0':
            unit = 1;
            break;
        case 's':
            unit = 1;
            s++;
            break;
        case 'm':
            unit = 60;
            s++;
            break;
        case 'h':
            unit = 3600;
            s++;
            break;
        case 'd':
            unit = 86400;
            s++;
            break;
        default:
            return LBX_ERR_ARG;
        }
        total += n * unit;
        if (total > DURATION_MAX_SECONDS)
            return LBX_ERR_ARG;
    }
    *seconds = total;
    return LBX_OK;
}

void lbx_duration_format(int64_t seconds, char *buf, unsigned buflen)
{
    int64_t h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;

    if (seconds < 0)
        snprintf(buf, buflen, "0s");
    else if (h && m)
        snprintf(buf, buflen, "%lldh%lldm", (long long)h, (long long)m);
    else if (h)
        snprintf(buf, buflen, "%lldh", (long long)h);
    else if (m && s)
        snprintf(buf, buflen, "%lldm%llds", (long long)m, (long long)s);
    else if (m)
        snprintf(buf, buflen, "%lldm", (long long)m);
    else
        snprintf(buf, buflen, "%llds", (long long)s);
}

int64_t lbx_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
