/* The console's side of OpenID Connect: the provider's discovery document and JWKS (fetched with
 * lib/net/http_client.c, verified against oidc_ca, cached), the authorization URL, and the exchange
 * of a code for an ID token (client_secret_post, PKCE code_verifier). A provider can be slow:
 * each of these runs on a thread of its own, never on the event loop that answers hosts'
 * token calls, and hands its result back to the loop through a pipe. */
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "buf.h"
#include "console.h"
#include "http_client.h"
#include "json.h"
#include "log.h"

#define JOBS_MAX 16
#define CACHE_TTL 3600      /* discovery and keys are fetched again after an hour */
#define JWKS_REFETCH_MIN 30 /* an unknown kid fetches the keys again, at most this often */
#define OIDC_TIMEOUT_MS 5000
#define OIDC_MAX_RESPONSE (256 * 1024)
#define IDTOKEN_LEEWAY 60
#define IDTOKEN_MAX_AGE 600

struct console_oidc {
    int pipe_rd, pipe_wr;
    struct event *ev;
    int inflight;
    pthread_mutex_t mu; /* the cache below, shared by the jobs' threads */
    json_t *discovery, *jwks;
    int64_t discovery_at, jwks_at;
};

enum job_kind { JOB_AUTHORIZE, JOB_EXCHANGE };

struct job {
    struct broker *b;
    struct console_oidc *o;
    enum job_kind kind;
    struct console_login login;
    char *code;
    /* Copies: a SIGHUP may replace the configuration while the thread runs. */
    char *issuer, *client_id, *secret, *ca, *redirect_uri;
    console_oidc_done *done;
    void *arg;
    json_t *claims;
    char *redirect;
    struct lbx_error e;
};

static void job_free(struct job *j)
{
    free(j->code);
    free(j->issuer);
    free(j->client_id);
    lbx_free_secret(j->secret);
    free(j->ca);
    free(j->redirect_uri);
    json_decref(j->claims);
    free(j->redirect);
    memset(&j->login, 0, sizeof(j->login));
    free(j);
}

/* GET or POST (form) url; the answer must be a 200 with a JSON object. */
static lbx_err fetch_json(const struct job *j, const char *method, const char *url,
                          const char *form, json_t **out, struct lbx_error *e)
{
    struct lbx_http_opts o = {.ca_file = j->ca,
                              .timeout_ms = OIDC_TIMEOUT_MS,
                              .max_response = OIDC_MAX_RESPONSE,
                              .content_type = form ? "application/x-www-form-urlencoded" : NULL};
    struct lbx_http_response resp = {0};
    lbx_err r;

    *out = NULL;
    if ((r = lbx_http_request(&o, method, url, form, &resp, e)) != LBX_OK)
        return r;
    if (resp.status != 200)
        r = lbx_error_set(e, LBX_ERR_HTTP, "the identity provider answered HTTP %ld", resp.status);
    else
        r = lbx_json_parse_object(resp.body.data, resp.body.len, OIDC_MAX_RESPONSE,
                                  LBX_JSON_MAX_DEPTH, out, e);
    lbx_http_response_free(&resp);
    return r;
}

static const char *https_member(const json_t *doc, const char *name)
{
    const char *v = json_string_value(json_object_get(doc, name));

    return v != NULL && strncmp(v, "https://", 8) == 0 ? v : NULL;
}

/* The discovery document, cached; its issuer must be exactly the configured one (OpenID
 * Connect Discovery 4.3), its endpoints https. A new reference in *out. */
static lbx_err discovery(struct job *j, json_t **out, struct lbx_error *e)
{
    struct console_oidc *o = j->o;
    int64_t now = (int64_t)time(NULL);
    const char *iss;
    json_t *doc = NULL;
    char url[1024];
    size_t n = strlen(j->issuer);
    lbx_err r;

    pthread_mutex_lock(&o->mu);
    if (o->discovery != NULL && now - o->discovery_at < CACHE_TTL)
        doc = json_incref(o->discovery);
    pthread_mutex_unlock(&o->mu);
    if ((*out = doc) != NULL)
        return LBX_OK;
    snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
             (int)(n > 0 && j->issuer[n - 1] == '/' ? n - 1 : n), j->issuer);
    if ((r = fetch_json(j, "GET", url, NULL, &doc, e)) != LBX_OK)
        return r;
    iss = json_string_value(json_object_get(doc, "issuer"));
    if (iss == NULL || strcmp(iss, j->issuer) != 0 ||
        https_member(doc, "authorization_endpoint") == NULL ||
        https_member(doc, "token_endpoint") == NULL || https_member(doc, "jwks_uri") == NULL) {
        json_decref(doc);
        return lbx_error_set(e, LBX_ERR_HTTP,
                             "the provider's discovery document names another issuer or a "
                             "non-https endpoint");
    }
    pthread_mutex_lock(&o->mu);
    json_decref(o->discovery);
    o->discovery = json_incref(doc);
    o->discovery_at = now;
    pthread_mutex_unlock(&o->mu);
    *out = doc;
    return LBX_OK;
}

