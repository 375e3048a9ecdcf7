/* lockboxctl's connection to the broker: settings from a config file and the environment,
 * one call helper mapping HTTP outcomes to exit codes, and small output helpers. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "duration.h"
#include "http_client.h"
#include "json.h"
#include "log.h"

#define CTL_DEFAULT_TIMEOUT 15
#define CTL_MAX_RESPONSE (64u * 1024 * 1024)

int ctl_json_output;
const char *ctl_config_path;

struct ctl_settings {
    char *url, *token, *ca, *cert, *key;
};

#define S(field) offsetof(struct ctl_settings, field)
static const struct lbx_opt ctl_opts[] = {
    {"url", LBX_OPT_STRING, S(url), 0, 0}, {"token", LBX_OPT_STRING, S(token), 0, 0},
    {"ca", LBX_OPT_STRING, S(ca), 0, 0},   {"cert", LBX_OPT_STRING, S(cert), 0, 0},
    {"key", LBX_OPT_STRING, S(key), 0, 0}, {NULL, 0, 0, 0, 0},
};
#undef S

static void override(char **field, const char *env)
{
    const char *v = getenv(env);

    if (v != NULL && *v != '\0') {
        free(*field);
        *field = strdup(v);
    }
}

/* The config file holds a secret (the token): it must be ours and private. */
static int load_settings(struct ctl_settings *s)
{
    const char *path = ctl_config_path ? ctl_config_path : getenv("LOCKBOX_CONFIG");
    char home_path[512], msg[300];
    struct lbx_error e = {0};

    memset(s, 0, sizeof(*s));
    if (path == NULL && getenv("HOME") != NULL) {
        snprintf(home_path, sizeof(home_path), "%s/.config/lockbox/ctl.conf", getenv("HOME"));
        if (access(home_path, F_OK) == 0)
            path = home_path;
    }
    if (path == NULL && access("/etc/lockbox/ctl.conf", F_OK) == 0)
        path = "/etc/lockbox/ctl.conf";
    if (path != NULL && lbx_config_load(path, LBX_FILE_SECRET, ctl_opts, s, &e) != LBX_OK)
        return ctl_fail(CTL_EXIT_USAGE, "%s", lbx_error_text(&e, msg, sizeof(msg)));
    override(&s->url, "LOCKBOX_URL");
    override(&s->token, "LOCKBOX_TOKEN");
    override(&s->ca, "LOCKBOX_CA");
    if (s->url == NULL || s->ca == NULL)
        return ctl_fail(CTL_EXIT_USAGE, "broker URL and CA needed: set url/ca in the config file "
                                        "or LOCKBOX_URL and LOCKBOX_CA");
    return CTL_EXIT_OK;
}

static void free_settings(struct ctl_settings *s)
{
    lbx_free_secret(s->token);
    s->token = NULL;
    lbx_config_free(ctl_opts, s);
}

static int status_exit(long status)
{
    if (status == 401 || status == 403)
        return CTL_EXIT_AUTH;
    if (status == 404)
        return CTL_EXIT_NOT_FOUND;
    if (status == 409)
        return CTL_EXIT_CONFLICT;
    if (status >= 500)
        return CTL_EXIT_UNREACHABLE;
    return CTL_EXIT_FAIL;
}

static int request(const char *method, const char *path, const char *body, int timeout_s,
                   struct lbx_http_response *resp)
{
    struct ctl_settings s;
    struct lbx_error e = {0};
    char url[2048], msg[400];
    int rc;
    lbx_err r;

    if ((rc = load_settings(&s)) != CTL_EXIT_OK)
        return rc;
    struct lbx_http_opts o = {.ca_file = s.ca,
                              .cert_file = s.cert,
                              .key_file = s.key,
                              .bearer = s.token,
                              .timeout_ms = 1000L * (timeout_s ? timeout_s : CTL_DEFAULT_TIMEOUT),
                              .max_response = CTL_MAX_RESPONSE};
    snprintf(url, sizeof(url), "%s%s", s.url, path);
    r = lbx_http_request(&o, method, url, body, resp, &e);
    free_settings(&s);
    if (r != LBX_OK)
        return ctl_fail(r == LBX_ERR_CONFIG ? CTL_EXIT_USAGE : CTL_EXIT_UNREACHABLE, "%s",
                        lbx_error_text(&e, msg, sizeof(msg)));
    return CTL_EXIT_OK;
}

/* Members whose text may span lines (a justification, a comment): the rest is one line. */
static int multiline_member(const char *key)
{
    return key != NULL &&
           (!strcmp(key, "reason") || !strcmp(key, "comment") || !strcmp(key, "revoke_comment"));
}

/* A clean copy of text (JSON null when out of memory: nothing unclean is kept). */
static json_t *clean_string(const char *text, unsigned flags)
{
    size_t len = strlen(text) + 1;
    char *copy = malloc(len);
    json_t *v = copy ? json_string(lbx_sanitize_text(copy, len, text, flags)) : NULL;

    free(copy);
    return v ? v : json_null();
}

static int unclean(const json_t *v, const char *member)
{
    return json_is_string(v) &&
           lbx_text_unsafe_at(json_string_value(v),
                              multiline_member(member) ? LBX_TEXT_MULTILINE : 0) != (size_t)-1;
}

/* A member whose name is unclean moves to its clean name (one at a time: renaming adds a
 * member, so the walk starts over). */
