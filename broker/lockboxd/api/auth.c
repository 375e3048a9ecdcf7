/* Who is calling: a host by its client certificate (CN = host id, chaining to client_ca), a
 * person by API token (stored as SHA-256) or, when people_ca is configured, by a certificate
 * chaining to it whose CN names an identity. A host certificate never authenticates a person
 * and a person's certificate never a host (tls_trust.c).
 * Refusals are audited: they are what an attacker's probing looks like. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "buf.h"
#include "console.h"
#include "log.h"
#include "random.h"
#include "tls_ticket.h"

#define BEARER_MAX 256
#define TOKEN_TOUCH_EVERY 60 /* seconds: last_used is kept to the minute */

/* The verified client certificate's single CN when the certificate is of kind `want` (a host's
 * from client_ca, a person's from people_ca); -1 when none, unverified, of the other kind or
 * malformed. */
static int peer_common_name(struct evhttp_request *req, enum tls_peer_kind want, char *out,
                            size_t outlen)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    X509_NAME *subject;
    unsigned char *utf8 = NULL;
    int idx, len, rc = -1;

    if (cert == NULL || tls_peer_kind(ssl) != want)
        return -1;
    subject = X509_get_subject_name(cert);
    idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
        return -1; /* none, or ambiguous */
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (len > 0 && (size_t)len < outlen && memchr(utf8, '\0', (size_t)len) == NULL) {
        memcpy(out, utf8, (size_t)len);
        out[len] = '\0';
        rc = lbx_valid_name(out) ? 0 : -1;
    }
    OPENSSL_free(utf8);
    return rc;
}

/* Audited with the source address, within that source's budget (refusal_limit.c). */
static void audit_refusal(struct api_req *ar, const char *who, const char *why)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(ar->req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct audit_event ev = {.action = "access_refused", .actor = who};

    if (conn != NULL)
        evhttp_connection_get_peer(conn, &addr, &port);
    if (!refusal_admit(ar->b, addr, (int64_t)time(NULL)))
        return;
    ev.detail =
        json_pack("{s:s, s:s, s:s, s:s?}", "path", ar->path, "method",
                  ar->method == EVHTTP_REQ_GET ? "GET" : "other", "reason", why, "source", addr);
    audit_note(ar->b->store, &ev);
}

static lbx_err resolve_host(struct api_req *ar, struct lbx_error *e)
{
    char cn[LBX_NAME_MAX + 1], actor[LBX_NAME_MAX + 8];
    struct lbx_error ignore = {0};
    json_t *host = NULL;

    if (peer_common_name(ar->req, TLS_PEER_HOST, cn, sizeof(cn)) != 0) {
        if (peer_common_name(ar->req, TLS_PEER_PERSON, cn, sizeof(cn)) == 0)
            audit_refusal(ar, cn, "a person certificate cannot authenticate a host");
        else
            audit_refusal(ar, NULL, "no valid host client certificate");
        return lbx_error_set(e, LBX_ERR_AUTH,
                             "a client certificate from the customer CA is "
                             "required");
    }
    snprintf(actor, sizeof(actor), "host:%s", cn);
    if (store_row(ar->b->store, Q_HOST_GET, SV_PARAMS(SV_TEXT(cn)), &host, &ignore) != LBX_OK) {
        audit_refusal(ar, actor, "certificate names an unknown host");
        return lbx_error_set(e, LBX_ERR_FORBIDDEN, "host '%s' is not in the directory", cn);
    }
    json_decref(host);
    ar->caller.kind = CALLER_HOST;
    snprintf(ar->caller.name, sizeof(ar->caller.name), "%s", cn);
    return LBX_OK;
}