/* The provider's keys, cached; `fresh` fetches them again unless that was just done. */
static lbx_err jwks(struct job *j, const json_t *disc, int fresh, json_t **out, struct lbx_error *e)
{
    struct console_oidc *o = j->o;
    int64_t now = (int64_t)time(NULL);
    json_t *keys = NULL;
    lbx_err r;

    pthread_mutex_lock(&o->mu);
    if (o->jwks != NULL && now - o->jwks_at < (fresh ? JWKS_REFETCH_MIN : CACHE_TTL))
        keys = json_incref(o->jwks);
    pthread_mutex_unlock(&o->mu);
    if ((*out = keys) != NULL)
        return LBX_OK;
    if ((r = fetch_json(j, "GET", https_member(disc, "jwks_uri"), NULL, &keys, e)) != LBX_OK)
        return r;
    pthread_mutex_lock(&o->mu);
    json_decref(o->jwks);
    o->jwks = json_incref(keys);
    o->jwks_at = now;
    pthread_mutex_unlock(&o->mu);
    *out = keys;
    return LBX_OK;
}

/* "&name=value" with value percent-encoded. */
static lbx_err add_param(struct lbx_buf *b, const char *name, const char *value)
{
    char *enc = evhttp_encode_uri(value);
    lbx_err r = enc ? lbx_buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, enc) : LBX_ERR_NOMEM;

    free(enc);
    return r;
}

static lbx_err authorize_url(struct job *j, struct lbx_error *e)
{
    char challenge[CONSOLE_SECRET_LEN + 1];
    const char *endpoint;
    struct lbx_buf q;
    json_t *disc = NULL;
    lbx_err r;

    if ((r = discovery(j, &disc, e)) != LBX_OK)
        return r;
    endpoint = https_member(disc, "authorization_endpoint");
    console_pkce_challenge(j->login.verifier, challenge);
    lbx_buf_init(&q, 8192);
    if ((r = add_param(&q, "response_type", "code")) != LBX_OK ||
        (r = add_param(&q, "client_id", j->client_id)) != LBX_OK ||
        (r = add_param(&q, "redirect_uri", j->redirect_uri)) != LBX_OK ||
        (r = add_param(&q, "scope", "openid email")) != LBX_OK ||
        (r = add_param(&q, "state", j->login.state)) != LBX_OK ||
        (r = add_param(&q, "nonce", j->login.nonce)) != LBX_OK ||
        (r = add_param(&q, "code_challenge", challenge)) != LBX_OK ||
        (r = add_param(&q, "code_challenge_method", "S256")) != LBX_OK ||
        asprintf(&j->redirect, "%s%s%s", endpoint, strchr(endpoint, '?') ? "&" : "?", q.data) < 0) {
        j->redirect = NULL;
        r = lbx_error_set(e, LBX_ERR_NOMEM, "authorization URL");
    }
    lbx_buf_free(&q);
    json_decref(disc);
    return r;
}

static lbx_err verify_id_token(struct job *j, const json_t *disc, const char *idt,
                               struct lbx_error *e)
{
    struct idtoken_expect x = {.issuer = j->issuer,
                               .client_id = j->client_id,
                               .nonce = j->login.nonce,
                               .now = (int64_t)time(NULL),
                               .leeway = IDTOKEN_LEEWAY,
                               .max_age = IDTOKEN_MAX_AGE};
    json_t *keys = NULL;
    lbx_err r;

    if ((r = jwks(j, disc, 0, &keys, e)) != LBX_OK)
        return r;
    r = console_idtoken_verify(idt, strlen(idt), keys, &x, &j->claims, e);
    json_decref(keys);
    if (r != LBX_ERR_TOKEN_KID)
        return r;
    /* The provider may have rolled its keys since they were cached. */
    if ((r = jwks(j, disc, 1, &keys, e)) != LBX_OK)
        return r;
    r = console_idtoken_verify(idt, strlen(idt), keys, &x, &j->claims, e);
    json_decref(keys);
    return r;
}

