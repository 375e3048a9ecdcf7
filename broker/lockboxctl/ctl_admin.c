/* lockboxctl for administrators: the directory (tenant, subscription, host, group) and people
 * (identity, role, api-token), policy, and whoami. Each subcommand is one broker call. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int is_time_column(const char *col)
{
    static const char *const times[] = {"created", "revoked",   "updated",
                                        "expires", "last_used", NULL};
    size_t i;

    for (i = 0; times[i] != NULL; i++)
        if (strcmp(col, times[i]) == 0)
            return 1;
    return 0;
}

/* Prints rows of obj[key] as a table of the given columns (NULL-terminated). */
static int table(json_t *obj, const char *key, const char *const *cols)
{
    const json_t *row, *v;
    char buf[32];
    size_t i, c;

    if (ctl_json_output)
        return ctl_print_json(obj);
    for (c = 0; cols[c] != NULL; c++)
        printf("%-20s", cols[c]);
    printf("\n");
    json_array_foreach(json_object_get(obj, key), i, row)
    {
        for (c = 0; cols[c] != NULL; c++) {
            v = json_object_get(row, cols[c]);
            if (json_is_integer(v) && is_time_column(cols[c]))
                printf("%-20s", ctl_time(json_integer_value(v), buf, sizeof(buf)));
            else if (json_is_integer(v))
                printf("%-20lld", (long long)json_integer_value(v));
            else
                printf("%-20s", ctl_str(row, cols[c]));
        }
        printf("\n");
    }
    json_decref(obj);
    return CTL_EXIT_OK;
}

static int list(const char *path, const char *key, const char *const *cols)
{
    json_t *out = NULL;
    int rc = ctl_call("GET", path, NULL, 0, &out);

    return rc == CTL_EXIT_OK ? table(out, key, cols) : rc;
}

/* POST/PUT/DELETE body (consumed); prints the answer as JSON with --json, else `done`. */
static int change(const char *method, const char *path, json_t *body, const char *done)
{
    json_t *out = NULL;
    int rc = ctl_call(method, path, body, 0, &out);

    json_decref(body);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (ctl_json_output)
        return ctl_print_json(out ? out : json_object());
    printf("%s\n", done);
    json_decref(out);
    return CTL_EXIT_OK;
}

/* Parses --name/--tenant/--subscription/--login/--email/--label/--expires-in after a
 * positional id. */
struct args {
    const char *id, *name, *tenant, *subscription, *login, *email, *label, *expires_in;
};

static int parse(int argc, char **argv, struct args *a, const char *usage)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},         {"tenant", required_argument, NULL, 't'},
        {"subscription", required_argument, NULL, 's'}, {"login", required_argument, NULL, 'l'},
        {"email", required_argument, NULL, 'e'},        {"label", required_argument, NULL, 'b'},
        {"expires-in", required_argument, NULL, 'x'},   {NULL, 0, NULL, 0}};
    int c;

    memset(a, 0, sizeof(*a));
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            a->name = optarg;
            break;
        case 't':
            a->tenant = optarg;
            break;
        case 's':
            a->subscription = optarg;
            break;
        case 'l':
            a->login = optarg;
            break;
        case 'e':
            a->email = optarg;
            break;
        case 'b':
            a->label = optarg;
            break;
        case 'x':
            a->expires_in = optarg;
            break;
        default:
            return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
        }
    }
    if (optind != argc - 1)
        return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
    a->id = argv[optind];
    return CTL_EXIT_OK;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, key, json_string(v));
}

struct kind {
    const char *cmd, *path, *key;
    const char *const *cols;
    const char *usage;
};

static const char *const tenant_cols[] = {"id", "name", "created", NULL};
static const char *const sub_cols[] = {"id", "tenant", "name", "created", NULL};
static const char *const host_cols[] = {"id", "tenant", "subscription", "created", NULL};
static const struct kind kinds[] = {
    {"tenant", "/v1/tenants", "tenants", tenant_cols,
     "usage: lockboxctl tenant create ID [--name N] | tenant list"},
    {"subscription", "/v1/subscriptions", "subscriptions", sub_cols,
     "usage: lockboxctl subscription create ID --tenant T [--name N] | subscription list"},
    {"host", "/v1/hosts", "hosts", host_cols,
     "usage: lockboxctl host create ID --tenant T [--subscription S] | host list"},
    {"group", "/v1/host-groups", "host_groups", host_cols,
     "usage: lockboxctl group create ID --tenant T [--subscription S] | group add GROUP HOST | "
     "group list"},
};

static int directory(const struct kind *k, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    char path[200];
    struct args a;
    json_t *body;
    int rc;

    if (!strcmp(sub, "list") && argc == 2)
        return list(k->path, k->key, k->cols);
    if (!strcmp(sub, "add") && !strcmp(k->cmd, "group") && argc == 4) {
        snprintf(path, sizeof(path), "/v1/host-groups/%s/members", argv[2]);
        return change("POST", path, json_pack("{s:s}", "host", argv[3]), "added");
    }
    if (strcmp(sub, "create") != 0)
        return ctl_fail(CTL_EXIT_USAGE, "%s", k->usage);
    if ((rc = parse(argc - 1, argv + 1, &a, k->usage)) != CTL_EXIT_OK)
        return rc;
    body = json_pack("{s:s}", "id", a.id);
    set_opt(body, "name", a.name);
    set_opt(body, "tenant", a.tenant);
    set_opt(body, "subscription", a.subscription);
    return change("POST", k->path, body, "created");
}

