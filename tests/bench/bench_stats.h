/* Shared by the bench programs: a monotonic clock in milliseconds and percentiles of a sample
 * array, so every figure in bench.json is computed the same way. Header-only: each bench
 * program is one translation unit. */
#ifndef LBX_BENCH_STATS_H
#define LBX_BENCH_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile (q in 0..1) of n samples; sorts them in place. */
static inline double bench_percentile(double *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return -1;
    qsort(v, n, sizeof(double), bench_cmp_double);
    i = (size_t)(q * (double)n + 0.999999);
    return v[i == 0 ? 0 : (i > n ? n - 1 : i - 1)];
}

/* Appends every sample, one per line, to path (NULL: nothing), for a caller that merges runs. */
static inline void bench_dump_samples(const char *path, const double *v, size_t n)
{
    FILE *f;
    size_t i;

    if (path == NULL || (f = fopen(path, "a")) == NULL)
        return;
    for (i = 0; i < n; i++)
        fprintf(f, "%.3f\n", v[i]);
    fclose(f);
}

#endif
