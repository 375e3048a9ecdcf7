/* Building arbitrary, possibly hostile, JWS tokens for tests and fuzzers: any header and payload
 * text, signed (ES256, r||s) with any lockbox key, so a test can reach exactly the check it
 * means to exercise. Every function returns malloc'd memory the caller frees; on failure it
 * aborts the test program (a broken helper must never look like a passing test). */
#ifndef LBX_TOKEN_FORGE_H
#define LBX_TOKEN_FORGE_H

#include <stddef.h>

#include "keys.h"

/* base64url without padding of len bytes. */
char *forge_b64url(const void *data, size_t len);
/* Decodes a base64url text (aborts when it is not canonical). */
unsigned char *forge_b64url_decode(const char *text, size_t len, size_t *outlen);

/* b64url(header) "." b64url(payload) "." b64url(ES256 signature over the first two) — the JSON
 * texts are used byte for byte, so duplicates, odd types or nesting survive. */
char *forge_token(const struct lbx_key *key, const char *header_json, const char *payload_json);
/* Signs an arbitrary signing input "H.P" and appends ".S". */
char *forge_sign_input(const struct lbx_key *key, const char *signing_input);

/* Copy of tmpl with every occurrence of name replaced by value. */
char *forge_subst(const char *tmpl, const char *name, const char *value);
/* printf into a fresh string. */
char *forge_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The segment (0, 1 or 2) of a compact token, decoded. */
unsigned char *forge_segment(const char *token, int index, size_t *outlen);
/* token with segment index replaced by the base64url of data. */
char *forge_replace_segment(const char *token, int index, const void *data, size_t len);

/* A token made by libjwt 1.10 — the tool an attacker would reach for. alg is a jwt_alg_t;
 * key_pem is used as given (a MAC secret for HS*, a private PEM otherwise; NULL for none);
 * kid, when not NULL, is added to the header; claims_json becomes the payload. */
char *forge_libjwt(int alg, const char *key_pem, const char *kid, const char *claims_json);

/* PEM texts of a fresh non-lockbox key: type "RSA", "EC" (param = curve name) or "ED25519". */
void forge_foreign_key(const char *type, const char *param, char **priv_pem, char **pub_pem);
/* The private PEM of a lockbox key (written with lbx_key_write_pair to a scratch directory). */
char *forge_private_pem(const struct lbx_key *key);

/* A keyring trusting only the public half of key (as a host would load it from its PEM);
 * the PEM text is returned in *pub_pem when that is not NULL. */
struct lbx_keyring *forge_public_ring(const struct lbx_key *key, char **pub_pem);

/* A fresh mkdtemp directory under /tmp (malloc'd path) and its recursive removal. */
char *forge_tmpdir(void);
void forge_rmdir(char *dir);
/* Writes a file with the given mode (exact, umask ignored); aborts on failure. */
void forge_write_file(const char *path, const void *data, size_t len, unsigned mode);

#endif
