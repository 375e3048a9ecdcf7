/* lockboxctl policy get|set|list: the per-tenant/subscription policy. `set` changes only the
 * options given, on top of what is stored. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char usage[] =
    "usage: lockboxctl policy get SCOPE | policy list | policy set SCOPE [--lockbox on|off]\n"
    "         [--request-ttl 12h] [--access-duration 4h] [--approvals N]\n"
    "         [--internal-review on|off] [--webhook URL|none] [--email on|off]\n"
    "  SCOPE: tenant:ID or subscription:ID";

static int on_off(const char *v, json_t *o, const char *key)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes"))
        return json_object_set_new(o, key, json_true());
    if (!strcmp(v, "off") || !strcmp(v, "no"))
        return json_object_set_new(o, key, json_false());
    return -1;
}

static int apply_option(int c, const char *v, json_t *o)
{
    int64_t n;
    char *end;

    switch (c) {
    case 'l':
        return on_off(v, o, "lockbox");
    case 'i':
        return on_off(v, o, "internal_review");
    case 'e':
        return on_off(v, o, "notify_email");
    case 't':
    case 'd':
        if (ctl_parse_duration(v, &n) != 0)
            return -1;
        return json_object_set_new(o, c == 't' ? "request_ttl" : "access_duration",
                                   json_integer(n));
    case 'a':
        n = strtoll(v, &end, 10);
        return *end || end == v ? -1
                                : json_object_set_new(o, "approvals_required", json_integer(n));
    case 'w':
        return json_object_set_new(o, "notify_webhook",
                                   strcmp(v, "none") ? json_string(v) : json_null());
    }
    return -1;
}

static int policy_set(int argc, char **argv)
{
    static const struct option opts[] = {{"lockbox", required_argument, NULL, 'l'},
                                         {"request-ttl", required_argument, NULL, 't'},
                                         {"access-duration", required_argument, NULL, 'd'},
                                         {"approvals", required_argument, NULL, 'a'},
                                         {"internal-review", required_argument, NULL, 'i'},
                                         {"webhook", required_argument, NULL, 'w'},
                                         {"email", required_argument, NULL, 'e'},
                                         {NULL, 0, NULL, 0}};
    json_t *current = NULL, *body, *out = NULL;
    char path[200];
    int c, rc;

    if (argc < 2 || argv[1][0] == '-' || strlen(argv[1]) > 128 || strchr(argv[1], '/'))
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    snprintf(path, sizeof(path), "/v1/policies/%s", argv[1]);
    if ((rc = ctl_call("GET", path, NULL, 0, &current)) != CTL_EXIT_OK)
        return rc;
    body = json_deep_copy(json_object_get(current, "stored"));
    json_decref(current);
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (apply_option(c, optarg, body) != 0) {
            json_decref(body);
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
        }
    if (optind != argc) {
        json_decref(body);
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    }
    rc = ctl_call("PUT", path, body, 0, &out);
    json_decref(body);
    if (rc == CTL_EXIT_OK && ctl_json_output)
        return ctl_print_json(out);
    if (rc == CTL_EXIT_OK)
        printf("policy for %s stored\n", argv[1]);
    json_decref(out);
    return rc;
}

static int policy_get(const char *scope)
{
    const json_t *eff;
    json_t *out = NULL;
    char path[200];
    int rc;

    if (strlen(scope) > 128 || strchr(scope, '/'))
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    snprintf(path, sizeof(path), "/v1/policies/%s", scope);
    if ((rc = ctl_call("GET", path, NULL, 0, &out)) != CTL_EXIT_OK || ctl_json_output)
        return rc == CTL_EXIT_OK ? ctl_print_json(out) : rc;
    eff = json_object_get(out, "effective");
    printf("%-20s%s\n%-20s%s\n%-20s%lld s\n%-20s%lld s\n%-20s%lld\n%-20s%s\n%-20s%s\n%-20s%s\n",
           "scope", scope, "lockbox", json_is_true(json_object_get(eff, "lockbox")) ? "on" : "off",
           "request ttl", (long long)json_integer_value(json_object_get(eff, "request_ttl")),
           "access duration",
           (long long)json_integer_value(json_object_get(eff, "access_duration")), "approvals",
           (long long)json_integer_value(json_object_get(eff, "approvals_required")),
           "internal review", json_is_true(json_object_get(eff, "internal_review")) ? "on" : "off",
           "webhook", ctl_str(eff, "notify_webhook"), "email",
           json_is_true(json_object_get(eff, "notify_email")) ? "on" : "off");
    json_decref(out);
    return CTL_EXIT_OK;
}

int ctl_policy_main(int argc, char **argv)
{
    json_t *out = NULL;
    int rc;

    if (argc == 3 && !strcmp(argv[1], "get"))
        return policy_get(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "list")) {
        rc = ctl_call("GET", "/v1/policies", NULL, 0, &out);
        return rc == CTL_EXIT_OK ? ctl_print_json(out) : rc;
    }
    if (argc >= 3 && !strcmp(argv[1], "set"))
        return policy_set(argc - 1, argv + 1);
    return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
}
