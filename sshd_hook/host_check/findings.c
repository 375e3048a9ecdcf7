/* The findings of lockbox-host-check, one line each on standard output, sanitized. */
#include <stdarg.h>
#include <stdio.h>

#include "host_check.h"
#include "log.h"

#define LINE_MAX_LEN 1024

static int problems;

static void report(const char *kind, const char *fmt, va_list ap)
{
    char raw[LINE_MAX_LEN], line[LINE_MAX_LEN];

    vsnprintf(raw, sizeof(raw), fmt, ap);
    /* Values come from files and the broker's answers: no escape sequence reaches a terminal. */
    printf("%s: %s\n", kind, lbx_sanitize(line, sizeof(line), raw));
}

void check_ok(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("ok", fmt, ap);
    va_end(ap);
}

void check_problem(const char *fmt, ...)
{
    va_list ap;

    problems++;
    va_start(ap, fmt);
    report("problem", fmt, ap);
    va_end(ap);
}

int check_problems(void)
{
    return problems;
}
