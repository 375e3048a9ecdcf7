/* The console's HTTP side: its pages (static files, no inline script), sign-in and sign-out,
 * the session cookie and the CSRF checks, and the security headers on every answer. The
 * pages' data comes from the /v1/ API, which a console session authenticates like an API
 * token (api/auth.c). */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "broker.h"
#include "console.h"
#include "console_http.h"
#include "file.h"
#include "log.h"

#define LOGIN_COOKIE "__Host-lbx_login"
#define STATIC_MAX (1024 * 1024)
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* An answer in the making: its request and what it still needs. */
struct pending {
    struct broker *b;
    struct evhttp_request *req;
    int gone; /* the client went away; the job's result is dropped */
    char source[64];
};

static void security_headers(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Security-Policy", CSP);
    evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
}

static void answer(struct broker *b, struct evhttp_request *req, int status, const char *type,
                   const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *out = evbuffer_new();

    security_headers(req);
    if (evhttp_find_header(h, "Cache-Control") == NULL)
        evhttp_add_header(h, "Cache-Control", "no-store");
    if (type != NULL)
        evhttp_add_header(h, "Content-Type", type);
    if (out != NULL && body != NULL)
        evbuffer_add(out, body, len);
    broker_send_reply(b, req, status, status < 400 ? "OK" : "Error", out);
    evbuffer_free(out);
}

/* A page of fixed text: nothing in it comes from the request, so nothing needs escaping. */
static void send_page(struct broker *b, struct evhttp_request *req, int status, const char *text)
{
    char html[1024];
    int n = snprintf(html, sizeof(html),
                     "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>lockbox</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
                     "</head><body><main class=\"notice\"><h1>lockbox</h1><p>%s</p>"
                     "<p><a href=\"/\">Back to the console</a></p></main></body></html>",
                     text);

    answer(b, req, status, "text/html; charset=utf-8", html, (size_t)n);
}

static void send_json(struct broker *b, struct evhttp_request *req, int status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

    json_decref(obj);
    if (text == NULL)
        send_page(b, req, 500, "Internal error.");
    else
        answer(b, req, status, "application/json", text, strlen(text));
    free(text);
}

static void redirect(struct broker *b, struct evhttp_request *req, int status, const char *to)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", to);
    answer(b, req, status, NULL, NULL, 0);
}

static void set_cookie(struct evhttp_request *req, const char *name, const char *value,
                       const char *same_site, int64_t max_age)
{
    char c[256];

    snprintf(c, sizeof(c), "%s=%s; Path=/; Secure; HttpOnly; SameSite=%s; Max-Age=%lld", name,
             value, same_site, (long long)max_age);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", c);
}

static const char *header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static void peer_addr(struct evhttp_request *req, char *out, size_t len)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;

    if (conn != NULL)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(out, len, "%s", addr ? addr : "");
}

/* ---- static files ---- */

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"}};
    const char *dot = strrchr(name, '.');
    size_t i;

    for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Only plain names ([a-z0-9-] and one extension we serve): no path can leave the folder. */
static int plain_name(const char *name)
{
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");

    return n > 0 && name[n] == '.' &&
           strspn(name + n + 1, "abcdefghijklmnopqrstuvwxyz") == strlen(name + n + 1) &&
           strlen(name) < 64 && content_type(name) != NULL;
}

static void serve_file(struct broker *b, struct evhttp_request *req, const char *name)
{
    const char *dir = b->cfg.console_web_dir ? b->cfg.console_web_dir : BROKER_CONSOLE_WEB_DIR;
    struct lbx_error e = {0};
    char path[1024], msg[300];
    char *data = NULL;
    size_t len = 0;

    if (!plain_name(name)) {
        send_page(b, req, 404, "No such page.");
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lbx_file_read(path, LBX_FILE_TRUSTED, STATIC_MAX, &data, &len, &e) != LBX_OK) {
        if (e.code != LBX_ERR_IO)
            lbx_warn_f("console: %s", lbx_error_text(&e, msg, sizeof(msg)));
        send_page(b, req, 404, "No such page.");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
    answer(b, req, 200, content_type(name), data, len);
    free(data);
}

/* ---- audit ---- */

static void audit_console(struct broker *b, const char *action, const char *actor,
                          const char *source, const char *why)
{
    struct audit_event ev = {.action = action, .actor = actor};
    struct lbx_error e = {0};

    ev.detail = json_pack("{s:s, s:s?}", "source", source, "reason", why);
    if (strcmp(action, "console_sign_in_refused") == 0) {
        if (refusal_admit(b, source, (int64_t)time(NULL)))
            audit_note(b->store, &ev);
        else
            json_decref(ev.detail);
        return;
    }
    if (audit_record(b->store, &ev, &e) != LBX_OK)
        lbx_error_f("console: %s not audited: %s", action, e.detail);
}

/* ---- sign-in ---- */

static void pending_closed(struct evhttp_connection *conn, void *arg)
{
    ((struct pending *)arg)->gone = 1;
}

static struct pending *pending_new(struct broker *b, struct evhttp_request *req)
{
    struct pending *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->b = b;
    p->req = req;
    peer_addr(req, p->source, sizeof(p->source));
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), pending_closed, p);
    return p;
}

