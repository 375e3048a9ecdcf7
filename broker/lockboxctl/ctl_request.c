/* lockboxctl for engineers (request create|status|wait|list) and approvers (list, show,
 * approve, deny, revoke). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define WAIT_SLICE 55 /* seconds per long-poll; the broker allows up to 60 */

static void print_table(const json_t *list)
{
    char created[32], until[32];
    const json_t *r;
    size_t i;

    printf("%-9s %-16s %-10s %-16s %-16s %-14s %-18s %s\n", "ID", "STATUS", "REQUESTER", "LOGIN",
           "HOST", "TICKET", "CREATED", "EXPIRES/ENDS");
    json_array_foreach(list, i, r)
    {
        json_int_t t = json_integer_value(json_object_get(r, "access_end"));

        if (t == 0)
            t = json_integer_value(json_object_get(r, "request_expiry"));
        printf(
            "%-9s %-16s %-10s %-16s %-16s %-14s %-18s %s\n", ctl_str(r, "id"), ctl_str(r, "status"),
            ctl_str(r, "requester"), ctl_str(r, "login"),
            strcmp(ctl_str(r, "host"), "-") ? ctl_str(r, "host") : ctl_str(r, "host_group"),
            ctl_str(r, "ticket"),
            ctl_time(json_integer_value(json_object_get(r, "created")), created, sizeof(created)),
            ctl_time(t, until, sizeof(until)));
    }
}

static void print_names(const char *label, const json_t *list)
{
    const json_t *n;
    size_t i;

    printf("%-16s", label);
    json_array_foreach(list, i, n)
    {
        printf("%s%s", i ? ", " : "", json_string_value(n));
    }
    printf("%s\n", json_array_size(list) ? "" : "-");
}

static void print_request(const json_t *r)
{
    static const char *const times[][2] = {
        {"created", "created"},       {"request_expiry", "request expiry"},
        {"decided_at", "decided at"}, {"access_start", "access start"},
        {"access_end", "access end"}, {"revoked_at", "revoked at"}};
    const json_t *scope = json_object_get(r, "scope"), *a;
    char buf[32];
    size_t i;

    printf("%-16s%s\n%-16s%s\n%-16s%s (%s)\n", "id", ctl_str(r, "id"), "status",
           ctl_str(r, "status"), "requester", ctl_str(r, "requester"), ctl_str(r, "login"));
    printf("%-16s%s\n%-16s%s / %s\n", "host",
           strcmp(ctl_str(r, "host"), "-") ? ctl_str(r, "host") : ctl_str(r, "host_group"), "scope",
           ctl_str(scope, "tenant"), ctl_str(scope, "subscription"));
    printf("%-16s%s\n%-16s%lld s\n", "ticket", ctl_str(r, "ticket"), "duration",
           (long long)json_integer_value(json_object_get(r, "duration")));
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        printf("%-16s%s\n", times[i][1],
               ctl_time(json_integer_value(json_object_get(r, times[i][0])), buf, sizeof(buf)));
    print_names("approvers", json_object_get(r, "approvers"));
    if (json_array_size(json_object_get(r, "reviewers")))
        print_names("reviewers", json_object_get(r, "reviewers"));
    json_array_foreach(json_object_get(r, "approvals"), i, a)
    {
        printf("%-16s%s (%s) at %s\n", "approval", ctl_str(a, "by"), ctl_str(a, "stage"),
               ctl_time(json_integer_value(json_object_get(a, "at")), buf, sizeof(buf)));
        ctl_print_field("  comment", ctl_str(a, "comment"));
    }
    printf("%-16s%s\n", "decided by", ctl_str(r, "decided_by"));
    ctl_print_field("comment", ctl_str(r, "comment"));
    printf("%-16s%s\n", "revoked by", ctl_str(r, "revoked_by"));
    if (json_object_get(r, "revoke_comment"))
        ctl_print_field("revoke comment", ctl_str(r, "revoke_comment"));
    if (json_object_get(r, "grant_id"))
        printf("%-16s%s (%s)\n", "grant", ctl_str(r, "grant_id"), ctl_str(r, "grant_status"));
    ctl_print_field("reason", ctl_str(r, "reason"));
}

