/* One error type for all of lockbox: a code with a stable short text, plus an optional
 * context string (file:line, offending value) carried in struct lbx_error. */
#ifndef LBX_ERR_H
#define LBX_ERR_H

#include <stddef.h>

/* X(code, short stable text). The text is shown to engineers and written to logs:
 * keep it short, lowercase, and never change it once released (scripts match on it). */
#define LBX_ERR_TABLE(X)                                                                           \
    X(LBX_OK, "ok")                                                                                \
    X(LBX_ERR_NOMEM, "out of memory")                                                              \
    X(LBX_ERR_ARG, "invalid argument")                                                             \
    X(LBX_ERR_IO, "i/o error")                                                                     \
    X(LBX_ERR_FILE_PERM, "unsafe file ownership or permissions")                                   \
    X(LBX_ERR_CONFIG, "configuration error")                                                       \
    X(LBX_ERR_CRYPTO, "cryptographic operation failed")                                            \
    X(LBX_ERR_KEY, "unusable key")                                                                 \
    X(LBX_ERR_LIFETIME_CAP, "lifetime over 8 h")                                                   \
    X(LBX_ERR_TOKEN_MALFORMED, "malformed token")                                                  \
    X(LBX_ERR_TOKEN_TOO_LONG, "token too long")                                                    \
    X(LBX_ERR_TOKEN_HEADER, "bad token header")                                                    \
    X(LBX_ERR_TOKEN_ALG, "algorithm not allowed")                                                  \
    X(LBX_ERR_TOKEN_KID, "unknown key id")                                                         \
    X(LBX_ERR_TOKEN_SIGNATURE, "bad signature")                                                    \
    X(LBX_ERR_TOKEN_JSON, "bad token json")                                                        \
    X(LBX_ERR_TOKEN_CLAIM_MISSING, "missing claim")                                                \
    X(LBX_ERR_TOKEN_CLAIM_TYPE, "claim of wrong type")                                             \
    X(LBX_ERR_TOKEN_CLAIM_UNKNOWN, "unknown claim")                                                \
    X(LBX_ERR_TOKEN_ISSUER, "wrong issuer")                                                        \
    X(LBX_ERR_TOKEN_AUDIENCE, "wrong audience")                                                    \
    X(LBX_ERR_TOKEN_SUBJECT, "wrong subject")                                                      \
    X(LBX_ERR_TOKEN_EXPIRED, "expired")                                                            \
    X(LBX_ERR_TOKEN_NOT_YET_VALID, "not yet valid")                                                \
    X(LBX_ERR_TOKEN_IAT_FUTURE, "issued in the future")                                            \
    X(LBX_ERR_TOKEN_LIFETIME, "lifetime over 8 h")                                                 \
    X(LBX_ERR_JSON, "malformed json")                                                              \
    X(LBX_ERR_TOO_LARGE, "input too large")                                                        \
    X(LBX_ERR_BROKER_UNREACHABLE, "broker unreachable")                                            \
    X(LBX_ERR_BROKER_TIMEOUT, "broker timed out")                                                  \
    X(LBX_ERR_TLS, "tls failure")                                                                  \
    X(LBX_ERR_HTTP, "unexpected broker response")                                                  \
    X(LBX_ERR_AUTH, "not authenticated")                                                           \
    X(LBX_ERR_FORBIDDEN, "forbidden")                                                              \
    X(LBX_ERR_NOT_FOUND, "not found")                                                              \
    X(LBX_ERR_CONFLICT, "conflict")                                                                \
    X(LBX_ERR_NO_GRANT, "no approved grant")                                                       \
    X(LBX_ERR_STORE, "store error")                                                                \
    X(LBX_ERR_SYSTEM, "system error")                                                              \
    X(LBX_ERR_NOT_MINE, "not a support user")                                                      \
    X(LBX_ERR_UNGUARDED, "session not guarded")                                                    \
    X(LBX_ERR_INTERNAL, "internal error")

typedef enum {
#define LBX_ERR_ENUM(code, text) code,
    LBX_ERR_TABLE(LBX_ERR_ENUM)
#undef LBX_ERR_ENUM
        LBX_ERR__COUNT
} lbx_err;

/* Context for an error: the code and a detail line ("lockbox.conf:12: unknown key 'x'"). */
struct lbx_error {
    lbx_err code;
    char detail[256];
};

const char *lbx_strerror(lbx_err code);

/* Records code and a printf-style detail into e (which may be NULL); returns code so callers
 * can write `return lbx_error_set(e, LBX_ERR_IO, "open %s", path);`. */
lbx_err lbx_error_set(struct lbx_error *e, lbx_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void lbx_error_clear(struct lbx_error *e);

/* "short text" or "short text: detail", for messages. Returns e->detail's storage or a constant. */
const char *lbx_error_text(const struct lbx_error *e, char *buf, size_t buflen);

#endif