/* The job is back: 1 when its request may still be answered. Frees p when not. */
static int pending_live(struct pending *p)
{
    if (p->gone) {
        free(p);
        return 0;
    }
    evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
    return 1;
}

static void authorize_done(struct broker *b, void *arg, json_t *claims, const char *to,
                           const struct lbx_error *e)
{
    struct pending *p = arg;
    char msg[300];

    if (!pending_live(p))
        return;
    if (to == NULL) {
        lbx_warn_f("console: identity provider: %s", lbx_error_text(e, msg, sizeof(msg)));
        send_page(b, p->req, 502, "The identity provider cannot be reached. Try again later.");
    } else {
        redirect(b, p->req, 302, to);
    }
    free(p);
}

static void sign_in_begin(struct broker *b, struct evhttp_request *req)
{
    struct console_login login;
    struct pending *p;

    if (console_login_begin(b->console_table, (int64_t)time(NULL), &login) != LBX_OK ||
        (p = pending_new(b, req)) == NULL) {
        send_page(b, req, 500, "Internal error.");
        return;
    }
    /* Lax: the provider's redirect back is a cross-site top-level navigation. */
    set_cookie(req, LOGIN_COOKIE, login.state, "Lax", CONSOLE_LOGIN_TTL);
    if (console_oidc_authorize_url(b, &login, authorize_done, p) != 0) {
        pending_live(p);
        free(p);
        evhttp_clear_headers(evhttp_request_get_output_headers(req));
        send_page(b, req, 503, "Too many sign-ins at once. Try again in a moment.");
    }
    memset(&login, 0, sizeof(login));
}

/* The identity the verified claims name: by e-mail (unique, enabled) or by subject = name. */
static int map_identity(struct broker *b, const json_t *claims, char *name, size_t len,
                        const char **why)
{
    const char *claim = b->cfg.oidc_identity_claim ? b->cfg.oidc_identity_claim : "email";
    const char *value = json_string_value(json_object_get(claims, claim));
    const json_t *verified = json_object_get(claims, "email_verified");
    struct lbx_error e = {0};
    json_t *rows = NULL, *row;
    size_t i, n = 0;

    if (value == NULL || value[0] == '\0') {
        *why = "the ID token has no usable identity claim";
        return -1;
    }
    if (strcmp(claim, "email") == 0 && json_is_false(verified)) {
        *why = "the provider says the e-mail address is not verified";
        return -1;
    }
    if (store_exec(b->store, Q_IDENTITY_LIST, NULL, &rows, NULL, &e) != LBX_OK) {
        *why = "the directory cannot be read";
        return -1;
    }
    json_array_foreach(rows, i, row)
    {
        const char *have =
            strcmp(claim, "email") == 0 ? row_str(row, "email") : row_str(row, "name");

        if (have == NULL ||
            (strcmp(claim, "email") == 0 ? strcasecmp(have, value) : strcmp(have, value)) != 0)
            continue;
        if (row_int(row, "disabled") == 0 && n++ == 0)
            snprintf(name, len, "%s", row_str(row, "name"));
    }
    json_decref(rows);
    if (n != 1)
        *why = n == 0 ? "no enabled lockbox identity has this e-mail or subject"
                      : "several lockbox identities have this e-mail";
    return n == 1 ? 0 : -1;
}

static void exchange_done(struct broker *b, void *arg, json_t *claims, const char *to,
                          const struct lbx_error *e)
{
    struct pending *p = arg;
    struct console_session s;
    char name[LBX_NAME_MAX + 1] = "", sid[CONSOLE_SECRET_LEN + 1], msg[300];
    const char *why = NULL;

    if (!pending_live(p))
        return;
    if (claims == NULL) {
        why = lbx_error_text(e, msg, sizeof(msg));
    } else if (map_identity(b, claims, name, sizeof(name), &why) == 0 &&
               console_session_open(b->console_table, name, (int64_t)time(NULL), sid, &s) !=
                   LBX_OK) {
        why = "no session could be made";
    }
    if (why != NULL) {
        lbx_warn_f("console: sign-in refused from %s: %s", p->source, why);
        audit_console(b, "console_sign_in_refused", name[0] ? name : NULL, p->source, why);
        send_page(b, p->req, 403,
                  "Sign-in refused. Ask your lockbox administrator whether your account is "
                  "registered; the refusal is in the audit log.");
    } else {
        audit_console(b, "console_signed_in", name, p->source, NULL);
        set_cookie(p->req, CONSOLE_SESSION_COOKIE, sid, "Strict", b->cfg.console_session_lifetime);
        set_cookie(p->req, LOGIN_COOKIE, "gone", "Lax", 0);
        redirect(b, p->req, 303, "/");
        memset(sid, 0, sizeof(sid));
    }
    free(p);
}

