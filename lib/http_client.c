#include "http_client.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_DEFAULT_TIMEOUT_MS 3000
#define HTTP_DEFAULT_MAX_RESPONSE (1024 * 1024)

/* libcurl is loaded when first needed, not linked: it brings ~30 shared libraries whose loading
 * and constructors cost ~4 ms of CPU at start (measured: a program linked with -lcurl starts in
 * 5.8 ms, without it in 2.2 ms), which the reaper now pays only after it has reported ready and
 * the hook never pays. A libcurl that cannot load is an error of the support login's broker
 * call, not a module that fails to load for everyone. Loaded once per process and never
 * unloaded; the table is written once, under pthread_once. */
#define CURL_LIBRARY "libcurl.so.4"

static struct curl_api {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} C;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_load_error[256]; /* empty when C is usable */

/* OpenSSL 3 builds its tables of algorithms (ciphers, digests, signature schemes, groups,
 * each fetched from the provider) the first time a process makes a TLS context: ~1 ms that a
 * process pays in its first request and never again. Making and dropping one context here moves
 * that into the load (for the module: into sshd's padded "none" authentication). libssl is
 * reached through libcurl's own dependency, so nothing links it. Best effort: a failure here
 * only means the first request pays it. */
static void warm_tls(void *curl_handle)
{
    const void *(*client_method)(void) = (const void *(*)(void))dlsym(curl_handle, "TLS_client_method");
    void *(*ctx_new)(const void *) = (void *(*)(const void *))dlsym(curl_handle, "SSL_CTX_new");
    void (*ctx_free)(void *) = (void (*)(void *))dlsym(curl_handle, "SSL_CTX_free");
    void *ctx;

    if (client_method == NULL || ctx_new == NULL || ctx_free == NULL)
        return;
    if ((ctx = ctx_new(client_method())) != NULL)
        ctx_free(ctx);
}

static void load_curl(void)
{
    static const char *const names[] = {
        "curl_global_init",  "curl_global_cleanup", "curl_easy_init",
        "curl_easy_setopt",  "curl_easy_perform",   "curl_easy_getinfo",
        "curl_easy_cleanup", "curl_easy_reset",     "curl_easy_strerror",
        "curl_slist_append", "curl_slist_free_all"};
    void *fn[sizeof(names) / sizeof(names[0])], *h = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    const char *why;
    size_t i;

    if (h == NULL) {
        why = dlerror();
        snprintf(curl_load_error, sizeof(curl_load_error), "%s", why ? why : CURL_LIBRARY);
        return;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((fn[i] = dlsym(h, names[i])) == NULL) {
            snprintf(curl_load_error, sizeof(curl_load_error), "%s: no %s", CURL_LIBRARY,
                     names[i]);
            return;
        }
    }
    _Static_assert(sizeof(C) == sizeof(fn), "one pointer per name");
    memcpy(&C, fn, sizeof(C));
    if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(curl_load_error, sizeof(curl_load_error), "curl_global_init failed");
        memset(&C, 0, sizeof(C));
        return;
    }
    warm_tls(h);
}

lbx_err lbx_http_init(struct lbx_error *e)
{
    pthread_once(&curl_once, load_curl);
    if (curl_load_error[0] != '\0')
        return lbx_error_set(e, LBX_ERR_HTTP_CLIENT, "%s", curl_load_error);
    return LBX_OK;
}

void lbx_http_cleanup(void)
{
    if (C.global_cleanup != NULL)
        C.global_cleanup();
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct lbx_buf *b = userdata;
    size_t n = size * nmemb;

    /* Returning a short count makes curl abort the transfer with CURLE_WRITE_ERROR. */
    return lbx_buf_append(b, data, n) == LBX_OK ? n : 0;
}

static lbx_err map_curl_error(CURLcode rc, const char *url, const char *detail, struct lbx_error *e)
{
    const char *text = detail[0] ? detail : C.easy_strerror(rc);

    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return lbx_error_set(e, LBX_ERR_BROKER_TIMEOUT, "%s: %s", url, text);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return lbx_error_set(e, LBX_ERR_TLS, "%s: %s", url, text);
    case CURLE_WRITE_ERROR:
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "%s: response too large", url);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", url, text);
    default:
        return lbx_error_set(e, LBX_ERR_BROKER_UNREACHABLE, "%s: %s", url, text);
    }
}

