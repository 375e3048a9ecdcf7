/* lockboxctl — the command-line client for engineers, approvers and administrators. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

struct ctl_group {
    const char *name;
    int (*handler)(int argc, char **argv);
    const char *summary;
};

static const struct ctl_group groups[] = {
    {"key", ctl_key_main, "key generate --out DIR"},
    {"token", ctl_token_main, "token mint|verify ... (offline signing and checking)"},
    {"host", ctl_host_main, "host enroll --ca-cert CA.pem --ca-key CA.key --host ID --out DIR ..."},
    {NULL, NULL, NULL},
};

int ctl_fail(int code, const char *fmt, ...)
{
    char raw[1024], clean[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    fprintf(stderr, "lockboxctl: %s\n", lbx_sanitize(clean, sizeof(clean), raw));
    return code;
}

static int usage(FILE *out)
{
    const struct ctl_group *g;

    fprintf(out, "usage: lockboxctl <command> [options]\n\ncommands:\n");
    for (g = groups; g->name != NULL; g++)
        fprintf(out, "  %s\n", g->summary);
    return out == stdout ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const struct ctl_group *g;

    lbx_log_init("lockboxctl", LBX_LOG_STDERR, LOG_INFO);
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    for (g = groups; g->name != NULL; g++)
        if (strcmp(argv[1], g->name) == 0)
            return g->handler(argc - 1, argv + 1);
    ctl_fail(CTL_EXIT_USAGE, "unknown command '%s'", argv[1]);
    return usage(stderr);
}
