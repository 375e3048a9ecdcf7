#include "broker_host.h"
#include "run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "http_client.h"
#include "json.h"
#include "keys.h"
#include "token.h"

#define BROKER_MAX_RESPONSE (64 * 1024)
#define BROKER_JSON_DEPTH 4
#define BROKER_FIELD_MAX 256
#define SPOOL_MAX_FILES 4096

int lbx_broker_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n >= LBX_BROKER_ID_MAX || id[0] == '.')
        return 0;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The TLS session every call of this host resumes (root-only, in run_dir): the module's, its
 * reaper's and session close's calls are each a new process, and each would otherwise repeat
 * the certificate exchange with the broker. */

static void http_opts(const struct lbx_host_config *cfg, long timeout_ms,
                      struct lbx_http_conn *conn, char *session_file, size_t session_len,
                      struct lbx_http_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->ca_file = cfg->ca_file;
    o->cert_file = cfg->cert_file;
    o->key_file = cfg->key_file;
    if (session_file != NULL && cfg->run_dir != NULL)
        o->tls_session_file = lbx_run_path(cfg, LBX_RUN_TLS_SESSION, session_file, session_len);
    o->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    o->max_response = BROKER_MAX_RESPONSE;
    o->conn = conn;
}

/* resume: use (and keep) the host's saved TLS session; 0 for a full handshake of its own. */
static lbx_err call_tls(const struct lbx_host_config *cfg, struct lbx_http_conn *conn, int resume,
                        const char *method, const char *path, const char *body, long timeout_ms,
                        struct lbx_http_response *resp, struct lbx_error *e)
{
    struct lbx_http_opts o;
    char url[2048], session_file[4096];
    lbx_err r;

    if ((r = lbx_host_config_require_broker(cfg, e)) != LBX_OK)
        return r;
    if ((size_t)snprintf(url, sizeof(url), "%s%s", cfg->broker_url, path) >= sizeof(url))
        return lbx_error_set(e, LBX_ERR_CONFIG, "broker_url too long");
    http_opts(cfg, timeout_ms, conn, resume ? session_file : NULL, sizeof(session_file), &o);
    return lbx_http_request(&o, method, url, body, resp, e);
}

static lbx_err call(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                    const char *method, const char *path, const char *body, long timeout_ms,
                    struct lbx_http_response *resp, struct lbx_error *e)
{
    return call_tls(cfg, conn, 1, method, path, body, timeout_ms, resp, e);
}

/* An optional bounded string member, copied into a fixed buffer. */
static void copy_member(const json_t *o, const char *key, char *out, size_t len)
{
    const char *v;

    out[0] = '\0';
    if (lbx_json_get_string(o, key, &v) == LBX_OK && strlen(v) < len)
        strcpy(out, v);
}

static lbx_err dup_member(const json_t *o, const char *key, int required, char **out)
{
    const char *v;
    lbx_err r = lbx_json_get_string(o, key, &v);

    *out = NULL;
    if (r == LBX_ERR_TOKEN_CLAIM_MISSING && !required)
        return LBX_OK;
    if (r != LBX_OK || strlen(v) >= (required ? LBX_TOKEN_MAX_LEN + 1 : BROKER_FIELD_MAX))
        return LBX_ERR_HTTP;
    return (*out = strdup(v)) ? LBX_OK : LBX_ERR_NOMEM;
}

static lbx_err parse_refusal(long status, const json_t *o, struct lbx_broker_refusal *ref,
                             struct lbx_error *e)
{
    memset(ref, 0, sizeof(*ref));
    copy_member(o, "error", ref->code, sizeof(ref->code));
    copy_member(o, "message", ref->message, sizeof(ref->message));
    copy_member(o, "request_id", ref->request_id, sizeof(ref->request_id));
    copy_member(o, "awaiting", ref->awaiting, sizeof(ref->awaiting));
    if (status == 403 && ref->code[0] != '\0')
        return lbx_error_set(e, LBX_ERR_NO_GRANT, "%s", ref->code);
    return lbx_error_set(e, status == 401 ? LBX_ERR_AUTH : LBX_ERR_HTTP, "broker answered %ld%s%s",
                         status, ref->code[0] ? ": " : "", ref->code);
}

