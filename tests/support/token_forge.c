#include "token_forge.h"

#include <fcntl.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"

static void *must(void *p, const char *what)
{
    if (p == NULL) {
        fprintf(stderr, "token_forge: %s failed\n", what);
        abort();
    }
    return p;
}

char *forge_b64url(const void *data, size_t len)
{
    char *out = NULL;

    if (lbx_b64url_encode(data, len, &out) != LBX_OK)
        out = NULL;
    return must(out, "base64url encode");
}

unsigned char *forge_b64url_decode(const char *text, size_t len, size_t *outlen)
{
    uint8_t *out = NULL;

    if (lbx_b64url_decode(text, len, &out, outlen) != LBX_OK)
        out = NULL;
    return must(out, "base64url decode");
}

char *forge_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return must(n < 0 ? NULL : s, "vasprintf");
}

char *forge_sign_input(const struct lbx_key *key, const char *signing_input)
{
    uint8_t sig[LBX_ES256_SIG_LEN];
    char *s64, *token;

    if (lbx_key_sign_es256(key, signing_input, strlen(signing_input), sig) != LBX_OK)
        must(NULL, "ES256 signing");
    s64 = forge_b64url(sig, sizeof(sig));
    token = forge_printf("%s.%s", signing_input, s64);
    free(s64);
    return token;
}

char *forge_token(const struct lbx_key *key, const char *header_json, const char *payload_json)
{
    char *h64 = forge_b64url(header_json, strlen(header_json));
    char *p64 = forge_b64url(payload_json, strlen(payload_json));
    char *input = forge_printf("%s.%s", h64, p64);
    char *token = forge_sign_input(key, input);

    free(h64);
    free(p64);
    free(input);
    return token;
}

char *forge_subst(const char *tmpl, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value), count = 0, o = 0;
    const char *p;
    char *out;

    for (p = tmpl; (p = strstr(p, name)) != NULL; p += nlen)
        count++;
    out = must(malloc(strlen(tmpl) + count * vlen + 1), "malloc");
    for (p = tmpl; *p != '\0';) {
        if (strncmp(p, name, nlen) == 0) {
            memcpy(out + o, value, vlen);
            o += vlen;
            p += nlen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Start and length of segment index inside token. */
static void segment_bounds(const char *token, int index, size_t *start, size_t *len)
{
    const char *p = token;
    int i;

    for (i = 0; i < index; i++)
        p = must(strchr(p, '.'), "segment lookup") + 1;
    *start = (size_t)(p - token);
    *len = strcspn(p, ".");
}

unsigned char *forge_segment(const char *token, int index, size_t *outlen)
{
    size_t start, len;

    segment_bounds(token, index, &start, &len);
    return forge_b64url_decode(token + start, len, outlen);
}

char *forge_replace_segment(const char *token, int index, const void *data, size_t len)
{
    size_t start, seglen;
    char *enc = forge_b64url(data, len), *out;

    segment_bounds(token, index, &start, &seglen);
    out = forge_printf("%.*s%s%s", (int)start, token, enc, token + start + seglen);
    free(enc);
    return out;
}

char *forge_libjwt(int alg, const char *key_pem, const char *kid, const char *claims_json)
{
    jwt_t *jwt = NULL;
    char *token, *copy;
    int len = key_pem ? (int)strlen(key_pem) : 0;

    if (jwt_new(&jwt) != 0 ||
        jwt_set_alg(jwt, (jwt_alg_t)alg, (const unsigned char *)key_pem, len) != 0 ||
        (kid != NULL && jwt_add_header(jwt, "kid", kid) != 0) ||
        jwt_add_grants_json(jwt, claims_json) != 0)
        must(NULL, "libjwt setup");
    token = must(jwt_encode_str(jwt), "jwt_encode_str");
    copy = must(strdup(token), "strdup");
    free(token);
    jwt_free(jwt);
    return copy;
}

static char *pem_of(EVP_PKEY *pkey, int priv)
{
    BIO *bio = must(BIO_new(BIO_s_mem()), "BIO_new");
    char *data, *out;
    long n;

    if (!(priv ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
               : PEM_write_bio_PUBKEY(bio, pkey)))
        must(NULL, "PEM write");
    n = BIO_get_mem_data(bio, &data);
    out = forge_printf("%.*s", (int)n, data);
    BIO_free(bio);
    return out;
}

void forge_foreign_key(const char *type, const char *param, char **priv_pem, char **pub_pem)
{
    EVP_PKEY *pkey;

    if (strcmp(type, "RSA") == 0)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(type, "EC") == 0)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
    must(pkey, "foreign key generation");
    *priv_pem = pem_of(pkey, 1);
    *pub_pem = pem_of(pkey, 0);
    EVP_PKEY_free(pkey);
}

char *forge_tmpdir(void)
{
    char *dir = forge_printf("/tmp/lbx-policy-test.XXXXXX");

    return must(mkdtemp(dir), "mkdtemp");
}

void forge_rmdir(char *dir)
{
    char *cmd;

    if (dir == NULL)
        return;
    cmd = forge_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "token_forge: could not remove %s\n", dir);
    free(cmd);
    free(dir);
}

void forge_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0 || close(fd) != 0)
        must(NULL, path);
}

char *forge_private_pem(const struct lbx_key *key)
{
    struct lbx_error e;
    char *dir = forge_tmpdir(), *sub = forge_printf("%s/k", dir), *path, *pem = NULL;
    FILE *f;
    long n;

    if (lbx_key_write_pair(key, sub, &e) != LBX_OK)
        must(NULL, e.detail);
    path = forge_printf("%s/signing.key", sub);
    f = must(fopen(path, "r"), path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    pem = must(calloc(1, (size_t)n + 1), "calloc");
    if (fread(pem, 1, (size_t)n, f) != (size_t)n)
        must(NULL, "fread");
    fclose(f);
    free(path);
    free(sub);
    forge_rmdir(dir);
    return pem;
}

struct lbx_keyring *forge_public_ring(const struct lbx_key *key, char **pub_pem)
{
    struct lbx_keyring *ring = NULL;
    struct lbx_key *pub = NULL;
    char *pem = NULL;

    if (lbx_key_public_pem(key, &pem) != LBX_OK ||
        lbx_key_from_pem(pem, strlen(pem), 0, &pub, NULL) != LBX_OK ||
        lbx_keyring_new(&ring) != LBX_OK || lbx_keyring_add(ring, pub) != LBX_OK)
        must(NULL, "public keyring");
    if (pub_pem != NULL)
        *pub_pem = pem;
    else
        free(pem);
    return ring;
}