static lbx_err exchange(struct job *j, struct lbx_error *e)
{
    json_t *disc = NULL, *answer = NULL;
    const char *idt;
    struct lbx_buf form;
    lbx_err r;

    lbx_buf_init(&form, 16384);
    if ((r = discovery(j, &disc, e)) != LBX_OK)
        goto out;
    if ((r = add_param(&form, "grant_type", "authorization_code")) != LBX_OK ||
        (r = add_param(&form, "code", j->code)) != LBX_OK ||
        (r = add_param(&form, "redirect_uri", j->redirect_uri)) != LBX_OK ||
        (r = add_param(&form, "client_id", j->client_id)) != LBX_OK ||
        (r = add_param(&form, "client_secret", j->secret)) != LBX_OK ||
        (r = add_param(&form, "code_verifier", j->login.verifier)) != LBX_OK) {
        r = lbx_error_set(e, r, "token request");
        goto out;
    }
    if ((r = fetch_json(j, "POST", https_member(disc, "token_endpoint"), form.data, &answer, e)) !=
        LBX_OK)
        goto out;
    if (lbx_json_get_string(answer, "id_token", &idt) != LBX_OK) {
        r = lbx_error_set(e, LBX_ERR_HTTP, "the provider's token answer has no id_token");
        goto out;
    }
    r = verify_id_token(j, disc, idt, e);
out:
    json_decref(answer);
    json_decref(disc);
    lbx_buf_free(&form); /* wiped: it holds the client secret */
    return r;
}

static void *job_thread(void *arg)
{
    struct job *j = arg;

    if (j->kind == JOB_AUTHORIZE)
        authorize_url(j, &j->e);
    else
        exchange(j, &j->e);
    /* A pointer is written whole to a pipe (PIPE_BUF); the loop finishes the job. */
    if (write(j->o->pipe_wr, &j, sizeof(j)) != (ssize_t)sizeof(j))
        lbx_error_f("console: cannot hand a sign-in back to the loop: %s", strerror(errno));
    return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct broker *b = arg;
    struct job *j;

    while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
        b->console_oidc->inflight--;
        j->done(b, j->arg, j->e.code == LBX_OK ? j->claims : NULL, j->redirect, &j->e);
        job_free(j);
    }
}

static int dup_config(struct job *j, const struct broker_config *c)
{
    char uri[1024];

    snprintf(uri, sizeof(uri), "%s/auth/callback", c->console_url);
    j->issuer = strdup(c->oidc_issuer);
    j->client_id = strdup(c->oidc_client_id);
    j->secret = strdup(c->oidc_client_secret);
    j->ca = strdup(c->oidc_ca);
    j->redirect_uri = strdup(uri);
    return j->issuer && j->client_id && j->secret && j->ca && j->redirect_uri ? 0 : -1;
}

/* 0 when the job runs (done will be called on the loop), -1 when busy or out of resources. */
static int run_job(struct broker *b, enum job_kind kind, const struct console_login *login,
                   const char *code, console_oidc_done *done, void *arg)
{
    struct console_oidc *o = b->console_oidc;
    pthread_attr_t attr;
    pthread_t t;
    struct job *j;
    int rc;

    if (o == NULL || o->inflight >= JOBS_MAX || (j = calloc(1, sizeof(*j))) == NULL)
        return -1;
    *j = (struct job){.b = b, .o = o, .kind = kind, .login = *login, .done = done, .arg = arg};
    if (dup_config(j, &b->cfg) != 0 || (code != NULL && (j->code = strdup(code)) == NULL)) {
        job_free(j);
        return -1;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, job_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        job_free(j);
        return -1;
    }
    o->inflight++;
    return 0;
}

int console_oidc_authorize_url(struct broker *b, const struct console_login *login,
                               console_oidc_done *done, void *arg)
{
    return run_job(b, JOB_AUTHORIZE, login, NULL, done, arg);
}

int console_oidc_exchange(struct broker *b, const struct console_login *login, const char *code,
                          console_oidc_done *done, void *arg)
{
    return run_job(b, JOB_EXCHANGE, login, code, done, arg);
}

lbx_err console_oidc_start(struct broker *b, struct lbx_error *e)
{
    struct console_oidc *o;
    int fds[2];

    if ((o = calloc(1, sizeof(*o))) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "console");
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(o);
        return lbx_error_set(e, LBX_ERR_SYSTEM, "console pipe: %s", strerror(errno));
    }
    o->pipe_rd = fds[0];
    o->pipe_wr = fds[1];
    pthread_mutex_init(&o->mu, NULL);
    b->console_oidc = o;
    if ((o->ev = event_new(b->base, o->pipe_rd, EV_READ | EV_PERSIST, on_done, b)) == NULL ||
        event_add(o->ev, NULL) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "console event");
    return LBX_OK;
}

/* Jobs still running finish on their own; the pipe stays open for them until the process
 * ends (their answers are not wanted any more). */
void console_oidc_stop(struct broker *b)
{
    struct console_oidc *o = b->console_oidc;

    if (o == NULL)
        return;
    if (o->ev != NULL)
        event_free(o->ev);
    o->ev = NULL;
    if (o->inflight > 0)
        return;
    close(o->pipe_rd);
    close(o->pipe_wr);
    pthread_mutex_destroy(&o->mu);
    json_decref(o->discovery);
    json_decref(o->jwks);
    free(o);
    b->console_oidc = NULL;
}
