#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "buf.h"
#include "file.h"

#define KEY_FILE_MAX 16384

struct lbx_key {
    EVP_PKEY *pkey;
    int is_private;
    char kid[LBX_KID_LEN + 1];
    /* Private keys: SHA-256 and a signing context fetched once, not per signature (OpenSSL 3
     * looks both up on every EVP_DigestSignInit: ~15% of a token's signing time). */
    EVP_MD *sha256;
    EVP_PKEY_CTX *sign_ctx;
};

struct lbx_keyring {
    struct lbx_key *keys[LBX_KEYRING_MAX];
    size_t count;
};

static int is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t len = 0;

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
        return 0;
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &len))
        return 0;
    return strcmp(group, "prime256v1") == 0;
}

static lbx_err coordinate_b64(EVP_PKEY *pkey, const char *param, char **out)
{
    unsigned char bytes[32];
    BIGNUM *bn = NULL;
    lbx_err r = LBX_ERR_CRYPTO;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) && BN_bn2binpad(bn, bytes, sizeof(bytes)) == 32)
        r = lbx_b64url_encode(bytes, sizeof(bytes), out);
    BN_free(bn);
    return r;
}

/* RFC 7638: members in lexicographic order, no whitespace. */
static lbx_err compute_kid(struct lbx_key *key)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char *x = NULL, *y = NULL, *kid = NULL, json[256];
    lbx_err r;

    if ((r = coordinate_b64(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)) != LBX_OK ||
        (r = coordinate_b64(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) != LBX_OK)
        goto out;
    snprintf(json, sizeof(json), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
             y);
    SHA256((const unsigned char *)json, strlen(json), digest);
    if ((r = lbx_b64url_encode(digest, sizeof(digest), &kid)) != LBX_OK)
        goto out;
    memcpy(key->kid, kid, LBX_KID_LEN);
    key->kid[LBX_KID_LEN] = '\0';
out:
    free(x);
    free(y);
    free(kid);
    return r;
}

static lbx_err key_wrap(EVP_PKEY *pkey, int is_private, struct lbx_key **out)
{
    struct lbx_key *key;
    lbx_err r;

    if (!is_p256(pkey)) {
        EVP_PKEY_free(pkey);
        return LBX_ERR_KEY;
    }
    if ((key = calloc(1, sizeof(*key))) == NULL) {
        EVP_PKEY_free(pkey);
        return LBX_ERR_NOMEM;
    }
    key->pkey = pkey;
    key->is_private = is_private;
    if (is_private && ((key->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
                       (key->sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
                       EVP_PKEY_sign_init(key->sign_ctx) != 1)) {
        lbx_key_free(key);
        return LBX_ERR_CRYPTO;
    }
    if ((r = compute_kid(key)) != LBX_OK) {
        lbx_key_free(key);
        return r;
    }
    *out = key;
    return LBX_OK;
}

lbx_err lbx_key_generate(struct lbx_key **out)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    *out = NULL;
    if (pkey == NULL)
        return LBX_ERR_CRYPTO;
    return key_wrap(pkey, 1, out);
}

void lbx_key_free(struct lbx_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_CTX_free(key->sign_ctx);
    EVP_MD_free(key->sha256);
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material on free */
    lbx_freezero(key, sizeof(*key));
}

const char *lbx_key_kid(const struct lbx_key *key)
{
    return key->kid;
}

int lbx_key_is_private(const struct lbx_key *key)
{
    return key->is_private;
}

static lbx_err bio_to_string(BIO *bio, char **out)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);

    if (n <= 0)
        return LBX_ERR_CRYPTO;
    if ((*out = malloc((size_t)n + 1)) == NULL)
        return LBX_ERR_NOMEM;
    memcpy(*out, data, (size_t)n);
    (*out)[n] = '\0';
    return LBX_OK;
}

