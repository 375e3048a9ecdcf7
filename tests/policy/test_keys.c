/* ES256 keys and keyrings: generation, files, the RFC 7638 kid (recomputed here independently
 * of policy/), file ownership and permission refusals, foreign key types, keyring limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "keys.h"
#include "token_forge.h"

#define NOBODY 65534

static char *dir;      /* scratch directory of the group */
static char *priv_pem; /* a valid P-256 pair, as PEM */
static char *pub_pem;

static char *path_of(const char *name)
{
    return forge_printf("%s/%s", dir, name);
}

/* Writes name with mode (and owner, when uid >= 0); returns the path. */
static char *put(const char *name, const char *text, unsigned mode, int uid)
{
    char *p = path_of(name);

    unlink(p);
    forge_write_file(p, text, strlen(text), mode);
    if (uid >= 0)
        assert_int_equal(chown(p, (uid_t)uid, (gid_t)-1), 0);
    return p;
}

static lbx_err load(int is_private, const char *path)
{
    struct lbx_key *k = NULL;
    struct lbx_error e = {0};
    lbx_err r = is_private ? lbx_key_load_private(path, &k, &e) : lbx_key_load_public(path, &k, &e);

    if (r != LBX_OK) {
        assert_null(k);
        assert_int_equal(e.code, r);
        assert_non_null(strstr(e.detail, path)); /* the error names the file */
    }
    lbx_key_free(k);
    return r;
}

static lbx_err load_text(int is_private, const char *text, unsigned mode)
{
    char *p = put("k.pem", text, mode, -1);
    lbx_err r = load(is_private, p);

    free(p);
    return r;
}

static void test_generate_write_load(void **state)
{
    char *kdir = path_of("gen"), *kp = path_of("gen/signing.key"), *pp = path_of("gen/signing.pub");
    struct lbx_key *k, *priv, *pub;
    uint8_t sig[LBX_ES256_SIG_LEN];
    struct stat st;

    assert_int_equal(lbx_key_generate(&k), LBX_OK);
    assert_int_equal(strlen(lbx_key_kid(k)), LBX_KID_LEN);
    assert_int_equal(lbx_key_write_pair(k, kdir, NULL), LBX_OK);
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(pp, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(lbx_key_write_pair(k, kdir, NULL), LBX_ERR_IO); /* never overwrites */
    assert_int_equal(lbx_key_load_private(kp, &priv, NULL), LBX_OK);
    assert_int_equal(lbx_key_load_public(pp, &pub, NULL), LBX_OK);
    assert_string_equal(lbx_key_kid(priv), lbx_key_kid(k));
    assert_string_equal(lbx_key_kid(pub), lbx_key_kid(k));
    assert_true(lbx_key_is_private(priv));
    assert_false(lbx_key_is_private(pub));
    assert_int_equal(lbx_key_write_pair(pub, kdir, NULL), LBX_ERR_KEY);
    assert_int_equal(lbx_key_sign_es256(priv, "abc", 3, sig), LBX_OK);
    assert_int_equal(lbx_key_verify_es256(pub, "abc", 3, sig, sizeof(sig)), LBX_OK);
    assert_int_equal(lbx_key_verify_es256(pub, "abd", 3, sig, sizeof(sig)),
                     LBX_ERR_TOKEN_SIGNATURE);
    assert_int_equal(lbx_key_verify_es256(pub, "abc", 3, sig, sizeof(sig) - 1),
                     LBX_ERR_TOKEN_SIGNATURE);
    assert_int_equal(lbx_key_sign_es256(pub, "abc", 3, sig), LBX_ERR_CRYPTO);
    lbx_key_free(k);
    lbx_key_free(priv);
    lbx_key_free(pub);
    free(kdir);
    free(kp);
    free(pp);
}

/* RFC 7638 computed with OpenSSL alone: the uncompressed point 04||X||Y, base64url by hand. */
static char *b64url_openssl(const unsigned char *in, int len)
{
    char *out = calloc(1, (size_t)len * 2 + 4), *p;

    EVP_EncodeBlock((unsigned char *)out, in, len);
    for (p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    if ((p = strchr(out, '=')) != NULL)
        *p = '\0';
    return out;
}

static char *independent_kid(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    unsigned char point[65], digest[32];
    size_t n = 0;
    char *x, *y, *json, *kid;

    assert_non_null(pkey);
    assert_true(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                                sizeof(point), &n));
    assert_int_equal(n, 65);
    assert_int_equal(point[0], 0x04);
    x = b64url_openssl(point + 1, 32);
    y = b64url_openssl(point + 33, 32);
    json = forge_printf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    assert_true(EVP_Digest(json, strlen(json), digest, NULL, EVP_sha256(), NULL));
    kid = b64url_openssl(digest, 32);
    free(x);
    free(y);
    free(json);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return kid;
}

static int has_leading_zero_coordinate(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    unsigned char point[65];
    size_t n = 0;
    int zero;

    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point),
                                    &n);
    zero = point[1] == 0 || point[33] == 0;
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return zero;
}

