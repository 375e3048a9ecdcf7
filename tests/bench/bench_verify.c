/* Benchmark 3: cost of verifying one grant token on the host (lbx_token_verify: strict parse,
 * header and claim checks, ES256 signature) against OpenSSL's own P-256 ECDSA verify of the
 * same signature over the same bytes — the floor no verifier can beat.
 * Prints one JSON object: {"name":"verify", "ours_us":..., "openssl_us":..., "ratio":...}. */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64url.h"
#include "keys.h"
#include "token.h"

#define ROUNDS 15
#define PER_ROUND 400

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The baseline: DER signature and digest verify with the same EVP_PKEY, the way a program
 * using OpenSSL directly would check an ES256 signature. */
struct baseline {
    EVP_PKEY *pkey;
    unsigned char *der;
    int derlen;
    const char *data;
    size_t len;
};

static int baseline_verify(const struct baseline *b)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, b->pkey) == 1 &&
             EVP_DigestVerify(md, b->der, (size_t)b->derlen, (const unsigned char *)b->data,
                              b->len) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

static EVP_PKEY *pkey_from_public_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    BIO_free(bio);
    return pkey;
}

static unsigned char *raw_to_der(const char *sig64, int *derlen)
{
    uint8_t *raw;
    size_t rawlen;
    unsigned char *der = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();

    if (lbx_b64url_decode(sig64, strlen(sig64), &raw, &rawlen) != LBX_OK || rawlen != 64)
        return NULL;
    ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    *derlen = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    free(raw);
    return der;
}

int main(void)
{
    struct lbx_claims c = {.iss = "lockbox",
                           .sub = "support-alice",
                           .aud = "node-7",
                           .jti = "G-1",
                           .req = "LBX-42",
                           .ticket = "123",
                           .iat = 1700000000,
                           .nbf = 1700000000,
                           .exp = 1700014400};
    struct lbx_key *key, *pub;
    struct lbx_keyring *ring;
    struct lbx_verify_opts vo = {
        .iss = "lockbox", .aud = "node-7", .sub = "support-alice", .now = 1700000100, .leeway = 30};
    struct lbx_claims out;
    struct baseline base;
    double ours[ROUNDS], theirs[ROUNDS], t;
    char *token, *pem, *dot;
    int i, r;

    if (lbx_key_generate(&key) != LBX_OK || lbx_token_mint(key, &c, &token, NULL) != LBX_OK ||
        lbx_key_public_pem(key, &pem) != LBX_OK ||
        lbx_key_from_pem(pem, strlen(pem), 0, &pub, NULL) != LBX_OK ||
        lbx_keyring_new(&ring) != LBX_OK || lbx_keyring_add(ring, pub) != LBX_OK)
        return 1;
    vo.keys = ring;
    dot = strrchr(token, '.');
    base.pkey = pkey_from_public_pem(pem);
    base.data = token;
    base.len = (size_t)(dot - token);
    if ((base.der = raw_to_der(dot + 1, &base.derlen)) == NULL || !baseline_verify(&base))
        return 1;

    /* Interleave the two so machine noise hits both alike; compare medians. */
    for (r = 0; r < ROUNDS; r++) {
        t = now_us();
        for (i = 0; i < PER_ROUND; i++) {
            if (lbx_token_verify(token, strlen(token), &vo, &out, NULL) != LBX_OK)
                return 1;
            lbx_claims_free(&out);
        }
        ours[r] = (now_us() - t) / PER_ROUND;
        t = now_us();
        for (i = 0; i < PER_ROUND; i++)
            if (!baseline_verify(&base))
                return 1;
        theirs[r] = (now_us() - t) / PER_ROUND;
    }
    qsort(ours, ROUNDS, sizeof(double), cmp_double);
    qsort(theirs, ROUNDS, sizeof(double), cmp_double);
    printf(
        "{\"name\":\"verify\",\"ours_us\":%.2f,\"openssl_us\":%.2f,\"ratio\":%.3f,\"goal\":1.5}\n",
        ours[ROUNDS / 2], theirs[ROUNDS / 2], ours[ROUNDS / 2] / theirs[ROUNDS / 2]);
    OPENSSL_free(base.der);
    EVP_PKEY_free(base.pkey);
    lbx_keyring_free(ring);
    lbx_key_free(key);
    free(token);
    free(pem);
    return 0;
}