void auth_token_hash(const char *token, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    int i;

    EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* No Authorization header: a person's certificate (people_ca) naming an enabled identity. A
 * host's certificate here is audited: it is somebody trying a host as a person. */
static lbx_err person_by_certificate(struct api_req *ar, char *name, size_t len,
                                     struct lbx_error *e)
{
    struct lbx_error ignore = {0};
    char cn[LBX_NAME_MAX + 1], actor[LBX_NAME_MAX + 8];
    json_t *row = NULL;
    lbx_err r = LBX_OK;

    if (peer_common_name(ar->req, TLS_PEER_PERSON, cn, sizeof(cn)) == 0) {
        if (store_row(ar->b->store, Q_IDENTITY_GET, SV_PARAMS(SV_TEXT(cn)), &row, &ignore) ==
                LBX_OK &&
            row_int(row, "disabled") == 0)
            snprintf(name, len, "%s", cn);
        else
            audit_refusal(ar, cn, "certificate names an unknown or disabled identity");
    } else if (peer_common_name(ar->req, TLS_PEER_HOST, cn, sizeof(cn)) == 0) {
        snprintf(actor, sizeof(actor), "host:%s", cn);
        audit_refusal(ar, actor, "a host certificate cannot authenticate a person");
    }
    if (name[0] == '\0')
        r = lbx_error_set(e, LBX_ERR_AUTH, "an API token (Authorization: Bearer) is required");
    json_decref(row);
    return r;
}

/* Records a token's use, to the minute (not a write per call). Only informational: a failed
 * write is logged, the call goes on. */
static void token_touch(struct api_req *ar, const json_t *row, int64_t now)
{
    struct lbx_error e = {0};
    struct store *st = ar->b->store;

    if (row_int(row, "last_used") > now - TOKEN_TOUCH_EVERY)
        return;
    if (store_begin(st, &e) != LBX_OK)
        goto fail;
    if (store_exec(st, Q_TOKEN_TOUCH, SV_PARAMS(SV_INT(now), SV_TEXT(row_str(row, "id"))), NULL,
                   NULL, &e) != LBX_OK) {
        store_rollback(st);
        goto fail;
    }
    if (store_commit(st, &e) == LBX_OK)
        return;
fail:
    lbx_warn_f("last use of API token %s not recorded: %s", row_str(row, "id"), e.detail);
}

/* An API token works until its expiry (a token without one, which only a hand-edited store
 * can hold, never). */
static lbx_err token_in_date(struct api_req *ar, const json_t *row, struct lbx_error *e)
{
    int64_t now = (int64_t)time(NULL), expires = row_int(row, "expires");
    char why[96];

    if (expires > now) {
        token_touch(ar, row, now);
        return LBX_OK;
    }
    snprintf(why, sizeof(why), "API token %s has expired", row_str(row, "id"));
    audit_refusal(ar, row_str(row, "identity"), why);
    return lbx_error_set(e, LBX_ERR_AUTH,
                         "API token %s expired at %lld: ask an administrator for a new one",
                         row_str(row, "id"), (long long)expires);
}

/* A console session cookie (console.h) -> identity name; for anything but GET the CSRF token
 * and the Origin must match too. 1 when the request carries a console cookie at all (then
 * name or e is set, *r says which). */
static int person_by_console(struct api_req *ar, char *name, size_t len, lbx_err *r,
                             struct lbx_error *e)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(ar->req);
    const char *cookies = evhttp_find_header(in, "Cookie"), *why;
    char sid[CONSOLE_SECRET_LEN + 1];
    struct console_session s;

    if (ar->b->console_table == NULL || cookies == NULL ||
        strstr(cookies, CONSOLE_SESSION_COOKIE) == NULL)
        return 0;
    if (console_session_of_cookies(ar->b->console_table, cookies, (int64_t)time(NULL),
                                   ar->b->cfg.console_idle_timeout,
                                   ar->b->cfg.console_session_lifetime, &s, sid) != 0) {
        audit_refusal(ar, NULL, "unknown or expired console session");
        *r = lbx_error_set(e, LBX_ERR_AUTH, "the console session is over: sign in again");
        return 1;
    }
    if (ar->method != EVHTTP_REQ_GET &&
        (why = console_csrf_refusal(&s, evhttp_find_header(in, "X-CSRF-Token"),
                                    evhttp_find_header(in, "Origin"), ar->b->cfg.console_url)) !=
            NULL) {
        audit_refusal(ar, s.identity, why);
        *r = lbx_error_set(e, LBX_ERR_FORBIDDEN, "%s", why);
        return 1;
    }
    snprintf(name, len, "%s", s.identity);
    *r = LBX_OK;
    return 1;
}