static int show_result(int rc, json_t *obj, void (*human)(const json_t *))
{
    if (rc != CTL_EXIT_OK)
        return rc;
    if (ctl_json_output)
        return ctl_print_json(obj);
    human(obj);
    json_decref(obj);
    return CTL_EXIT_OK;
}

static int request_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'h'},     {"group", required_argument, NULL, 'g'},
        {"ticket", required_argument, NULL, 't'},   {"reason", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    static const char usage[] = "usage: lockboxctl request create --host H|--group G --ticket T "
                                "--reason TEXT --duration 4h";
    const char *host = NULL, *group = NULL, *ticket = NULL, *reason = NULL, *duration = NULL;
    json_t *body, *out = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            host = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 't':
            ticket = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case 'd':
            duration = optarg;
            break;
        default:
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
        }
    }
    if ((!host == !group) || !ticket || !reason || !duration || optind != argc)
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    body = json_pack("{s:s, s:s, s:s}", "ticket", ticket, "reason", reason, "duration", duration);
    json_object_set_new(body, host ? "host" : "host_group", json_string(host ? host : group));
    rc = ctl_call("POST", "/v1/requests", body, 0, &out);
    json_decref(body);
    if (rc == CTL_EXIT_OK && !ctl_json_output) {
        printf("%s %s\n", ctl_str(out, "id"), ctl_str(out, "status"));
        print_names("approvers", json_object_get(out, "approvers"));
    }
    if (rc == CTL_EXIT_OK && ctl_json_output)
        return ctl_print_json(out);
    json_decref(out);
    return rc;
}

static int one_id(int argc, char **argv, const char *usage, const char **id)
{
    if (argc != 2 || argv[1][0] == '-')
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    *id = argv[1];
    return CTL_EXIT_OK;
}

static int get_request(const char *id, int wait, json_t **out)
{
    char path[160];

    if (strlen(id) > 64 || strchr(id, '/') || strchr(id, '?'))
        return ctl_fail(CTL_EXIT_USAGE, "bad request id '%s'", id);
    if (wait > 0)
        snprintf(path, sizeof(path), "/v1/requests/%s?wait=%d", id, wait);
    else
        snprintf(path, sizeof(path), "/v1/requests/%s", id);
    return ctl_call("GET", path, NULL, wait + 15, out);
}

static int request_status(int argc, char **argv)
{
    json_t *out = NULL;
    const char *id = NULL;
    int rc = one_id(argc, argv, "usage: lockboxctl request status ID | show ID", &id);

    if (rc != CTL_EXIT_OK)
        return rc;
    rc = get_request(id, 0, &out);
    return show_result(rc, out, print_request);
}

/* Waits until the request is decided: 0 approved, 1 denied/expired/revoked/ended, 7 still
 * undecided after --timeout. */
static int request_wait(int argc, char **argv)
{
    static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    static const char usage[] = "usage: lockboxctl request wait ID [--timeout 10m]";
    int64_t timeout = 3600, deadline;
    const char *status = "";
    json_t *out = NULL;
    int c, rc, slice;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (c != 't' || ctl_parse_duration(optarg, &timeout) != 0)
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    if (optind != argc - 1)
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    deadline = (int64_t)time(NULL) + timeout;
    for (;;) {
        slice = (int)(deadline - (int64_t)time(NULL));
        slice = slice > WAIT_SLICE ? WAIT_SLICE : slice;
        json_decref(out);
        if ((rc = get_request(argv[optind], slice > 0 ? slice : 0, &out)) != CTL_EXIT_OK)
            return rc;
        status = ctl_str(out, "status");
        if (strcmp(status, "pending") != 0 && strcmp(status, "internal-review") != 0)
            break;
        if ((int64_t)time(NULL) >= deadline)
            break;
    }
    rc = !strcmp(status, "approved")                                        ? CTL_EXIT_OK
         : !strcmp(status, "pending") || !strcmp(status, "internal-review") ? CTL_EXIT_PENDING
                                                                            : CTL_EXIT_FAIL;
    if (ctl_json_output)
        ctl_print_json(out);
    else {
        printf("%s %s\n", ctl_str(out, "id"), status);
        json_decref(out);
    }
    return rc;
}