lbx_err lbx_broker_parse_token(long status, const char *body, size_t len,
                               struct lbx_broker_grant *g, struct lbx_broker_refusal *ref,
                               struct lbx_error *e)
{
    json_t *o = NULL;
    lbx_err r;

    memset(g, 0, sizeof(*g));
    memset(ref, 0, sizeof(*ref));
    if (lbx_json_parse_object(body, len, BROKER_MAX_RESPONSE, BROKER_JSON_DEPTH, &o, NULL) !=
        LBX_OK)
        return lbx_error_set(e, LBX_ERR_HTTP,
                             "broker answered %ld with a body that is not a JSON "
                             "object",
                             status);
    if (status != 200) {
        r = parse_refusal(status, o, ref, e);
        goto out;
    }
    if ((r = dup_member(o, "token", 1, &g->token)) != LBX_OK ||
        (r = dup_member(o, "grant_id", 1, &g->grant_id)) != LBX_OK ||
        (r = dup_member(o, "request_id", 0, &g->request_id)) != LBX_OK ||
        (r = dup_member(o, "ticket", 0, &g->ticket)) != LBX_OK ||
        (r = dup_member(o, "approved_by", 0, &g->approved_by)) != LBX_OK ||
        (r = lbx_json_get_int(o, "access_end", &g->access_end)) != LBX_OK ||
        !lbx_broker_id_valid(g->grant_id)) {
        lbx_broker_grant_free(g);
        r = lbx_error_set(e, LBX_ERR_HTTP, "broker token answer: missing or malformed member");
    }
out:
    json_decref(o);
    return r;
}

void lbx_broker_grant_free(struct lbx_broker_grant *g)
{
    lbx_free_secret(g->token);
    free(g->grant_id);
    free(g->request_id);
    free(g->ticket);
    free(g->approved_by);
    memset(g, 0, sizeof(*g));
}

lbx_err lbx_broker_request_token(const struct lbx_host_config *cfg, const char *login,
                                 long timeout_ms, struct lbx_broker_grant *g,
                                 struct lbx_broker_refusal *ref, struct lbx_error *e)
{
    struct lbx_http_response resp = {0};
    json_t *req;
    char *body;
    lbx_err r;

    memset(g, 0, sizeof(*g));
    memset(ref, 0, sizeof(*ref));
    req = json_pack("{s:s, s:s}", "host", cfg->host_id, "login", login);
    body = req ? lbx_json_dump(req) : NULL;
    json_decref(req);
    if (body == NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "login is not valid UTF-8");
    r = call(cfg, NULL, "POST", "/v1/host/token", body, timeout_ms, &resp, e);
    free(body);
    if (r == LBX_OK)
        r = lbx_broker_parse_token(resp.status, resp.body.data ? resp.body.data : "", resp.body.len,
                                   g, ref, e);
    lbx_http_response_free(&resp);
    return r;
}

lbx_err lbx_broker_parse_status(long status, const char *body, size_t len, const char *grant_id,
                                enum lbx_grant_status *st, int64_t *access_end, struct lbx_error *e)
{
    const char *id, *s;
    json_t *o = NULL;
    lbx_err r = LBX_OK;

    if (status == 404 || status == 403)
        return lbx_error_set(e, status == 404 ? LBX_ERR_NOT_FOUND : LBX_ERR_FORBIDDEN,
                             "broker answered %ld for grant %s", status, grant_id);
    if (status != 200)
        return lbx_error_set(e, LBX_ERR_HTTP, "broker answered %ld", status);
    if (lbx_json_parse_object(body, len, BROKER_MAX_RESPONSE, BROKER_JSON_DEPTH, &o, NULL) !=
            LBX_OK ||
        lbx_json_get_string(o, "grant_id", &id) != LBX_OK || strcmp(id, grant_id) != 0 ||
        lbx_json_get_string(o, "status", &s) != LBX_OK ||
        lbx_json_get_int(o, "access_end", access_end) != LBX_OK) {
        r = lbx_error_set(e, LBX_ERR_HTTP, "broker grant status: malformed answer");
        goto out;
    }
    if (strcmp(s, "active") == 0)
        *st = LBX_GRANT_ACTIVE;
    else if (strcmp(s, "revoked") == 0)
        *st = LBX_GRANT_REVOKED;
    else if (strcmp(s, "ended") == 0)
        *st = LBX_GRANT_ENDED;
    else
        r = lbx_error_set(e, LBX_ERR_HTTP, "broker grant status: unknown status");
out:
    json_decref(o);
    return r;
}