static void check_kid(struct lbx_key *k)
{
    char *pem = NULL, *kid;

    assert_int_equal(lbx_key_public_pem(k, &pem), LBX_OK);
    kid = independent_kid(pem);
    assert_string_equal(lbx_key_kid(k), kid);
    free(kid);
    free(pem);
}

static void test_kid_is_rfc7638_thumbprint(void **state)
{
    struct lbx_key *k;
    char *pem;
    int i, zero = 0;

    for (i = 0; i < 8; i++) {
        assert_int_equal(lbx_key_generate(&k), LBX_OK);
        check_kid(k);
        lbx_key_free(k);
    }
    /* A coordinate with a leading zero byte must still be 32 bytes in the thumbprint. */
    for (i = 0; i < 5000 && !zero; i++) {
        assert_int_equal(lbx_key_generate(&k), LBX_OK);
        assert_int_equal(lbx_key_public_pem(k, &pem), LBX_OK);
        if ((zero = has_leading_zero_coordinate(pem)))
            check_kid(k);
        free(pem);
        lbx_key_free(k);
    }
    assert_true(zero);
}

static void test_private_key_permissions(void **state)
{
    static const unsigned bad_modes[] = {0640, 0604, 0644, 0660, 0606, 0610, 0601, 0666};
    char *p, *link;
    size_t i;

    assert_int_equal(load_text(1, priv_pem, 0600), LBX_OK);
    assert_int_equal(load_text(1, priv_pem, 0400), LBX_OK);
    for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        print_message("# mode %04o\n", bad_modes[i]);
        assert_int_equal(load_text(1, priv_pem, bad_modes[i]), LBX_ERR_FILE_PERM);
    }
    p = put("nobody.key", priv_pem, 0600, NOBODY);
    assert_int_equal(load(1, p), LBX_ERR_FILE_PERM);
    free(p);
    p = put("real.key", priv_pem, 0600, -1);
    link = path_of("link.key");
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(load(1, link), LBX_ERR_FILE_PERM);
    free(p);
    free(link);
    p = path_of("missing.key");
    assert_int_equal(load(1, p), LBX_ERR_IO);
    free(p);
    assert_int_equal(load(1, dir), LBX_ERR_FILE_PERM); /* a directory is not a key file */
}

static void test_public_key_permissions(void **state)
{
    char *p, *link;

    assert_int_equal(load_text(0, pub_pem, 0644), LBX_OK);
    assert_int_equal(load_text(0, pub_pem, 0444), LBX_OK);
    assert_int_equal(load_text(0, pub_pem, 0646), LBX_ERR_FILE_PERM); /* world-writable */
    assert_int_equal(load_text(0, pub_pem, 0666), LBX_ERR_FILE_PERM);
    assert_int_equal(load_text(0, pub_pem, 0664), LBX_ERR_FILE_PERM); /* group-writable */
    p = put("nobody.pub", pub_pem, 0644, NOBODY);
    assert_int_equal(load(0, p), LBX_ERR_FILE_PERM);
    free(p);
    p = put("real.pub", pub_pem, 0644, -1);
    link = path_of("link.pub");
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(load(0, link), LBX_ERR_FILE_PERM);
    free(p);
    free(link);
}

