/* Grant tokens: ES256 compact JWS. Minting is for the broker (and offline break-glass);
 * verification is what the PAM module and the reaper rely on, and it stands on its own:
 * strict compact form, header pinned to ES256 before anything else, every claim checked
 * here with its JSON type. */
#ifndef LBX_TOKEN_H
#define LBX_TOKEN_H

#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "lbx_err.h"

/* The hard cap on a grant's lifetime. A compile-time constant on purpose: no configuration,
 * broker answer or token can raise it. */
#define LBX_GRANT_MAX_LIFETIME (8 * 3600)
#define LBX_TOKEN_MAX_LEN 4096
#define LBX_LEEWAY_DEFAULT 30
#define LBX_LEEWAY_MAX 120

struct lbx_claims {
    char *iss;
    char *sub;    /* host login */
    char *aud;    /* host id */
    char *jti;    /* grant id */
    char *req;    /* lbx_req: request id, optional */
    char *ticket; /* lbx_ticket, optional */
    int64_t iat, nbf, exp;
};

struct lbx_verify_opts {
    const struct lbx_keyring *keys;
    const char *iss;
    const char *aud;
    const char *sub;
    int64_t now; /* seconds since the epoch; tests inject it, programs pass time(NULL) */
    int leeway;  /* seconds, 0..LBX_LEEWAY_MAX; negative means LBX_LEEWAY_DEFAULT */
};

/* Signs claims with key. Refuses exp - iat > LBX_GRANT_MAX_LIFETIME, exp <= iat, empty
 * iss/sub/aud/jti. *out is malloc'd. */
lbx_err lbx_token_mint(const struct lbx_key *key, const struct lbx_claims *claims, char **out,
                       struct lbx_error *e);

/* Verifies len bytes of token. On success fills *claims (free with lbx_claims_free); on failure
 * returns the reason code, with a detail in e. */
lbx_err lbx_token_verify(const char *token, size_t len, const struct lbx_verify_opts *opts,
                         struct lbx_claims *claims, struct lbx_error *e);

void lbx_claims_free(struct lbx_claims *claims);

/* The strict compact form every JWS we read must have (grant tokens here, OpenID Connect ID
 * tokens in the broker's console): three non-empty base64url segments, at most
 * LBX_TOKEN_MAX_LEN bytes, nothing else. The parts point into the token. */
struct lbx_jws {
    const char *part[3];
    size_t len[3];
};
lbx_err lbx_jws_split(const char *token, size_t len, struct lbx_jws *s, struct lbx_error *e);
/* A header or payload segment: canonical base64url of one JSON object (depth <= 4); `code`
 * and `what` name a failure. */
struct json_t;
lbx_err lbx_jws_decode_json(const char *seg, size_t len, lbx_err code, const char *what,
                            struct json_t **out, struct lbx_error *e);
/* Claims as a JSON object text (malloc'd), for `lockboxctl token verify` and logs. */
char *lbx_claims_to_json(const struct lbx_claims *claims);

#endif