lbx_err lbx_broker_grant_status(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                                const char *grant_id, int wait, long timeout_ms,
                                enum lbx_grant_status *status, int64_t *access_end,
                                struct lbx_error *e)
{
    struct lbx_http_response resp = {0};
    char path[256];
    lbx_err r;

    if (!lbx_broker_id_valid(grant_id))
        return lbx_error_set(e, LBX_ERR_ARG, "grant id not usable in a URL");
    if (wait > 0)
        snprintf(path, sizeof(path), "/v1/host/grants/%s?wait=%d", grant_id, wait);
    else
        snprintf(path, sizeof(path), "/v1/host/grants/%s", grant_id);
    if ((r = call(cfg, conn, "GET", path, NULL, timeout_ms, &resp, e)) == LBX_OK)
        r = lbx_broker_parse_status(resp.status, resp.body.data ? resp.body.data : "",
                                    resp.body.len, grant_id, status, access_end, e);
    lbx_http_response_free(&resp);
    return r;
}

/* A refusal's "error" and "message", for an administrator to read. */
static lbx_err identity_refused(long status, const json_t *o, struct lbx_error *e)
{
    char code[32] = "", message[160] = "";

    if (o != NULL) {
        copy_member(o, "error", code, sizeof(code));
        copy_member(o, "message", message, sizeof(message));
    }
    return lbx_error_set(e,
                         status == 401   ? LBX_ERR_AUTH
                         : status == 403 ? LBX_ERR_FORBIDDEN
                                         : LBX_ERR_HTTP,
                         "broker answered %ld%s%s%s%s", status, code[0] ? " " : "", code,
                         message[0] ? ": " : "", message);
}

lbx_err lbx_broker_parse_identity(long status, const char *body, size_t len,
                                  struct lbx_broker_identity *id, struct lbx_error *e)
{
    json_t *o = NULL;
    lbx_err r = LBX_OK;

    memset(id, 0, sizeof(*id));
    if (lbx_json_parse_object(body, len, BROKER_MAX_RESPONSE, BROKER_JSON_DEPTH, &o, NULL) !=
        LBX_OK)
        o = NULL;
    if (status != 200) {
        r = identity_refused(status, o, e);
        goto out;
    }
    if (o != NULL) {
        copy_member(o, "host", id->host, sizeof(id->host));
        copy_member(o, "issuer", id->issuer, sizeof(id->issuer));
        copy_member(o, "kid", id->kid, sizeof(id->kid));
    }
    if (!lbx_broker_id_valid(id->host) || id->issuer[0] == '\0' || strlen(id->kid) != LBX_KID_LEN ||
        !lbx_broker_id_valid(id->kid))
        r = lbx_error_set(e, LBX_ERR_HTTP, "broker identity answer: missing or malformed member");
out:
    if (r != LBX_OK)
        memset(id, 0, sizeof(*id));
    json_decref(o);
    return r;
}

lbx_err lbx_broker_host_identity(const struct lbx_host_config *cfg, long timeout_ms,
                                 struct lbx_broker_identity *id, struct lbx_error *e)
{
    struct lbx_http_response resp = {0};
    lbx_err r;

    memset(id, 0, sizeof(*id));
    if ((r = call_tls(cfg, NULL, 0, "GET", "/v1/host/identity", NULL, timeout_ms, &resp, e)) ==
        LBX_OK)
        r = lbx_broker_parse_identity(resp.status, resp.body.data ? resp.body.data : "",
                                      resp.body.len, id, e);
    lbx_http_response_free(&resp);
    return r;
}