static void clean_member_names(json_t *obj)
{
    const char *key;
    json_t *m, *name;
    int renamed = 1;

    while (renamed) {
        renamed = 0;
        json_object_foreach(obj, key, m)
        {
            if (lbx_text_unsafe_at(key, 0) == (size_t)-1)
                continue;
            name = clean_string(key, 0);
            if (json_is_string(name))
                json_object_set(obj, json_string_value(name), m);
            json_decref(name);
            json_object_del(obj, key);
            renamed = 1;
            break;
        }
    }
}

/* Every string of an answer, member names included, through the one sanitizer before any of
 * it is printed: stored by an older broker or sent by a hostile one, no control character,
 * C1 control or bidirectional override reaches the terminal. */
static void clean_answer(json_t *v, const char *member)
{
    const char *key;
    json_t *m;
    size_t i;

    clean_member_names(v);
    json_object_foreach(v, key, m)
    {
        if (unclean(m, key)) /* replacing a value leaves the members as they are */
            json_object_set_new(
                v, key,
                clean_string(json_string_value(m), multiline_member(key) ? LBX_TEXT_MULTILINE : 0));
        else
            clean_answer(m, key);
    }
    json_array_foreach(v, i, m)
    {
        if (unclean(m, NULL))
            json_array_set_new(v, i, clean_string(json_string_value(m), 0));
        else
            clean_answer(m, member);
    }
}

void ctl_clean_json(json_t *obj)
{
    clean_answer(obj, NULL);
}

void ctl_clean_text(char *text)
{
    lbx_sanitize_text(text, strlen(text) + 1, text, 0);
}

static int broker_refused(struct lbx_http_response *resp)
{
    json_t *err = NULL;
    const char *m = NULL, *code = NULL;
    int rc = status_exit(resp->status);

    if (lbx_json_parse_object(resp->body.data ? resp->body.data : "", resp->body.len, 1 << 20,
                              LBX_JSON_MAX_DEPTH, &err, NULL) == LBX_OK) {
        clean_answer(err, NULL);
        lbx_json_get_string(err, "message", &m);
        lbx_json_get_string(err, "error", &code);
    }
    ctl_fail(rc, "%s (HTTP %ld%s%s)", m ? m : "request failed", resp->status, code ? ", " : "",
             code ? code : "");
    json_decref(err);
    return rc;
}

int ctl_call(const char *method, const char *path, json_t *body, int timeout_s, json_t **out)
{
    struct lbx_http_response resp = {0};
    char *text = body ? lbx_json_dump(body) : NULL;
    struct lbx_error e = {0};
    int rc = request(method, path, text, timeout_s, &resp);

    free(text);
    *out = NULL;
    if (rc != CTL_EXIT_OK)
        return rc;
    if (resp.status < 200 || resp.status >= 300)
        rc = broker_refused(&resp);
    else if (resp.status != 204 &&
             lbx_json_parse_object(resp.body.data ? resp.body.data : "", resp.body.len,
                                   CTL_MAX_RESPONSE, LBX_JSON_MAX_DEPTH, out, &e) != LBX_OK)
        rc = ctl_fail(CTL_EXIT_UNREACHABLE, "unreadable answer from the broker: %s", e.detail);
    else
        clean_answer(*out, NULL);
    lbx_http_response_free(&resp);
    return rc;
}

int ctl_call_raw(const char *method, const char *path, int timeout_s, char **text)
{
    struct lbx_http_response resp = {0};
    int rc = request(method, path, NULL, timeout_s, &resp);

    *text = NULL;
    if (rc != CTL_EXIT_OK)
        return rc;
    if (resp.status < 200 || resp.status >= 300)
        rc = broker_refused(&resp);
    else
        *text = resp.body.data ? lbx_buf_steal(&resp.body) : strdup("");
    lbx_http_response_free(&resp);
    return rc;
}

/* ASCII only (every other character as a \u escape) and then the sanitizer, for the one
 * character JSON leaves raw that a terminal acts on (DEL). */
int ctl_print_json(json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;

    if (text != NULL)
        printf("%s\n", lbx_sanitize_text(text, strlen(text) + 1, text, LBX_TEXT_MULTILINE));
    free(text);
    json_decref(obj);
    return CTL_EXIT_OK;
}

const char *ctl_time(json_int_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, len, "-");
    else
        strftime(buf, len, "%Y-%m-%d %H:%MZ", &tm);
    return buf;
}

void ctl_print_field(const char *label, const char *text)
{
    printf("%-16s", label);
    for (; *text != '\0'; text++) {
        putchar(*text);
        if (*text == '\n') /* continuation lines indented: no line passes for a field of ours */
            printf("%-16s", "");
    }
    putchar('\n');
}

const char *ctl_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : "-";
}

int ctl_parse_duration(const char *s, int64_t *out)
{
    return lbx_duration_parse(s, out) == LBX_OK ? 0 : -1;
}

int ctl_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    const char *end;
    char *e;
    long long v;
    int64_t ago;

    memset(&tm, 0, sizeof(tm));
    v = strtoll(s, &e, 10);
    if (e != s && *e == '\0' && v > 100000) { /* an epoch, not a bare number of seconds ago */
        *out = v;
        return 0;
    }
    if (((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) != NULL && *end == '\0') ||
        ((end = strptime(s, "%Y-%m-%d", &tm)) != NULL && *end == '\0')) {
        *out = (int64_t)timegm(&tm);
        return 0;
    }
    if (ctl_parse_duration(s, &ago) == 0) {
        *out = (int64_t)time(NULL) - ago;
        return 0;
    }
    return -1;
}