static void check_foreign(const char *type, const char *param)
{
    char *priv, *pub;

    print_message("# %s %s\n", type, param ? param : "");
    forge_foreign_key(type, param, &priv, &pub);
    assert_int_equal(load_text(1, priv, 0600), LBX_ERR_KEY);
    assert_int_equal(load_text(0, pub, 0644), LBX_ERR_KEY);
    free(priv);
    free(pub);
}

static void test_foreign_keys_refused(void **state)
{
    check_foreign("EC", "P-384");
    check_foreign("EC", "secp256k1"); /* 256 bits, but not P-256 */
    check_foreign("RSA", NULL);
    check_foreign("ED25519", NULL);
}

/* An encrypted key is refused outright; loading must not prompt or read stdin for a passphrase. */
static void test_encrypted_key_refused_without_prompt(void **state)
{
    BIO *bio = BIO_new_mem_buf(priv_pem, -1), *out = BIO_new(BIO_s_mem());
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    int fds[2], saved = dup(0);
    char *enc, *data;
    long n;

    assert_true(PEM_write_bio_PrivateKey(out, pkey, EVP_aes_256_cbc(), (unsigned char *)"pw", 2,
                                         NULL, NULL));
    n = BIO_get_mem_data(out, &data);
    enc = forge_printf("%.*s", (int)n, data);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "pw\npw\npw\n", 9), 9); /* a prompt would find the passphrase */
    close(fds[1]);
    dup2(fds[0], 0);
    close(fds[0]);
    assert_int_equal(load_text(1, enc, 0600), LBX_ERR_KEY);
    dup2(saved, 0);
    close(saved);
    free(enc);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    BIO_free(out);
}