static const char *query_param(struct evhttp_request *req, struct evkeyvalq *q, const char *name)
{
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

    if (q->tqh_first == NULL && (query == NULL || evhttp_parse_query_str(query, q) != 0))
        return NULL;
    return evhttp_find_header(q, name);
}

static void sign_in_finish(struct broker *b, struct evhttp_request *req)
{
    struct evkeyvalq q = {NULL, &q.tqh_first};
    char cookie_state[CONSOLE_SECRET_LEN + 1], source[64];
    const char *state = query_param(req, &q, "state"), *code = query_param(req, &q, "code");
    const char *why = NULL, *cookies = header(req, "Cookie");
    struct console_login login;
    struct pending *p;

    /* The state must be the one this browser's sign-in began with (no login CSRF). */
    if (state == NULL || code == NULL || strlen(code) > 2048)
        why = "the provider sent no code or state (or an error)";
    else if (cookies == NULL || console_cookie_value(cookies, LOGIN_COOKIE, cookie_state) != 0 ||
             !console_secret_equal(cookie_state, state))
        why = "the state is not the one this browser's sign-in began with";
    else if (console_login_take(b->console_table, state, (int64_t)time(NULL), &login) != 0)
        why = "unknown, used or expired sign-in state";
    if (why != NULL) {
        peer_addr(req, source, sizeof(source));
        audit_console(b, "console_sign_in_refused", NULL, source, why);
        send_page(b, req, 400, "This sign-in is not valid any more. Start again from the console.");
    } else if ((p = pending_new(b, req)) == NULL) {
        send_page(b, req, 500, "Internal error.");
    } else if (console_oidc_exchange(b, &login, code, exchange_done, p) != 0) {
        pending_live(p);
        free(p);
        send_page(b, req, 503, "Too many sign-ins at once. Try again in a moment.");
    }
    memset(&login, 0, sizeof(login));
    evhttp_clear_headers(&q);
}

/* ---- the session ---- */

static int current_session(struct broker *b, struct evhttp_request *req, struct console_session *s,
                           char sid[CONSOLE_SECRET_LEN + 1])
{
    return console_session_of_cookies(b->console_table, header(req, "Cookie"), (int64_t)time(NULL),
                                      b->cfg.console_idle_timeout, b->cfg.console_session_lifetime,
                                      s, sid);
}

static void session_info(struct broker *b, struct evhttp_request *req)
{
    char sid[CONSOLE_SECRET_LEN + 1];
    struct console_session s;

    if (current_session(b, req, &s, sid) != 0) {
        send_json(b, req, 401, json_pack("{s:s}", "error", "unauthenticated"));
        return;
    }
    send_json(b, req, 200,
              json_pack("{s:s, s:s, s:I, s:I}", "identity", s.identity, "csrf", s.csrf,
                        "idle_timeout", (json_int_t)b->cfg.console_idle_timeout, "expires",
                        (json_int_t)(s.created + b->cfg.console_session_lifetime)));
    memset(&s, 0, sizeof(s));
}

static void sign_out(struct broker *b, struct evhttp_request *req)
{
    char sid[CONSOLE_SECRET_LEN + 1], source[64];
    struct console_session s;
    const char *why;

    peer_addr(req, source, sizeof(source));
    if (current_session(b, req, &s, sid) != 0) {
        send_json(b, req, 401, json_pack("{s:s}", "error", "unauthenticated"));
        return;
    }
    if ((why = console_csrf_refusal(&s, header(req, "X-CSRF-Token"), header(req, "Origin"),
                                    b->cfg.console_url)) != NULL) {
        audit_console(b, "console_sign_in_refused", s.identity, source, why);
        send_json(b, req, 403, json_pack("{s:s, s:s}", "error", "forbidden", "message", why));
        return;
    }
    console_session_close(b->console_table, sid);
    audit_console(b, "console_signed_out", s.identity, source, NULL);
    set_cookie(req, CONSOLE_SESSION_COOKIE, "gone", "Strict", 0);
    answer(b, req, 204, NULL, NULL, 0);
}

/* ---- routes ---- */

void console_handle(struct broker *b, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    if (b->console_table == NULL) {
        send_page(b, req, 404, "The web console is not enabled on this broker.");
        return;
    }
    if (m == EVHTTP_REQ_GET && strcmp(path, "/") == 0)
        serve_file(b, req, "index.html");
    else if (m == EVHTTP_REQ_GET && strncmp(path, "/static/", 8) == 0)
        serve_file(b, req, path + 8);
    else if (m == EVHTTP_REQ_GET && strcmp(path, "/auth/login") == 0)
        sign_in_begin(b, req);
    else if (m == EVHTTP_REQ_GET && strcmp(path, "/auth/callback") == 0)
        sign_in_finish(b, req);
    else if (m == EVHTTP_REQ_GET && strcmp(path, "/auth/session") == 0)
        session_info(b, req);
    else if (m == EVHTTP_REQ_POST && strcmp(path, "/auth/logout") == 0)
        sign_out(b, req);
    else
        send_page(b, req, 404, "No such page.");
}