/* ---- session reports and their spool ---- */

static char *event_body(const struct lbx_session_event *ev)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "grant_id", ev->grant_id, "login", ev->login,
                          "session", ev->session, "event", ev->event, "time", (json_int_t)ev->time);
    char *text;

    if (o == NULL)
        return NULL;
    if (ev->reason != NULL)
        json_object_set_new(o, "reason", json_string(ev->reason));
    text = lbx_json_dump(o);
    json_decref(o);
    return text;
}

/* 1 delivered, 0 refused for good (4xx: sending it again cannot help), -1 try again later. */
static int post_event(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                      const char *body, long timeout_ms)
{
    struct lbx_http_response resp = {0};
    int result = -1;

    if (call(cfg, conn, "POST", "/v1/host/sessions", body, timeout_ms, &resp, NULL) == LBX_OK) {
        if (resp.status >= 200 && resp.status < 300)
            result = 1;
        else if (resp.status >= 400 && resp.status < 500)
            result = 0;
    }
    lbx_http_response_free(&resp);
    return result;
}

static lbx_err spool_write(const struct lbx_host_config *cfg, const struct lbx_session_event *ev,
                           const char *body, struct lbx_error *e)
{
    char path[4096];

    if (mkdir(cfg->spool_dir, 0700) != 0 && errno != EEXIST)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", cfg->spool_dir, strerror(errno));
    /* Time first so a directory listing sorts oldest first. */
    if ((size_t)snprintf(path, sizeof(path), "%s/%020lld-%s-%s.json", cfg->spool_dir,
                         (long long)ev->time, ev->session, ev->event) >= sizeof(path))
        return lbx_error_set(e, LBX_ERR_ARG, "spool path too long");
    return lbx_file_write_atomic(path, body, strlen(body), 0600, e);
}

lbx_err lbx_broker_report_session(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                                  const struct lbx_session_event *ev, long timeout_ms, int *spooled,
                                  struct lbx_error *e)
{
    char *body;
    lbx_err r = LBX_OK;
    int sent;

    *spooled = 0;
    if (!lbx_broker_id_valid(ev->session) || !lbx_broker_id_valid(ev->grant_id))
        return lbx_error_set(e, LBX_ERR_ARG, "session or grant id not usable");
    if ((body = event_body(ev)) == NULL)
        return lbx_error_set(e, LBX_ERR_ARG, "session event not valid UTF-8");
    sent = post_event(cfg, conn, body, timeout_ms);
    if (sent < 0) {
        r = spool_write(cfg, ev, body, e);
        *spooled = r == LBX_OK;
    } else if (sent == 0) {
        r = lbx_error_set(e, LBX_ERR_HTTP, "broker refused the session %s report", ev->event);
    }
    free(body);
    return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_spool_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 5 && d->d_name[0] != '.' && strcmp(d->d_name + n - 5, ".json") == 0;
}

int lbx_broker_spool_flush(const struct lbx_host_config *cfg, struct lbx_http_conn *conn,
                           long timeout_ms, int *dropped)
{
    struct dirent **names = NULL;
    char path[4096], *body;
    int n, i, left, sent = 1;

    *dropped = 0;
    if ((n = scandir(cfg->spool_dir, &names, is_spool_file, by_name)) < 0)
        return 0;
    left = n;
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", cfg->spool_dir, names[i]->d_name);
        if (sent >= 0 && i < SPOOL_MAX_FILES &&
            lbx_file_read(path, LBX_FILE_SECRET, BROKER_MAX_RESPONSE, &body, NULL, NULL) ==
                LBX_OK) {
            sent = post_event(cfg, conn, body, timeout_ms);
            free(body);
            if (sent >= 0 && unlink(path) == 0) {
                left--;
                *dropped += sent == 0;
            }
        }
        free(names[i]);
    }
    free(names);
    return left;
}