static void test_garbage_and_oversized(void **state)
{
    char big[16 * 1024 + 2];
    struct lbx_key *k = NULL;

    assert_int_equal(load_text(0, "", 0644), LBX_ERR_KEY);
    assert_int_equal(load_text(0, "hello\n", 0644), LBX_ERR_KEY);
    assert_int_equal(
        load_text(0, "-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZQ==\n-----END PUBLIC KEY-----\n", 0644),
        LBX_ERR_KEY);
    assert_int_equal(load_text(1, pub_pem, 0600), LBX_ERR_KEY);  /* public given as private */
    assert_int_equal(load_text(0, priv_pem, 0644), LBX_ERR_KEY); /* private given as public */
    memset(big, '\n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, pub_pem, strlen(pub_pem));
    assert_int_equal(load_text(0, big, 0644), LBX_ERR_TOO_LARGE); /* 16 KiB + 1 */
    assert_int_equal(lbx_key_from_pem(big, strlen(big), 0, &k, NULL), LBX_ERR_KEY);
    assert_null(k);
}

/* pub_pem as DER (SubjectPublicKeyInfo), in a buffer of its own. */
static unsigned char *pub_der(long *len)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL, *copy;
    BIO *bio = BIO_new_mem_buf(pub_pem, -1);

    assert_int_equal(PEM_read_bio(bio, &name, &header, &der, len), 1);
    assert_int_equal(*len, 91); /* the uncompressed P-256 form */
    copy = malloc((size_t)*len);
    memcpy(copy, der, (size_t)*len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return copy;
}

static char *as_pem(const char *name, const unsigned char *der, long len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long n;

    assert_true(PEM_write_bio(bio, name, "", der, len) > 0); /* bytes written */
    n = BIO_get_mem_data(bio, &data);
    pem = forge_printf("%.*s", (int)n, data);
    BIO_free(bio);
    return pem;
}

static char *kid_of(const char *pem)
{
    struct lbx_key *k = NULL;
    char *kid;

    assert_int_equal(lbx_key_from_pem(pem, strlen(pem), 0, &k, NULL), LBX_OK);
    kid = forge_printf("%s", lbx_key_kid(k));
    lbx_key_free(k);
    return kid;
}

/* The usual form of a public key is imported directly, any other form goes through OpenSSL's
 * decoders: both give the same key, and the direct import refuses what the decoders refuse. */
static void test_public_key_forms(void **state)
{
    long len;
    unsigned char *der = pub_der(&len), *bad = malloc((size_t)len);
    char *pem, *kid = kid_of(pub_pem), *other;
    EVP_PKEY *pkey;
    BIO *bio;

    /* the same key with a compressed point: the decoders' path, the same kid */
    bio = BIO_new_mem_buf(pub_pem, -1);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(pkey);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(
                         pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
                     1);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    BIO_write(bio, "", 1);
    {
        char *data;
        BIO_get_mem_data(bio, &data);
        pem = forge_printf("%s", data);
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    assert_true(strlen(pem) < strlen(pub_pem)); /* really another form */
    other = kid_of(pem);
    assert_string_equal(other, kid);
    free(other);
    free(pem);

    /* the direct form with a point moved off the curve */
    memcpy(bad, der, (size_t)len);
    bad[len - 1] ^= 0x01;
    pem = as_pem("PUBLIC KEY", bad, len);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    /* not an uncompressed point (its first byte) */
    memcpy(bad, der, (size_t)len);
    bad[26] = 0x05;
    pem = as_pem("PUBLIC KEY", bad, len);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    /* another curve's OID at the same length */
    memcpy(bad, der, (size_t)len);
    bad[22] ^= 0x01;
    pem = as_pem("PUBLIC KEY", bad, len);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    /* the right bytes under another PEM label, and cut short */
    pem = as_pem("CERTIFICATE", der, len);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    pem = as_pem("PUBLIC KEY", der, len - 1);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    /* headers before the data: not the usual form, still the decoders' answer */
    pem = forge_printf("-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n%s",
                       strchr(pub_pem, '\n') + 1);
    assert_int_equal(load_text(0, pem, 0644), LBX_ERR_KEY);
    free(pem);
    free(kid);
    free(bad);
    free(der);
}

/* The warm-up decodes its key (else it builds nothing), leaves no error behind for the next
 * OpenSSL call to trip on, and changes nothing a key load sees. */
static void test_warm_up(void **state)
{
    char *kid = kid_of(pub_pem), *again;

    assert_int_equal(lbx_key_warm(), 1);
    assert_int_equal(lbx_key_warm(), 1);
    assert_int_equal(ERR_peek_error(), 0);
    again = kid_of(pub_pem);
    assert_string_equal(again, kid);
    free(again);
    free(kid);
}

/* A keyring directory named name, holding n fresh public keys (written as k<i>.pub). */
static char *ring_dir(const char *name, int n)
{
    char *d = path_of(name), *p;
    struct lbx_key *k;
    int i;

    assert_int_equal(mkdir(d, 0755), 0);
    for (i = 0; i < n; i++) {
        char *pem;
        assert_int_equal(lbx_key_generate(&k), LBX_OK);
        assert_int_equal(lbx_key_public_pem(k, &pem), LBX_OK);
        p = forge_printf("%s/k%02d.pub", d, i);
        forge_write_file(p, pem, strlen(pem), 0644);
        free(p);
        free(pem);
        lbx_key_free(k);
    }
    return d;
}

static lbx_err load_ring(const char *path, size_t *count)
{
    struct lbx_keyring *ring;
    struct lbx_error e = {0};
    lbx_err r;

    assert_int_equal(lbx_keyring_new(&ring), LBX_OK);
    r = lbx_keyring_load_path(ring, path, &e);
    if (r != LBX_OK)
        print_message("# %s: %s\n", lbx_strerror(r), e.detail);
    *count = lbx_keyring_count(ring);
    lbx_keyring_free(ring);
    return r;
}

static void add_file(const char *d, const char *name, const char *text, unsigned mode)
{
    char *p = forge_printf("%s/%s", d, name);

    forge_write_file(p, text, strlen(text), mode);
    free(p);
}

static void test_keyrings(void **state)
{
    char *d, *p;
    size_t n;

    d = ring_dir("empty", 0);
    add_file(d, "signing.key", priv_pem, 0600);
    add_file(d, "README", "not a key\n", 0644);
    add_file(d, ".hidden.pub", pub_pem, 0644);
    add_file(d, "old.pub.bak", pub_pem, 0644);
    assert_int_equal(load_ring(d, &n), LBX_ERR_KEY); /* no *.pub: nothing trusted */
    free(d);
    d = ring_dir("two", 2);
    assert_int_equal(load_ring(d, &n), LBX_OK);
    assert_int_equal(n, 2);
    add_file(d, "dup-a.pub", pub_pem, 0644);
    add_file(d, "dup-b.pub", pub_pem, 0644);
    assert_int_equal(load_ring(d, &n), LBX_OK);
    assert_int_equal(n, 3); /* the same key twice counts once */
    add_file(d, "bad.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0644);
    assert_int_equal(load_ring(d, &n), LBX_ERR_KEY); /* one bad file spoils the directory */
    free(d);
    d = ring_dir("writable", 1);
    add_file(d, "w.pub", pub_pem, 0666);
    assert_int_equal(load_ring(d, &n), LBX_ERR_FILE_PERM);
    free(d);
    d = ring_dir("fifo", 1);
    p = forge_printf("%s/planted.pub", d);
    assert_int_equal(mkfifo(p, 0644), 0);
    alarm(10); /* a FIFO must be refused, not waited on */
    assert_int_equal(load_ring(d, &n), LBX_ERR_FILE_PERM);
    alarm(0);
    free(p);
    free(d);
    d = ring_dir("max", LBX_KEYRING_MAX);
    assert_int_equal(load_ring(d, &n), LBX_OK);
    assert_int_equal(n, LBX_KEYRING_MAX);
    free(d);
    d = ring_dir("over", LBX_KEYRING_MAX + 1);
    assert_int_equal(load_ring(d, &n), LBX_ERR_TOO_LARGE);
    free(d);
    d = path_of("nonexistent");
    assert_int_equal(load_ring(d, &n), LBX_ERR_IO);
    free(d);
}

static int setup(void **state)
{
    struct lbx_key *k;

    if (geteuid() != 0) {
        print_error("test_keys needs root (chown to nobody)\n");
        return -1;
    }
    dir = forge_tmpdir();
    assert_int_equal(lbx_key_generate(&k), LBX_OK);
    priv_pem = forge_private_pem(k);
    assert_int_equal(lbx_key_public_pem(k, &pub_pem), LBX_OK);
    lbx_key_free(k);
    return 0;
}

static int teardown(void **state)
{
    forge_rmdir(dir);
    lbx_free_secret(priv_pem);
    free(pub_pem);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_write_load),
        cmocka_unit_test(test_kid_is_rfc7638_thumbprint),
        cmocka_unit_test(test_private_key_permissions),
        cmocka_unit_test(test_public_key_permissions),
        cmocka_unit_test(test_foreign_keys_refused),
        cmocka_unit_test(test_encrypted_key_refused_without_prompt),
        cmocka_unit_test(test_garbage_and_oversized),
        cmocka_unit_test(test_public_key_forms),
        cmocka_unit_test(test_warm_up),
        cmocka_unit_test(test_keyrings),
    };

    return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