int ctl_directory_main(int argc, char **argv)
{
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(argv[0], kinds[i].cmd))
            return directory(&kinds[i], argc, argv);
    return ctl_fail(CTL_EXIT_USAGE, "unknown command");
}

static int identity(int argc, char **argv)
{
    static const char usage[] = "usage: lockboxctl identity create NAME [--login L] [--email E] | "
                                "identity list | identity disable NAME";
    static const char *const cols[] = {"name", "login", "email", "created", "disabled", NULL};
    const char *sub = argc >= 2 ? argv[1] : "";
    char path[160];
    struct args a;
    json_t *body;
    int rc;

    if (!strcmp(sub, "list") && argc == 2)
        return list("/v1/identities", "identities", cols);
    if (!strcmp(sub, "disable") && argc == 3) {
        snprintf(path, sizeof(path), "/v1/identities/%s", argv[2]);
        return change("DELETE", path, NULL, "disabled");
    }
    if (strcmp(sub, "create") != 0 || (rc = parse(argc - 1, argv + 1, &a, usage)) != CTL_EXIT_OK)
        return strcmp(sub, "create") ? ctl_fail(CTL_EXIT_USAGE, "%s", usage) : rc;
    body = json_pack("{s:s}", "name", a.id);
    set_opt(body, "login", a.login);
    set_opt(body, "email", a.email);
    return change("POST", "/v1/identities", body, "created");
}

static int role(int argc, char **argv)
{
    static const char usage[] =
        "usage: lockboxctl role assign IDENTITY ROLE SCOPE | role remove ID "
        "| role list\n  roles: admin engineer support-manager owner "
        "global-admin auditor; scopes: global tenant:ID subscription:ID";
    static const char *const cols[] = {"id", "identity", "role", "scope", "created", NULL};
    const char *sub = argc >= 2 ? argv[1] : "";
    char path[160];

    if (!strcmp(sub, "list") && argc == 2)
        return list("/v1/roles", "roles", cols);
    if (!strcmp(sub, "remove") && argc == 3) {
        snprintf(path, sizeof(path), "/v1/roles/%s", argv[2]);
        return change("DELETE", path, NULL, "removed");
    }
    if (!strcmp(sub, "assign") && argc == 5)
        return change(
            "POST", "/v1/roles",
            json_pack("{s:s, s:s, s:s}", "identity", argv[2], "role", argv[3], "scope", argv[4]),
            "assigned");
    return ctl_fail(CTL_EXIT_USAGE, "%s", usage);
}

static int api_token(int argc, char **argv)
{
    static const char usage[] = "usage: lockboxctl api-token create IDENTITY [--label L] "
                                "[--expires-in 90d] | api-token list | api-token revoke ID";
    static const char *const cols[] = {"id",      "identity",  "label",   "created",
                                       "expires", "last_used", "revoked", NULL};
    const char *sub = argc >= 2 ? argv[1] : "";
    json_t *body, *out = NULL;
    char path[160];
    struct args a;
    int rc;

    if (!strcmp(sub, "list") && argc == 2)
        return list("/v1/api-tokens", "api_tokens", cols);
    if (!strcmp(sub, "revoke") && argc == 3) {
        snprintf(path, sizeof(path), "/v1/api-tokens/%s", argv[2]);
        return change("DELETE", path, NULL, "revoked");
    }
    if (strcmp(sub, "create") != 0 || (rc = parse(argc - 1, argv + 1, &a, usage)) != CTL_EXIT_OK)
        return strcmp(sub, "create") ? ctl_fail(CTL_EXIT_USAGE, "%s", usage) : rc;
    body = json_pack("{s:s}", "identity", a.id);
    set_opt(body, "label", a.label);
    set_opt(body, "expires_in", a.expires_in);
    rc = ctl_call("POST", "/v1/api-tokens", body, 0, &out);
    json_decref(body);
    if (rc == CTL_EXIT_OK && ctl_json_output)
        return ctl_print_json(out);
    if (rc == CTL_EXIT_OK) { /* the secret, shown this once; the id and expiry on stderr */
        char until[32];

        printf("%s\n", ctl_str(out, "token"));
        fprintf(
            stderr, "token id %s, expires %s\n", ctl_str(out, "id"),
            ctl_time(json_integer_value(json_object_get(out, "expires")), until, sizeof(until)));
    }
    json_decref(out);
    return rc;
}

int ctl_whoami_main(int argc, char **argv)
{
    const json_t *r;
    json_t *out = NULL;
    size_t i;
    int rc = ctl_call("GET", "/v1/whoami", NULL, 0, &out);

    if (rc != CTL_EXIT_OK || ctl_json_output)
        return rc == CTL_EXIT_OK ? ctl_print_json(out) : rc;
    printf("%s (login %s)\n", ctl_str(out, "name"), ctl_str(out, "login"));
    json_array_foreach(json_object_get(out, "roles"), i, r)
    {
        printf("  %s on %s\n", ctl_str(r, "role"), ctl_str(r, "scope"));
    }
    json_decref(out);
    return CTL_EXIT_OK;
}

int ctl_people_main(int argc, char **argv)
{
    if (!strcmp(argv[0], "identity"))
        return identity(argc, argv);
    if (!strcmp(argv[0], "role"))
        return role(argc, argv);
    if (!strcmp(argv[0], "api-token"))
        return api_token(argc, argv);
    if (!strcmp(argv[0], "policy"))
        return ctl_policy_main(argc, argv);
    return ctl_fail(CTL_EXIT_USAGE, "unknown command");
}
