/* lockboxctl host enroll: issues a host's mTLS client certificate from the customer's CA and
 * lays out what the host needs to talk to the broker:
 *   DIR/host.key   the host's new P-256 private key (0600)
 *   DIR/host.crt   its certificate: CN = host id (the broker's only notion of who is calling),
 *                  clientAuth only, not a CA, signed by the customer's CA
 *   DIR/ca.pem     the CA the host pins for the broker's server certificate
 *   DIR/keys/      the broker's public token keys, one <kid>.pub each
 * and prints the matching host.conf lines. Everything is checked before anything is written:
 * the CA key must match the CA certificate, the CA must be a CA and outlive the new
 * certificate, the CA key file must be readable by its owner only, and no existing file may
 * get other content without --force. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "file.h"
#include "keys.h"

#define PEM_MAX (64 * 1024)
#define HOST_ID_MAX 64 /* X.509 upper bound for a CN */
#define DAYS_DEFAULT 365
#define DAYS_MAX 3650

static const char enroll_usage[] =
    "usage: lockboxctl host enroll --ca-cert CA.pem --ca-key CA.key --host ID --out DIR\n"
    "           [--days N] [--broker-ca FILE] [--broker-keys FILE|DIR] [--force]";

struct enroll_opts {
    const char *ca_cert, *ca_key, *host, *broker_ca, *broker_keys;
    char out[PATH_MAX]; /* absolute: the printed host.conf lines must work from anywhere */
    long days;
    int days_given, force;
};

struct enroll_ca {
    X509 *cert;
    EVP_PKEY *key;
};

/* A host id becomes a certificate CN, a token audience and a file name on the broker:
 * letters, digits, '.', '-', '_', starting with a letter or digit. */
static int host_id_valid(const char *id)
{
    size_t n = strlen(id);

    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    if (n == 0 || n > HOST_ID_MAX || strchr(alnum, id[0]) == NULL)
        return 0;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

static int ssl_fail(const char *what)
{
    unsigned long err = ERR_get_error();
    char detail[256] = "";

    if (err != 0)
        ERR_error_string_n(err, detail, sizeof(detail));
    ERR_clear_error();
    return ctl_fail(CTL_EXIT_FAIL, "%s%s%s", what, err ? ": " : "", detail);
}

/* Reads a PEM file (trust decides who may own it) into a memory BIO. */
static BIO *pem_bio(const char *path, enum lbx_file_trust trust, char **text, size_t *len)
{
    struct lbx_error e = {0};
    char msg[300];

    if (lbx_file_read(path, trust, PEM_MAX, text, len, &e) != LBX_OK) {
        ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
        return NULL;
    }
    return BIO_new_mem_buf(*text, (int)*len);
}

static int load_ca(const struct enroll_opts *o, struct enroll_ca *ca)
{
    char *text = NULL;
    size_t len = 0;
    BIO *bio;
    int rc = CTL_EXIT_FAIL;

    if ((bio = pem_bio(o->ca_cert, LBX_FILE_ANY, &text, &len)) == NULL)
        return CTL_EXIT_FAIL;
    ca->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(text);
    if (ca->cert == NULL)
        return ssl_fail("CA certificate unreadable");
    /* The CA key is a secret: refuse a copy that others could read. */
    if ((bio = pem_bio(o->ca_key, LBX_FILE_SECRET, &text, &len)) == NULL)
        return CTL_EXIT_FAIL;
    ca->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    lbx_freezero(text, len);
    if (ca->key == NULL)
        return ssl_fail("CA key unreadable");
    if (X509_check_private_key(ca->cert, ca->key) != 1)
        ctl_fail(CTL_EXIT_FAIL, "the CA key does not belong to the CA certificate");
    else if (X509_check_ca(ca->cert) < 1)
        ctl_fail(CTL_EXIT_FAIL, "%s is not a CA certificate", o->ca_cert);
    else if (X509_cmp_time(X509_get0_notAfter(ca->cert), NULL) <= 0)
        ctl_fail(CTL_EXIT_FAIL, "the CA certificate has expired");
    else
        rc = CTL_EXIT_OK;
    ERR_clear_error();
    return rc;
}

/* dir/name into buf; a path that does not fit is an error, never a shorter path. */
static int join_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= size)
        return ctl_fail(CTL_EXIT_FAIL, "path too long: %s/%s", dir, name);
    return CTL_EXIT_OK;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok;
}

static int set_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    int ok = bn != NULL && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

    BN_free(bn);
    return ok;
}

