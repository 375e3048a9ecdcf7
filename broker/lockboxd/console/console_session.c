/* Console sessions and sign-ins in progress. Server-side: the browser holds a random secret in
 * a cookie, the broker the secret's SHA-256 and everything else, so ending a session (sign-out,
 * idle or absolute timeout) ends it everywhere at once. The table lives in anonymous shared
 * memory made before the workers fork: a session begun on one worker is found on every other.
 * A robust process-shared mutex guards it, so a worker that dies holding it does not wedge the
 * others. Lost on a restart: everybody signs in again. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "b64url.h"
#include "buf.h"
#include "console.h"
#include "random.h"

struct session_slot {
    int used;
    unsigned char sid_hash[32];
    struct console_session s;
};

struct login_slot {
    int used;
    struct console_login l;
};

struct console_table {
    pthread_mutex_t mu;
    struct session_slot sessions[CONSOLE_SESSIONS_MAX];
    struct login_slot logins[CONSOLE_LOGINS_MAX];
};

lbx_err console_table_new(struct console_table **out, struct lbx_error *e)
{
    pthread_mutexattr_t attr;
    struct console_table *t;

    *out = NULL;
    t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "console sessions: %s", strerror(errno));
    if (pthread_mutexattr_init(&attr) != 0 ||
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
        pthread_mutex_init(&t->mu, &attr) != 0) {
        munmap(t, sizeof(*t));
        return lbx_error_set(e, LBX_ERR_SYSTEM, "console sessions: mutex");
    }
    pthread_mutexattr_destroy(&attr);
    *out = t;
    return LBX_OK;
}

void console_table_free(struct console_table *t)
{
    if (t == NULL)
        return;
    OPENSSL_cleanse(t, sizeof(*t));
    munmap(t, sizeof(*t));
}

static void lock(struct console_table *t)
{
    if (pthread_mutex_lock(&t->mu) == EOWNERDEAD)
        pthread_mutex_consistent(&t->mu); /* slots are written whole before `used` is set */
}

static void unlock(struct console_table *t)
{
    pthread_mutex_unlock(&t->mu);
}

static void sid_hash(const char *sid, unsigned char out[32])
{
    unsigned int len = 0;

    EVP_Digest(sid, strlen(sid), out, &len, EVP_sha256(), NULL);
}

int console_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

/* A fresh 256-bit secret, base64url. */
static lbx_err secret(char out[CONSOLE_SECRET_LEN + 1])
{
    char *s = NULL;
    lbx_err r = lbx_random_b64url(32, &s);

    if (r == LBX_OK)
        snprintf(out, CONSOLE_SECRET_LEN + 1, "%s", s);
    lbx_free_secret(s);
    return r;
}

static struct session_slot *free_session_slot(struct console_table *t)
{
    struct session_slot *idlest = &t->sessions[0];
    size_t i;

    for (i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
        if (!t->sessions[i].used)
            return &t->sessions[i];
        if (t->sessions[i].s.last_seen < idlest->s.last_seen)
            idlest = &t->sessions[i];
    }
    return idlest;
}

lbx_err console_session_open(struct console_table *t, const char *identity, int64_t now,
                             char sid[CONSOLE_SECRET_LEN + 1], struct console_session *out)
{
    struct session_slot slot = {.used = 1};
    lbx_err r;

    if (strlen(identity) > LBX_NAME_MAX)
        return LBX_ERR_ARG;
    if ((r = secret(sid)) != LBX_OK || (r = secret(slot.s.csrf)) != LBX_OK)
        return r;
    snprintf(slot.s.identity, sizeof(slot.s.identity), "%s", identity);
    slot.s.created = slot.s.last_seen = now;
    sid_hash(sid, slot.sid_hash);
    lock(t);
    *free_session_slot(t) = slot;
    unlock(t);
    *out = slot.s;
    OPENSSL_cleanse(&slot, sizeof(slot));
    return LBX_OK;
}

static struct session_slot *find_session(struct console_table *t, const unsigned char h[32])
{
    size_t i;

    for (i = 0; i < CONSOLE_SESSIONS_MAX; i++)
        if (t->sessions[i].used && CRYPTO_memcmp(t->sessions[i].sid_hash, h, 32) == 0)
            return &t->sessions[i];
    return NULL;
}