static CURLcode apply_options(CURL *c, const struct lbx_http_opts *o, const char *method,
                              const char *url, const char *body, struct curl_slist *headers,
                              struct lbx_http_response *resp, char *errbuf)
{
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
    if (rc == CURLE_OK)                                                                            \
    rc = C.easy_setopt(c, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_NOSIGNAL, 1L); /* we run inside sshd: no SIGALRM games */
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, ""); /* never a proxy from the environment */
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms ? o->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_CAINFO, o->ca_file);
    SET(CURLOPT_CAPATH, NULL);
    if (o->cert_file != NULL) {
        SET(CURLOPT_SSLCERT, o->cert_file);
        SET(CURLOPT_SSLKEY, o->key_file ? o->key_file : o->cert_file);
    }
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_WRITEFUNCTION, collect);
    SET(CURLOPT_WRITEDATA, &resp->body);
    SET(CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        SET(CURLOPT_POSTFIELDS, body);
        SET(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "GET") != 0) {
        SET(CURLOPT_POSTFIELDS, "");
    }
#undef SET
    return rc;
}

struct lbx_http_conn {
    CURL *curl;
};

lbx_err lbx_http_conn_new(struct lbx_http_conn **conn, struct lbx_error *e)
{
    lbx_err r;

    *conn = NULL;
    if ((r = lbx_http_init(e)) != LBX_OK)
        return r;
    if ((*conn = calloc(1, sizeof(**conn))) == NULL || ((*conn)->curl = C.easy_init()) == NULL) {
        free(*conn);
        *conn = NULL;
        return lbx_error_set(e, LBX_ERR_NOMEM, "curl_easy_init");
    }
    return LBX_OK;
}

void lbx_http_conn_free(struct lbx_http_conn *conn)
{
    if (conn == NULL)
        return;
    C.easy_cleanup(conn->curl);
    free(conn);
}

/* A kept handle forgets the previous request's options (its connection and TLS session stay);
 * otherwise a new one. */
static CURL *handle_for(const struct lbx_http_opts *o)
{
    if (o->conn == NULL)
        return C.easy_init();
    C.easy_reset(o->conn->curl);
    return o->conn->curl;
}

lbx_err lbx_http_request(const struct lbx_http_opts *o, const char *method, const char *url,
                         const char *body, struct lbx_http_response *resp, struct lbx_error *e)
{
    char errbuf[CURL_ERROR_SIZE] = "", auth[600];
    struct curl_slist *headers = NULL, *h;
    CURLcode rc;
    CURL *c;
    lbx_err r = LBX_OK;

    resp->status = 0;
    lbx_buf_init(&resp->body, o->max_response ? o->max_response : HTTP_DEFAULT_MAX_RESPONSE);
    if (o->ca_file == NULL || strncmp(url, "https://", 8) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "broker URL must be https:// with a CA file");
    if ((r = lbx_http_init(e)) != LBX_OK)
        return r;
    if ((c = handle_for(o)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "curl_easy_init");
    h = C.slist_append(NULL, "Accept: application/json");
    if (h != NULL && body != NULL)
        h = C.slist_append(h, "Content-Type: application/json");
    if (h != NULL && o->bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->bearer);
        h = C.slist_append(h, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    headers = h;
    if (headers == NULL) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "headers");
        goto out;
    }
    if ((rc = apply_options(c, o, method, url, body, headers, resp, errbuf)) != CURLE_OK ||
        (rc = C.easy_perform(c)) != CURLE_OK) {
        r = map_curl_error(rc, url, errbuf, e);
        goto out;
    }
    C.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
out:
    /* No pointer into this call's headers, error buffer or response may outlive it. */
    if (o->conn != NULL)
        C.easy_reset(c);
    else
        C.easy_cleanup(c);
    C.slist_free_all(headers);
    if (r != LBX_OK)
        lbx_buf_free(&resp->body);
    return r;
}

void lbx_http_response_free(struct lbx_http_response *resp)
{
    lbx_buf_free(&resp->body);
}
