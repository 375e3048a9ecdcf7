/* The approvers' web console below the HTTP layer: OpenID Connect sign-in (authorization code
 * + PKCE) against the customer's identity provider and the server-side console sessions that
 * authenticate the pages' calls to the same /v1/ API that lockboxctl uses.
 *
 *   console_idtoken.c  verifies an ID token against the provider's JWKS (no I/O)
 *   console_session.c  the session and sign-in tables, in memory shared by all workers; the
 *                      cookie and CSRF rules
 *   console_oidc.c     discovery, JWKS and code exchange, on a thread (lib/net/http_client)
 * Above it: http/console_http.c (the pages, sign-in and sign-out, security headers) and
 * api/auth.c (a /v1/ call authenticated by the session cookie with the CSRF checks). */
#ifndef LBX_CONSOLE_H
#define LBX_CONSOLE_H

#include <jansson.h>
#include <stdint.h>

#include "lbx_err.h"
#include "approvers.h"

struct broker;

/* ---- ID tokens (console_idtoken.c) ---- */

struct idtoken_expect {
    const char *issuer;    /* iss, exactly */
    const char *client_id; /* aud (or one of aud, then azp too) */
    const char *nonce;     /* the nonce sent with this sign-in */
    int64_t now;
    int leeway;      /* seconds of clock skew allowed on exp, iat, nbf */
    int64_t max_age; /* iat no older than this */
};

/* Verifies a compact ID token: strict form, alg pinned to RS256 or ES256 and to the type of the
 * JWKS key it names before anything is decoded (none, HS*, and a key of another type are
 * refused), signature, iss, aud/azp, exp, iat, nbf, nonce, sub. *claims: the payload. */
lbx_err console_idtoken_verify(const char *token, size_t len, const json_t *jwks,
                               const struct idtoken_expect *x, json_t **claims,
                               struct lbx_error *e);

/* ---- sessions and sign-ins in progress (console_session.c) ---- */

#define CONSOLE_SECRET_LEN 43 /* base64url of 32 random bytes */
#define CONSOLE_SESSIONS_MAX 2048
#define CONSOLE_LOGINS_MAX 512
#define CONSOLE_LOGIN_TTL 600 /* seconds a sign-in may take at the provider */
#define CONSOLE_NEXT_MAX 128
#define CONSOLE_SESSION_COOKIE "__Host-lbx_session"

struct console_table;

struct console_session {
    char identity[LBX_NAME_MAX + 1];
    char csrf[CONSOLE_SECRET_LEN + 1];
    int64_t created, last_seen;
};

struct console_login {
    char state[CONSOLE_SECRET_LEN + 1];
    char nonce[CONSOLE_SECRET_LEN + 1];
    char verifier[CONSOLE_SECRET_LEN + 1]; /* PKCE code_verifier */
    int64_t created;
};

/* Shared anonymous memory (made before workers fork, so every worker sees every session). */
lbx_err console_table_new(struct console_table **out, struct lbx_error *e);
void console_table_free(struct console_table *t);
/* A new session for identity: *sid is the cookie's secret (only its hash is kept). When the
 * table is full the session idle the longest is ended. */
lbx_err console_session_open(struct console_table *t, const char *identity, int64_t now,
                             char sid[CONSOLE_SECRET_LEN + 1], struct console_session *out);
/* 0 and *out (last_seen moved to now) for a live session; -1 when unknown, idle longer than
 * idle or older than lifetime (then it is ended). */
int console_session_find(struct console_table *t, const char *sid, int64_t now, int64_t idle,
                         int64_t lifetime, struct console_session *out);
/* The same for the session cookie (CONSOLE_SESSION_COOKIE) of a Cookie header (may be NULL);
 * sid: the cookie's secret. */
int console_session_of_cookies(struct console_table *t, const char *cookies, int64_t now,
                               int64_t idle, int64_t lifetime, struct console_session *out,
                               char sid[CONSOLE_SECRET_LEN + 1]);
/* Ends the session; 0 when there was one. */
int console_session_close(struct console_table *t, const char *sid);
/* A sign-in begins: fresh state, nonce and PKCE verifier. */
lbx_err console_login_begin(struct console_table *t, int64_t now, struct console_login *out);
/* Takes (once) the sign-in with this state if begun less than CONSOLE_LOGIN_TTL ago. */
int console_login_take(struct console_table *t, const char *state, int64_t now,
                       struct console_login *out);

/* Cookie and CSRF logic (pure). The value of cookie `name` in a Cookie header into out;
 * -1 when absent, duplicated, or not CONSOLE_SECRET_LEN base64url characters. */
int console_cookie_value(const char *header, const char *name, char out[CONSOLE_SECRET_LEN + 1]);
/* A state-changing call with a session cookie: the X-CSRF-Token header must equal the
 * session's token (constant time) and Origin must be present and equal to origin. NULL when
 * it may proceed, else why not. */
const char *console_csrf_refusal(const struct console_session *s, const char *token_header,
                                 const char *origin_header, const char *origin);
/* The PKCE S256 challenge of verifier (base64url SHA-256). */
void console_pkce_challenge(const char *verifier, char out[CONSOLE_SECRET_LEN + 1]);
int console_secret_equal(const char *a, const char *b);

/* ---- provider (console_oidc.c) ---- */

struct console_oidc;
/* The callback's result, on the loop: claims verified (NULL on failure, detail in e). */
typedef void console_oidc_done(struct broker *b, void *arg, json_t *claims, const char *redirect,
                               const struct lbx_error *e);
lbx_err console_oidc_start(struct broker *b, struct lbx_error *e);
void console_oidc_stop(struct broker *b);
/* On a thread: discovery (cached), then the authorization URL for login (*redirect in done). */
int console_oidc_authorize_url(struct broker *b, const struct console_login *login,
                               console_oidc_done *done, void *arg);
/* On a thread: the code exchanged at the token endpoint, the ID token verified. */
int console_oidc_exchange(struct broker *b, const struct console_login *login, const char *code,
                          console_oidc_done *done, void *arg);

#endif