lbx_err lbx_key_public_pem(const struct lbx_key *key, char **out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    lbx_err r = LBX_ERR_CRYPTO;

    *out = NULL;
    if (bio != NULL && PEM_write_bio_PUBKEY(bio, key->pkey))
        r = bio_to_string(bio, out);
    BIO_free(bio);
    return r;
}

static lbx_err private_pem(const struct lbx_key *key, char **out)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    lbx_err r = LBX_ERR_CRYPTO;

    *out = NULL;
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL))
        r = bio_to_string(bio, out);
    BIO_free(bio);
    return r;
}

static lbx_err write_new_file(const char *dir, const char *name, const char *data, unsigned mode,
                              struct lbx_error *e)
{
    char path[4096];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return lbx_error_set(e, LBX_ERR_ARG, "path too long");
    if (access(path, F_OK) == 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s already exists; refusing to overwrite", path);
    return lbx_file_write_atomic(path, data, strlen(data), mode, e);
}

lbx_err lbx_key_write_pair(const struct lbx_key *key, const char *dir, struct lbx_error *e)
{
    char *priv = NULL, *pub = NULL;
    lbx_err r;

    if (!key->is_private)
        return lbx_error_set(e, LBX_ERR_KEY, "not a private key");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", dir, strerror(errno));
    if ((r = private_pem(key, &priv)) != LBX_OK || (r = lbx_key_public_pem(key, &pub)) != LBX_OK) {
        lbx_error_set(e, r, "encoding key");
        goto out;
    }
    if ((r = write_new_file(dir, "signing.key", priv, 0600, e)) != LBX_OK)
        goto out;
    r = write_new_file(dir, "signing.pub", pub, 0644, e);
out:
    lbx_free_secret(priv);
    free(pub);
    return r;
}

/* OpenSSL's default callback prompts on the terminal (or reads stdin) for an encrypted key:
 * lockbox keys are never encrypted, and a daemon must not block on a prompt. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* OpenSSL 3's generic PEM readers try every decoder it has: ~1.3 ms the first time in a
 * process, 0.35 ms after. Told the key type, it asks only that type's decoders (EC: 0.1-0.26
 * ms). Every support login pays this in fresh processes (the module in sshd's monitor, the
 * reaper), so the type is named wherever it is known. */
static EVP_PKEY *pem_decode(const char *pem, size_t len, const char *type, int is_private)
{
    OSSL_DECODER_CTX *d;
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (len > KEY_FILE_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return NULL;
    d = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "PEM", NULL, type, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (d != NULL && OSSL_DECODER_CTX_set_pem_password_cb(d, refuse_passphrase, NULL) == 1 &&
        OSSL_DECODER_from_bio(d, bio) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(d);
    BIO_free(bio);
    return pkey;
}

lbx_err lbx_pem_private_key(const char *pem, size_t len, struct evp_pkey_st **out,
                            struct lbx_error *e)
{
    if ((*out = pem_decode(pem, len, "EC", 1)) == NULL &&
        (*out = pem_decode(pem, len, NULL, 1)) == NULL)
        return lbx_error_set(e, LBX_ERR_KEY, "not a PEM private key");
    return LBX_OK;
}

/* A P-256 public key as every tool writes it: SubjectPublicKeyInfo, id-ecPublicKey, prime256v1,
 * uncompressed point. This is its DER up to the point's 65 bytes. */
static const unsigned char p256_spki_prefix[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
#define P256_POINT_LEN 65

/* Even told the type, the decoders cost ~0.5 ms the first time in a process; a trusted key in
 * the form above is imported by the EC key manager directly (which refuses a point off the
 * curve, as the decoders do). NULL for any other form: the caller asks the decoders. */
static EVP_PKEY *p256_public_direct(const char *pem, size_t len)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long derlen = 0;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[3];
    BIO *bio;

    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return NULL;
    if (PEM_read_bio(bio, &name, &header, &der, &derlen) == 1 &&
        strcmp(name, PEM_STRING_PUBLIC) == 0 && header[0] == '\0' &&
        derlen == (long)sizeof(p256_spki_prefix) + P256_POINT_LEN &&
        memcmp(der, p256_spki_prefix, sizeof(p256_spki_prefix)) == 0) {
        params[0] =
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
        params[1] = OSSL_PARAM_construct_octet_string(
            OSSL_PKEY_PARAM_PUB_KEY, der + sizeof(p256_spki_prefix), P256_POINT_LEN);
        params[2] = OSSL_PARAM_construct_end();
        if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
            EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return pkey;
}

int lbx_key_warm(void)
{
    unsigned char der[sizeof(p256_spki_prefix) + P256_POINT_LEN];
    const unsigned char *p = der;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EVP_PKEY *pkey = NULL;

    memcpy(der, p256_spki_prefix, sizeof(p256_spki_prefix));
    if (group != NULL &&
        EC_POINT_point2oct(group, EC_GROUP_get0_generator(group), POINT_CONVERSION_UNCOMPRESSED,
                           der + sizeof(p256_spki_prefix), P256_POINT_LEN, NULL) == P256_POINT_LEN)
        pkey = d2i_PUBKEY(NULL, &p, (long)sizeof(der));
    EC_GROUP_free(group);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return pkey != NULL;
}

lbx_err lbx_key_from_pem(const char *pem, size_t len, int is_private, struct lbx_key **out,
                         struct lbx_error *e)
{
    EVP_PKEY *pkey = NULL;
    lbx_err r;

    *out = NULL;
    if (len > KEY_FILE_MAX)
        return lbx_error_set(e, LBX_ERR_KEY, "key too large");
    if (!is_private)
        pkey = p256_public_direct(pem, len);
    if (pkey == NULL)
        pkey = pem_decode(pem, len, "EC", is_private);
    if (pkey == NULL)
        return lbx_error_set(e, LBX_ERR_KEY, "not a PEM %s key", is_private ? "private" : "public");
    if ((r = key_wrap(pkey, is_private, out)) != LBX_OK)
        return lbx_error_set(e, r, "not an EC P-256 key");
    return LBX_OK;
}

static lbx_err key_load(const char *path, int is_private, struct lbx_key **out, struct lbx_error *e)
{
    char *pem = NULL, inner[sizeof(e->detail)];
    size_t len;
    lbx_err r;

    *out = NULL;
    r = lbx_file_read(path, is_private ? LBX_FILE_SECRET : LBX_FILE_TRUSTED, KEY_FILE_MAX, &pem,
                      &len, e);
    if (r != LBX_OK)
        return r;
    r = lbx_key_from_pem(pem, len, is_private, out, e);
    if (r != LBX_OK && e != NULL) {
        memcpy(inner, e->detail, sizeof(inner));
        lbx_error_set(e, r, "%s: %s", path, inner);
    }
    lbx_freezero(pem, len);
    return r;
}

lbx_err lbx_key_load_private(const char *path, struct lbx_key **out, struct lbx_error *e)
{
    return key_load(path, 1, out, e);
}

lbx_err lbx_key_load_public(const char *path, struct lbx_key **out, struct lbx_error *e)
{
    return key_load(path, 0, out, e);
}

/* Converts between JWS r||s and the DER ECDSA-Sig-Value that EVP speaks. */
lbx_err lbx_key_sign_es256(const struct lbx_key *key, const void *data, size_t len,
                           uint8_t sig[LBX_ES256_SIG_LEN])
{
    unsigned char der[80], md[32];
    const unsigned char *p = der;
    size_t derlen = sizeof(der);
    ECDSA_SIG *es = NULL;
    lbx_err r = LBX_ERR_CRYPTO;

    if (!key->is_private || key->sign_ctx == NULL)
        goto out;
    if (EVP_Digest(data, len, md, NULL, key->sha256, NULL) != 1 ||
        EVP_PKEY_sign(key->sign_ctx, der, &derlen, md, sizeof(md)) != 1)
        goto out;
    if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
        goto out;
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
        goto out;
    r = LBX_OK;
out:
    ECDSA_SIG_free(es);
    return r;
}

lbx_err lbx_key_verify_es256(const struct lbx_key *key, const void *data, size_t len,
                             const uint8_t *sig, size_t siglen)
{
    return lbx_pkey_verify_es256(key->pkey, data, len, sig, siglen);
}

lbx_err lbx_pkey_verify_es256(struct evp_pkey_st *pkey, const void *data, size_t len,
                              const uint8_t *sig, size_t siglen)
{
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    int derlen;
    lbx_err r = LBX_ERR_TOKEN_SIGNATURE;

    if (siglen != LBX_ES256_SIG_LEN)
        return LBX_ERR_TOKEN_SIGNATURE;
    br = BN_bin2bn(sig, 32, NULL);
    bs = BN_bin2bn(sig + 32, 32, NULL);
    if ((es = ECDSA_SIG_new()) == NULL || br == NULL || bs == NULL || !ECDSA_SIG_set0(es, br, bs))
        goto out;
    br = bs = NULL; /* owned by es now */
    if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0 || (md = EVP_MD_CTX_new()) == NULL)
        goto out;
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
        EVP_DigestVerify(md, der, (size_t)derlen, data, len) == 1)
        r = LBX_OK;
out:
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return r;
}

lbx_err lbx_keyring_new(struct lbx_keyring **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? LBX_OK : LBX_ERR_NOMEM;
}

lbx_err lbx_keyring_add(struct lbx_keyring *ring, struct lbx_key *key)
{
    if (lbx_keyring_find(ring, key->kid) != NULL) {
        lbx_key_free(key);
        return LBX_OK;
    }
    if (ring->count == LBX_KEYRING_MAX) {
        lbx_key_free(key);
        return LBX_ERR_TOO_LARGE;
    }
    ring->keys[ring->count++] = key;
    return LBX_OK;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n > m && strcmp(s + n - m, suffix) == 0;
}

lbx_err lbx_keyring_load_dir(struct lbx_keyring *ring, const char *dir, struct lbx_error *e)
{
    struct dirent *de;
    struct lbx_key *key;
    char path[4096];
    lbx_err r = LBX_OK;
    DIR *d;

    if ((d = opendir(dir)) == NULL)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", dir, strerror(errno));
    while (r == LBX_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".pub"))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
            r = lbx_error_set(e, LBX_ERR_ARG, "path too long");
            break;
        }
        if ((r = lbx_key_load_public(path, &key, e)) == LBX_OK &&
            (r = lbx_keyring_add(ring, key)) != LBX_OK)
            lbx_error_set(e, r, "%s: more than %d trusted keys", dir, LBX_KEYRING_MAX);
    }
    closedir(d);
    if (r == LBX_OK && ring->count == 0)
        r = lbx_error_set(e, LBX_ERR_KEY, "%s: no trusted keys (*.pub)", dir);
    return r;
}

lbx_err lbx_keyring_load_path(struct lbx_keyring *ring, const char *path, struct lbx_error *e)
{
    struct lbx_key *key;
    struct stat st;
    lbx_err r;

    if (stat(path, &st) != 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return lbx_keyring_load_dir(ring, path, e);
    if ((r = lbx_key_load_public(path, &key, e)) != LBX_OK)
        return r;
    return lbx_keyring_add(ring, key);
}

const struct lbx_key *lbx_keyring_find(const struct lbx_keyring *ring, const char *kid)
{
    size_t i;

    for (i = 0; ring != NULL && i < ring->count; i++)
        if (strcmp(ring->keys[i]->kid, kid) == 0)
            return ring->keys[i];
    return NULL;
}

size_t lbx_keyring_count(const struct lbx_keyring *ring)
{
    return ring ? ring->count : 0;
}

void lbx_keyring_free(struct lbx_keyring *ring)
{
    size_t i;

    if (ring == NULL)
        return;
    for (i = 0; i < ring->count; i++)
        lbx_key_free(ring->keys[i]);
    free(ring);
}
