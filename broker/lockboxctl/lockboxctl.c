/* lockboxctl — the command-line client for engineers, approvers and administrators.
 * Global options before the command: --json (print the broker's JSON), --config FILE. */
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
    {"request", ctl_request_main, "request create|status|wait|list   (engineers)"},
    {"list", ctl_list_main, "list [--all]                      (approvers: pending, or 28 days)"},
    {"show", ctl_show_main, "show ID"},
    {"approve", ctl_approve_main, "approve ID [--comment TEXT]"},
    {"deny", ctl_deny_main, "deny ID [--comment TEXT]"},
    {"revoke", ctl_revoke_main, "revoke ID [--comment TEXT]"},
    {"tenant", ctl_directory_main, "tenant create|list                (admins)"},
    {"subscription", ctl_directory_main, "subscription create|list"},
    {"host", ctl_host_main, "host create|list|enroll           (enroll: offline)"},
    {"group", ctl_directory_main, "group create|add|list"},
    {"identity", ctl_people_main, "identity create|list|disable"},
    {"role", ctl_people_main, "role assign|remove|list"},
    {"policy", ctl_people_main, "policy get|set|list"},
    {"api-token", ctl_people_main, "api-token create|list|revoke"},
    {"audit", ctl_audit_main, "audit export|verify               (auditors)"},
    {"whoami", ctl_whoami_main, "whoami"},
    {"key", ctl_key_main, "key generate --out DIR            (offline)"},
    {"token", ctl_token_main, "token mint|verify ...             (offline signing and checking)"},
    {NULL, NULL, NULL},
};

int ctl_fail(int code, const char *fmt, ...)
{
    char raw[1024], clean[1024], *line, *save = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* Line by line: a message may span lines (usage), but no control character gets out. */
    for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "%s%s\n", line == raw ? "lockboxctl: " : "",
                lbx_sanitize(clean, sizeof(clean), line));
    return code;
}

static int usage(FILE *out)
{
    const struct ctl_group *g;

    fprintf(out, "usage: lockboxctl [--json] [--config FILE] <command> [options]\n\n"
                 "Broker URL, API token and CA: config file (url, token, ca) or LOCKBOX_URL,\n"
                 "LOCKBOX_TOKEN, LOCKBOX_CA.\nExit codes: 0 ok, 1 refused/failed, 2 usage, "
                 "3 unreachable, 4 not allowed, 5 not found, 6 conflict, 7 still pending.\n\n"
                 "commands:\n");
    for (g = groups; g->name != NULL; g++)
        fprintf(out, "  %s\n", g->summary);
    return out == stdout ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const struct ctl_group *g;
    int i = 1;

    lbx_log_init("lockboxctl", LBX_LOG_STDERR, LOG_INFO);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json"))
            ctl_json_output = 1;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            ctl_config_path = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (i >= argc)
        return usage(stderr);
    if (!strcmp(argv[i], "help"))
        return usage(stdout);
    for (g = groups; g->name != NULL; g++)
        if (strcmp(argv[i], g->name) == 0)
            return g->handler(argc - i, argv + i);
    ctl_fail(CTL_EXIT_USAGE, "unknown command '%s'", argv[i]);
    return usage(stderr);
}