int console_session_find(struct console_table *t, const char *sid, int64_t now, int64_t idle,
                         int64_t lifetime, struct console_session *out)
{
    struct session_slot *s;
    unsigned char h[32];
    int rc = -1;

    sid_hash(sid, h);
    lock(t);
    if ((s = find_session(t, h)) != NULL) {
        if (now - s->s.last_seen > idle || now - s->s.created > lifetime) {
            OPENSSL_cleanse(s, sizeof(*s));
        } else {
            s->s.last_seen = now;
            *out = s->s;
            rc = 0;
        }
    }
    unlock(t);
    return rc;
}

int console_session_of_cookies(struct console_table *t, const char *cookies, int64_t now,
                               int64_t idle, int64_t lifetime, struct console_session *out,
                               char sid[CONSOLE_SECRET_LEN + 1])
{
    sid[0] = '\0';
    if (cookies == NULL || console_cookie_value(cookies, CONSOLE_SESSION_COOKIE, sid) != 0)
        return -1;
    return console_session_find(t, sid, now, idle, lifetime, out);
}

int console_session_close(struct console_table *t, const char *sid)
{
    struct session_slot *s;
    unsigned char h[32];

    sid_hash(sid, h);
    lock(t);
    if ((s = find_session(t, h)) != NULL)
        OPENSSL_cleanse(s, sizeof(*s));
    unlock(t);
    return s != NULL ? 0 : -1;
}

lbx_err console_login_begin(struct console_table *t, int64_t now, struct console_login *out)
{
    struct login_slot *oldest = &t->logins[0];
    lbx_err r;
    size_t i;

    memset(out, 0, sizeof(*out));
    if ((r = secret(out->state)) != LBX_OK || (r = secret(out->nonce)) != LBX_OK ||
        (r = secret(out->verifier)) != LBX_OK)
        return r;
    out->created = now;
    lock(t);
    for (i = 0; i < CONSOLE_LOGINS_MAX; i++) {
        if (!t->logins[i].used || now - t->logins[i].l.created > CONSOLE_LOGIN_TTL) {
            oldest = &t->logins[i];
            break;
        }
        if (t->logins[i].l.created < oldest->l.created)
            oldest = &t->logins[i];
    }
    oldest->l = *out;
    oldest->used = 1;
    unlock(t);
    return LBX_OK;
}

int console_login_take(struct console_table *t, const char *state, int64_t now,
                       struct console_login *out)
{
    int rc = -1;
    size_t i;

    lock(t);
    for (i = 0; i < CONSOLE_LOGINS_MAX; i++) {
        struct login_slot *l = &t->logins[i];

        if (!l->used || !console_secret_equal(l->l.state, state))
            continue;
        if (now - l->l.created <= CONSOLE_LOGIN_TTL && now >= l->l.created) {
            *out = l->l;
            rc = 0;
        }
        OPENSSL_cleanse(l, sizeof(*l)); /* once, whatever the outcome */
        break;
    }
    unlock(t);
    return rc;
}

/* ---- cookies and CSRF ---- */

static int is_secret(const char *s, size_t len)
{
    size_t i;

    if (len != CONSOLE_SECRET_LEN)
        return 0;
    for (i = 0; i < len; i++)
        if (!lbx_b64url_is_alphabet((unsigned char)s[i]))
            return 0;
    return 1;
}

int console_cookie_value(const char *header, const char *name, char out[CONSOLE_SECRET_LEN + 1])
{
    size_t nlen = strlen(name), vlen;
    const char *p = header, *v, *end;
    int found = 0;

    out[0] = '\0';
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        end = p + strcspn(p, ";");
        if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            v = p + nlen + 1;
            vlen = (size_t)(end - v);
            if (found++ || !is_secret(v, vlen)) /* two of them: somebody planted one */
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
        }
        p = end;
    }
    return found == 1 ? 0 : -1;
}

const char *console_csrf_refusal(const struct console_session *s, const char *token_header,
                                 const char *origin_header, const char *origin)
{
    if (token_header == NULL)
        return "no X-CSRF-Token header";
    if (!console_secret_equal(token_header, s->csrf))
        return "wrong X-CSRF-Token";
    if (origin_header == NULL)
        return "no Origin header";
    if (strcmp(origin_header, origin) != 0)
        return "Origin is not the console's";
    return NULL;
}

void console_pkce_challenge(const char *verifier, char out[CONSOLE_SECRET_LEN + 1])
{
    unsigned char md[32];
    unsigned int len = 0;
    char *s = NULL;

    out[0] = '\0';
    EVP_Digest(verifier, strlen(verifier), md, &len, EVP_sha256(), NULL);
    if (lbx_b64url_encode(md, sizeof(md), &s) == LBX_OK)
        snprintf(out, CONSOLE_SECRET_LEN + 1, "%s", s);
    free(s);
}
