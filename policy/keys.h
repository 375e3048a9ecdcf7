/* EC P-256 signing keys and the set of public keys a host trusts. A key's id (kid) is its
 * RFC 7638 JWK thumbprint: SHA-256 over {"crv","kty","x","y"}, base64url. */
#ifndef LBX_KEYS_H
#define LBX_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "lbx_err.h"

#define LBX_ES256_SIG_LEN 64
#define LBX_KID_LEN 43 /* base64url of 32 bytes, no padding */
#define LBX_KEYRING_MAX 32

struct lbx_key;
struct lbx_keyring;

lbx_err lbx_key_generate(struct lbx_key **out);
/* Writes DIR/signing.key (0600, PKCS#8 PEM) and DIR/signing.pub (0644); never overwrites. */
lbx_err lbx_key_write_pair(const struct lbx_key *key, const char *dir, struct lbx_error *e);
/* Refuses a file owned by another user or readable/writable by group or others. */
lbx_err lbx_key_load_private(const char *path, struct lbx_key **out, struct lbx_error *e);
/* Refuses a file writable by group/others or owned by someone other than root or us. */
lbx_err lbx_key_load_public(const char *path, struct lbx_key **out, struct lbx_error *e);
/* OpenSSL 3 builds its decoder tables the first time a process decodes a public key (a
 * certificate's included: ~0.5 ms on a small VM). This decodes P-256's generator as a public key,
 * so that a caller with time to spare (pam_lockbox.so's constructor) pays that, not the first
 * key file or saved TLS session (it holds the broker's certificate) read on a login's path.
 * 1 when the key decoded (the tables are built). */
int lbx_key_warm(void);
lbx_err lbx_key_from_pem(const char *pem, size_t len, int is_private, struct lbx_key **out,
                         struct lbx_error *e);
/* Any PEM private key as an OpenSSL EVP_PKEY (for a TLS client certificate's key, which need
 * not be a lockbox key): EC is tried first, the fast way, then every other type. */
struct evp_pkey_st;
lbx_err lbx_pem_private_key(const char *pem, size_t len, struct evp_pkey_st **out,
                            struct lbx_error *e);
void lbx_key_free(struct lbx_key *key);

const char *lbx_key_kid(const struct lbx_key *key);
int lbx_key_is_private(const struct lbx_key *key);
/* Public half as PEM (malloc'd). */
lbx_err lbx_key_public_pem(const struct lbx_key *key, char **out);

/* Raw ES256 (JWS): SHA-256, signature is r||s, 32 bytes each. A private key holds one signing
 * context: sign with it from one thread at a time (verifying is free-threaded). */
lbx_err lbx_key_sign_es256(const struct lbx_key *key, const void *data, size_t len,
                           uint8_t sig[LBX_ES256_SIG_LEN]);
lbx_err lbx_key_verify_es256(const struct lbx_key *key, const void *data, size_t len,
                             const uint8_t *sig, size_t siglen);
/* The same with any P-256 public key (an OpenID provider's, from its JWKS). */
lbx_err lbx_pkey_verify_es256(struct evp_pkey_st *pkey, const void *data, size_t len,
                              const uint8_t *sig, size_t siglen);

lbx_err lbx_keyring_new(struct lbx_keyring **out);
/* Takes ownership of key (freed with the ring, or at once when its kid is already present). */
lbx_err lbx_keyring_add(struct lbx_keyring *ring, struct lbx_key *key);
/* Loads every DIR/\*.pub (trust rules of lbx_key_load_public); a bad file is an error. */
lbx_err lbx_keyring_load_dir(struct lbx_keyring *ring, const char *dir, struct lbx_error *e);
/* A file or a directory. */
lbx_err lbx_keyring_load_path(struct lbx_keyring *ring, const char *path, struct lbx_error *e);
const struct lbx_key *lbx_keyring_find(const struct lbx_keyring *ring, const char *kid);
size_t lbx_keyring_count(const struct lbx_keyring *ring);
void lbx_keyring_free(struct lbx_keyring *ring);

#endif