/* Bearer token -> identity name; or a console session; or a person's client certificate. */
static lbx_err person_name(struct api_req *ar, char *name, size_t len, struct lbx_error *e)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(ar->req), "Authorization");
    struct lbx_error ignore = {0};
    char hash[65];
    json_t *row = NULL;
    lbx_err r;

    name[0] = '\0';
    if (h == NULL && person_by_console(ar, name, len, &r, e))
        return r;
    if (h == NULL)
        return person_by_certificate(ar, name, len, e);
    if (strncmp(h, "Bearer ", 7) != 0 || strlen(h + 7) == 0 || strlen(h + 7) > BEARER_MAX) {
        audit_refusal(ar, NULL, "malformed Authorization header");
        return lbx_error_set(e, LBX_ERR_AUTH, "Authorization must be 'Bearer <token>'");
    }
    auth_token_hash(h + 7, hash);
    if (store_row(ar->b->store, Q_TOKEN_BY_HASH, SV_PARAMS(SV_TEXT(hash)), &row, &ignore) !=
        LBX_OK) {
        audit_refusal(ar, NULL, "unknown or revoked API token");
        return lbx_error_set(e, LBX_ERR_AUTH, "unknown or revoked API token");
    }
    r = token_in_date(ar, row, e);
    if (r == LBX_OK)
        snprintf(name, len, "%s", row_str(row, "identity"));
    json_decref(row);
    return r;
}

static lbx_err resolve_person(struct api_req *ar, struct lbx_error *e)
{
    struct caller *c = &ar->caller;
    json_t *who = NULL, *a;
    enum lbx_role role;
    size_t i;
    lbx_err r;

    if ((r = person_name(ar, c->name, sizeof(c->name), e)) != LBX_OK)
        return r;
    if ((r = store_row(ar->b->store, Q_IDENTITY_GET, SV_PARAMS(SV_TEXT(c->name)), &who, e)) !=
            LBX_OK ||
        (r = store_exec(ar->b->store, Q_ROLES_OF_IDENTITY, SV_PARAMS(SV_TEXT(c->name)),
                        &c->assignments, NULL, e)) != LBX_OK) {
        json_decref(who);
        return r == LBX_ERR_NOT_FOUND ? lbx_error_set(e, LBX_ERR_AUTH, "unknown identity") : r;
    }
    snprintf(c->login, sizeof(c->login), "%s", row_str(who, "login") ? row_str(who, "login") : "");
    json_decref(who);
    json_array_foreach(c->assignments, i, a)
    {
        if (lbx_role_parse(row_str(a, "role"), &role) == LBX_OK)
            c->roles |= 1u << role;
    }
    c->kind = CALLER_PERSON;
    return LBX_OK;
}

lbx_err auth_resolve(struct api_req *ar, int want_host, struct lbx_error *e)
{
    return want_host ? resolve_host(ar, e) : resolve_person(ar, e);
}

lbx_err auth_token_create(struct store *st, const char *identity, const char *label,
                          int64_t expires, char **secret, char **id, struct lbx_error *e)
{
    char hash[65], *rnd = NULL, *tok = NULL, *tid = NULL;
    struct lbx_buf b;
    lbx_err r;

    *secret = *id = NULL;
    lbx_buf_init(&b, 128);
    if ((r = lbx_random_b64url(32, &rnd)) != LBX_OK ||
        (r = lbx_buf_printf(&b, "lbx_%s", rnd)) != LBX_OK)
        goto out;
    tok = lbx_buf_steal(&b);
    lbx_free_secret(rnd);
    if ((r = lbx_random_b64url(9, &rnd)) != LBX_OK ||
        (r = lbx_buf_printf(&b, "T-%s", rnd)) != LBX_OK)
        goto out;
    tid = lbx_buf_steal(&b);
    auth_token_hash(tok, hash);
    r = store_exec(st, Q_TOKEN_INSERT,
                   SV_PARAMS(SV_TEXT(tid), SV_TEXT(identity), SV_TEXT(hash), SV_TEXT(label),
                             SV_INT(time(NULL)), SV_INT(expires)),
                   NULL, NULL, e);
out:
    lbx_free_secret(rnd);
    lbx_buf_free(&b);
    if (r != LBX_OK) {
        lbx_free_secret(tok);
        free(tid);
        return e && e->code ? r : lbx_error_set(e, r, "api token");
    }
    *secret = tok;
    *id = tid;
    return LBX_OK;
}