static void print_list(const json_t *obj)
{
    print_table(json_object_get(obj, "requests"));
}

#define LIST_PAGES_MAX 100 /* 10 000 requests: a list longer than that wants a filter */

/* Follows the broker's pages ("next") and gathers them into one {"requests": [...]}. */
static int list_pages(const char *status, json_t **out)
{
    const char *next = NULL;
    json_t *page = NULL, *all = json_array();
    char path[128];
    int rc = CTL_EXIT_OK, n;

    for (n = 0; n < LIST_PAGES_MAX && rc == CTL_EXIT_OK && (n == 0 || next != NULL); n++) {
        snprintf(path, sizeof(path), "/v1/requests?status=%s&limit=500%s%s", status,
                 next ? "&before=" : "", next ? next : "");
        json_decref(page);
        page = NULL;
        if ((rc = ctl_call("GET", path, NULL, 0, &page)) == CTL_EXIT_OK) {
            json_array_extend(all, json_object_get(page, "requests"));
            next = json_string_value(json_object_get(page, "next"));
        }
    }
    json_decref(page);
    *out = json_pack("{s:o}", "requests", all);
    if (rc != CTL_EXIT_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* Pending by default; --all: everything of the last 28 days (the seeds' Recent table). */
static int list(int argc, char **argv, const char *usage)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    json_t *out = NULL;
    int c, all = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (c == 'a')
            all = 1;
        else
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    if (optind != argc)
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    c = list_pages(all ? "all" : "pending", &out);
    return show_result(c, out, print_list);
}

int ctl_request_main(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";

    if (!strcmp(sub, "create"))
        return request_create(argc - 1, argv + 1);
    if (!strcmp(sub, "status"))
        return request_status(argc - 1, argv + 1);
    if (!strcmp(sub, "wait"))
        return request_wait(argc - 1, argv + 1);
    if (!strcmp(sub, "list"))
        return list(argc - 1, argv + 1, "usage: lockboxctl request list [--all]");
    return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl request create|status|wait|list ...");
}

int ctl_list_main(int argc, char **argv)
{
    return list(argc, argv, "usage: lockboxctl list [--all]");
}

int ctl_show_main(int argc, char **argv)
{
    return request_status(argc, argv);
}

static void print_decision(const json_t *r)
{
    printf("%s %s\n", ctl_str(r, "id"), ctl_str(r, "status"));
}

static int decide(int argc, char **argv, const char *verb)
{
    static const struct option opts[] = {{"comment", required_argument, NULL, 'c'},
                                         {NULL, 0, NULL, 0}};
    char usage[96], path[160];
    const char *comment = NULL;
    json_t *body, *out = NULL;
    int c, rc;

    snprintf(usage, sizeof(usage), "usage: lockboxctl %s ID [--comment TEXT]", verb);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (c == 'c')
            comment = optarg;
        else
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    if (optind != argc - 1 || strlen(argv[optind]) > 64 || strchr(argv[optind], '/'))
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    snprintf(path, sizeof(path), "/v1/requests/%s/%s", argv[optind], verb);
    body = comment ? json_pack("{s:s}", "comment", comment) : json_object();
    rc = ctl_call("POST", path, body, 0, &out);
    json_decref(body);
    return show_result(rc, out, print_decision);
}

int ctl_approve_main(int argc, char **argv)
{
    return decide(argc, argv, "approve");
}

int ctl_deny_main(int argc, char **argv)
{
    return decide(argc, argv, "deny");
}

int ctl_revoke_main(int argc, char **argv)
{
    return decide(argc, argv, "revoke");
}