/* A client certificate for the host, valid from five minutes ago (clock skew) for `days`. */
static X509 *issue_cert(const struct enroll_ca *ca, EVP_PKEY *hostkey, const char *host, long days)
{
    const EVP_MD *md = EVP_PKEY_get_id(ca->key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    X509 *x = X509_new();
    X509V3_CTX ctx;
    char san[HOST_ID_MAX + 8];

    snprintf(san, sizeof(san), "DNS:%s", host);
    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || !set_serial(x) ||
        X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL ||
        X509_set_pubkey(x, hostkey) != 1 ||
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                   (const unsigned char *)host, -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1)
        goto fail;
    X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
    if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") ||
        !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
        !add_ext(x, &ctx, NID_subject_alt_name, san) || X509_sign(x, ca->key, md) <= 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* Everything enrolling writes, prepared in full before the first byte is written: a refusal
 * (an existing file it would change) leaves the directory as it was. */
struct enroll_file {
    char path[PATH_MAX];
    char *data;
    size_t len;
    unsigned mode;
    char kid[LBX_KID_LEN + 1]; /* a broker key: named when stored */
};

struct enroll_out {
    struct enroll_file *files;
    size_t n;
};

/* Serializes obj with `write` into a memory BIO and adds the bytes as dir/name. */
static int out_add(struct enroll_out *out, const char *dir, const char *name, unsigned mode,
                   int (*write)(BIO *, void *), void *obj)
{
    struct enroll_file *f, *grown;
    BIO *bio;
    char *data;
    long len;
    int rc = CTL_EXIT_OK;

    if ((grown = realloc(out->files, (out->n + 1) * sizeof(*grown))) == NULL)
        return ctl_fail(CTL_EXIT_FAIL, "out of memory");
    out->files = grown;
    f = memset(&out->files[out->n], 0, sizeof(*f));
    if (join_path(f->path, sizeof(f->path), dir, name) != CTL_EXIT_OK)
        return CTL_EXIT_FAIL;
    if ((bio = BIO_new(BIO_s_mem())) == NULL)
        return ssl_fail("out of memory");
    if (write(bio, obj) != 1 || (len = BIO_get_mem_data(bio, &data)) <= 0)
        rc = ssl_fail("PEM encoding failed");
    else if ((f->data = malloc((size_t)len)) == NULL)
        rc = ctl_fail(CTL_EXIT_FAIL, "out of memory");
    else {
        memcpy(f->data, data, (size_t)len);
        f->len = (size_t)len;
        f->mode = mode;
        out->n++;
    }
    /* The same buffer may hold the host's private key. */
    if ((len = BIO_get_mem_data(bio, &data)) > 0)
        OPENSSL_cleanse(data, (size_t)len);
    BIO_free(bio);
    return rc;
}

static void out_free(struct enroll_out *out)
{
    size_t i;

    for (i = 0; i < out->n; i++) {
        OPENSSL_cleanse(out->files[i].data, out->files[i].len);
        free(out->files[i].data);
    }
    free(out->files);
}

/* 1 when path holds exactly len bytes of data (writing it again changes nothing). */
static int same_content(const char *path, const char *data, size_t len)
{
    struct lbx_error e = {0};
    char *old = NULL;
    size_t oldlen = 0;
    int same;

    if (lbx_file_read(path, LBX_FILE_ANY, PEM_MAX, &old, &oldlen, &e) != LBX_OK)
        return 0;
    same = oldlen == len && memcmp(old, data, len) == 0;
    OPENSSL_cleanse(old, oldlen);
    free(old);
    return same;
}

/* No existing file is replaced by other content without --force: enrolling into the broker's
 * own /etc/lockbox would swap its client_ca for the CA the host pins, and a second enroll
 * would take a working host's key. The same content again (the CA already there) is fine. */
static int out_check(const struct enroll_out *out, int force)
{
    struct stat st;
    size_t i;

    for (i = 0; i < out->n && !force; i++) {
        if (lstat(out->files[i].path, &st) != 0) {
            if (errno == ENOENT)
                continue;
            return ctl_fail(CTL_EXIT_FAIL, "%s: %s", out->files[i].path, strerror(errno));
        }
        if (!same_content(out->files[i].path, out->files[i].data, out->files[i].len))
            return ctl_fail(CTL_EXIT_FAIL,
                            "%s exists with other content; nothing written (--force replaces it,"
                            " or enroll into a directory of its own)",
                            out->files[i].path);
    }
    return CTL_EXIT_OK;
}

/* In the order they were added: public material first, so a run that fails midway leaves no
 * key without its certificate. */
static int out_write(const struct enroll_out *out)
{
    struct lbx_error e = {0};
    char msg[300];
    size_t i;

    for (i = 0; i < out->n; i++) {
        if (lbx_file_write_atomic(out->files[i].path, out->files[i].data, out->files[i].len,
                                  out->files[i].mode, &e) != LBX_OK)
            return ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
        if (out->files[i].kid[0] != '\0')
            fprintf(stderr, "lockboxctl: trusted broker key %s\n", out->files[i].kid);
    }
    return CTL_EXIT_OK;
}

static int write_key(BIO *b, void *k)
{
    return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}
static int write_cert(BIO *b, void *x)
{
    return PEM_write_bio_X509(b, x);
}
static int write_text(BIO *b, void *text)
{
    return BIO_puts(b, text) > 0;
}

/* One broker public key, checked (P-256, trusted owner and mode), added as keydir/<kid>.pub. */
static int add_key(struct enroll_out *out, const char *path, const char *keydir)
{
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    char name[LBX_KID_LEN + 8], msg[300], *pem = NULL;
    int rc;

    if (lbx_key_load_public(path, &key, &e) != LBX_OK)
        return ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
    snprintf(name, sizeof(name), "%s.pub", lbx_key_kid(key));
    if (lbx_key_public_pem(key, &pem) != LBX_OK)
        rc = ctl_fail(CTL_EXIT_FAIL, "%s: cannot encode key", path);
    else if ((rc = out_add(out, keydir, name, 0644, write_text, pem)) == CTL_EXIT_OK)
        snprintf(out->files[out->n - 1].kid, sizeof(out->files[0].kid), "%s", lbx_key_kid(key));
    free(pem);
    lbx_key_free(key);
    return rc;
}

/* --broker-keys: one public key file, or every *.pub of a directory (at least one). */
static int add_keys(struct enroll_out *out, const char *src, const char *keydir)
{
    char path[PATH_MAX];
    struct dirent *d;
    struct stat st;
    size_t n, added = 0;
    DIR *dir;
    int rc = CTL_EXIT_OK;

    if (stat(src, &st) == 0 && !S_ISDIR(st.st_mode))
        return add_key(out, src, keydir);
    if ((dir = opendir(src)) == NULL)
        return ctl_fail(CTL_EXIT_FAIL, "%s: %s", src, strerror(errno));
    while (rc == CTL_EXIT_OK && (d = readdir(dir)) != NULL) {
        n = strlen(d->d_name);
        if (n <= 4 || strcmp(d->d_name + n - 4, ".pub") != 0)
            continue;
        if ((rc = join_path(path, sizeof(path), src, d->d_name)) == CTL_EXIT_OK &&
            (rc = add_key(out, path, keydir)) == CTL_EXIT_OK)
            added++;
    }
    closedir(dir);
    if (rc == CTL_EXIT_OK && added == 0)
        rc = ctl_fail(CTL_EXIT_FAIL, "%s holds no *.pub key", src);
    return rc;
}

/* The CA a host pins for the broker's server certificate: --broker-ca, else the customer's CA
 * (the common case of one CA for both sides). */
static int add_ca(struct enroll_out *out, const struct enroll_opts *o)
{
    const char *src = o->broker_ca ? o->broker_ca : o->ca_cert;
    char *text = NULL;
    size_t len = 0;
    BIO *bio;
    X509 *x;
    int rc;

    if ((bio = pem_bio(src, LBX_FILE_ANY, &text, &len)) == NULL)
        return CTL_EXIT_FAIL;
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (x == NULL) {
        free(text);
        return ssl_fail("broker CA certificate unreadable");
    }
    X509_free(x);
    rc = out_add(out, o->out, "ca.pem", 0644, write_text, text);
    free(text);
    return rc;
}

/* Without --days the certificate lasts a year, or until the CA expires if that is sooner. */
static int check_days(struct enroll_opts *o, const struct enroll_ca *ca)
{
    int ca_days = 0, ca_secs = 0;

    if (o->days < 1 || o->days > DAYS_MAX)
        return ctl_fail(CTL_EXIT_USAGE, "--days must be 1..%d", DAYS_MAX);
    if (ASN1_TIME_diff(&ca_days, &ca_secs, NULL, X509_get0_notAfter(ca->cert)) != 1)
        return ssl_fail("CA validity unreadable");
    if (o->days <= ca_days)
        return CTL_EXIT_OK;
    if (o->days_given || ca_days < 1)
        return ctl_fail(CTL_EXIT_FAIL, "the certificate would outlive the CA (%d days left)",
                        ca_days);
    o->days = ca_days;
    return CTL_EXIT_OK;
}

static int check_opts(struct enroll_opts *o, const struct enroll_ca *ca)
{
    struct stat st;
    int rc;

    if (!host_id_valid(o->host))
        return ctl_fail(CTL_EXIT_USAGE,
                        "host id must be 1-%d of [A-Za-z0-9._-], starting with a letter or digit",
                        HOST_ID_MAX);
    if ((rc = check_days(o, ca)) != CTL_EXIT_OK)
        return rc;
    if (stat(o->out, &st) != 0 || !S_ISDIR(st.st_mode))
        return ctl_fail(CTL_EXIT_FAIL, "%s is not a directory", o->out);
    return CTL_EXIT_OK;
}

static int enroll(struct enroll_opts *o)
{
    struct enroll_ca ca = {NULL, NULL};
    struct enroll_out out = {NULL, 0};
    EVP_PKEY *hostkey = NULL;
    X509 *cert = NULL;
    char keydir[PATH_MAX];
    int rc;

    if ((rc = load_ca(o, &ca)) != CTL_EXIT_OK || (rc = check_opts(o, &ca)) != CTL_EXIT_OK)
        goto out;
    if ((rc = join_path(keydir, sizeof(keydir), o->out, "keys")) != CTL_EXIT_OK)
        goto out;
    rc = CTL_EXIT_FAIL;
    if ((hostkey = EVP_EC_gen("P-256")) == NULL) {
        ssl_fail("host key generation failed");
        goto out;
    }
    if ((cert = issue_cert(&ca, hostkey, o->host, o->days)) == NULL) {
        ssl_fail("certificate signing failed");
        goto out;
    }
    if ((rc = add_ca(&out, o)) != CTL_EXIT_OK ||
        (o->broker_keys && (rc = add_keys(&out, o->broker_keys, keydir)) != CTL_EXIT_OK) ||
        (rc = out_add(&out, o->out, "host.crt", 0644, write_cert, cert)) != CTL_EXIT_OK ||
        (rc = out_add(&out, o->out, "host.key", 0600, write_key, hostkey)) != CTL_EXIT_OK ||
        (rc = out_check(&out, o->force)) != CTL_EXIT_OK)
        goto out;
    if (o->broker_keys && mkdir(keydir, 0755) != 0 && errno != EEXIST) {
        rc = ctl_fail(CTL_EXIT_FAIL, "%s: %s", keydir, strerror(errno));
        goto out;
    }
    if ((rc = out_write(&out)) != CTL_EXIT_OK)
        goto out;
    printf("host_id = %s\ncert_file = %s/host.crt\nkey_file = %s/host.key\nca_file = %s/ca.pem\n",
           o->host, o->out, o->out, o->out);
    if (o->broker_keys)
        printf("trusted_keys = %s\n", keydir);
out:
    out_free(&out);
    X509_free(cert);
    EVP_PKEY_free(hostkey);
    X509_free(ca.cert);
    EVP_PKEY_free(ca.key);
    return rc;
}

static int parse_enroll(int argc, char **argv, struct enroll_opts *o)
{
    static const struct option opts[] = {{"ca-cert", required_argument, NULL, 'c'},
                                         {"ca-key", required_argument, NULL, 'k'},
                                         {"host", required_argument, NULL, 'h'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"days", required_argument, NULL, 'd'},
                                         {"broker-ca", required_argument, NULL, 'b'},
                                         {"broker-keys", required_argument, NULL, 'K'},
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    char *end;
    int c;

    o->days = DAYS_DEFAULT;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->ca_cert = optarg;
            break;
        case 'k':
            o->ca_key = optarg;
            break;
        case 'h':
            o->host = optarg;
            break;
        case 'o':
            if (realpath(optarg, o->out) == NULL)
                snprintf(o->out, sizeof(o->out), "%s", optarg); /* check_opts names it */
            break;
        case 'b':
            o->broker_ca = optarg;
            break;
        case 'K':
            o->broker_keys = optarg;
            break;
        case 'f':
            o->force = 1;
            break;
        case 'd':
            errno = 0;
            o->days = strtol(optarg, &end, 10);
            o->days_given = 1;
            if (errno || end == optarg || *end != '\0')
                o->days = -1;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc || !o->ca_cert || !o->ca_key || !o->host || !o->out[0])
        return -1;
    return 0;
}

/* "host enroll" is offline work done here; "host create|list" are the broker's directory. */
int ctl_host_main(int argc, char **argv)
{
    struct enroll_opts o = {0};

    if (argc < 2 || strcmp(argv[1], "enroll") != 0)
        return ctl_directory_main(argc, argv);
    if (parse_enroll(argc - 1, argv + 1, &o) != 0)
        return ctl_fail(CTL_EXIT_USAGE, "%s", enroll_usage);
    return enroll(&o);
}
