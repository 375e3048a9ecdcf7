/* Which client certificates the broker trusts, and for what. Two separate trust sets:
 * `client_ca` issues host certificates, `people_ca` (optional) issues people's certificates. A
 * verified certificate is a host's when its chain runs through a host CA and a person's when it
 * runs through a people CA — never both, so a host certificate named "carol" can never approve
 * as carol, and a person's certificate named "node-7" can never ask for node-7's grants. The
 * sets travel with the SSL_CTX (ex_data), so a connection is judged by the trust it was
 * verified against, and a reload swaps both at once. A resumed connection has no verified chain:
 * its kind is the one its ticket recorded at the full handshake (tls_ticket.c). */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_trust.h"

struct tls_trust {
    STACK_OF(X509) * host;   /* CA certificates of client_ca */
    STACK_OF(X509) * people; /* CA certificates of people_ca (empty: no people certificates) */
};

static int trust_index = -1;
static pthread_once_t trust_once = PTHREAD_ONCE_INIT;

static void trust_free(struct tls_trust *t)
{
    if (t == NULL)
        return;
    sk_X509_pop_free(t->host, X509_free);
    sk_X509_pop_free(t->people, X509_free);
    free(t);
}

static void trust_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
    trust_free(ptr);
}

static void trust_index_init(void)
{
    trust_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, trust_ex_free);
}

/* Every certificate of a PEM file; an empty or unreadable file is an error. */
static lbx_err load_certs(const char *what, const char *path, STACK_OF(X509) * *out,
                          struct lbx_error *e)
{
    BIO *bio = BIO_new_file(path, "r");
    STACK_OF(X509) *certs = sk_X509_new_null();
    X509 *x;

    *out = NULL;
    while (bio != NULL && certs != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        if (sk_X509_push(certs, x) == 0) {
            X509_free(x);
            break;
        }
    ERR_clear_error(); /* the end of the file reads as an error */
    BIO_free(bio);
    if (certs == NULL || sk_X509_num(certs) == 0) {
        sk_X509_pop_free(certs, X509_free);
        return lbx_error_set(e, LBX_ERR_TLS, "%s %s: no certificate could be read", what, path);
    }
    *out = certs;
    return LBX_OK;
}

static int in_set(STACK_OF(X509) * set, X509 *x)
{
    int i;

    for (i = 0; set != NULL && i < sk_X509_num(set); i++)
        if (X509_cmp(sk_X509_value(set, i), x) == 0)
            return 1;
    return 0;
}

/* A people CA that is a host CA, issued one, or was issued by one would make a certificate
 * both at once: refused, the two hierarchies must be disjoint. */
static lbx_err check_disjoint(const struct tls_trust *t, struct lbx_error *e)
{
    X509 *p, *h;
    int i, j;

    for (i = 0; i < sk_X509_num(t->people); i++) {
        p = sk_X509_value(t->people, i);
        for (j = 0; j < sk_X509_num(t->host); j++) {
            h = sk_X509_value(t->host, j);
            if (X509_cmp(p, h) == 0 || X509_check_issued(h, p) == X509_V_OK ||
                X509_check_issued(p, h) == X509_V_OK)
                return lbx_error_set(e, LBX_ERR_CONFIG,
                                     "people_ca and client_ca must be separate CAs (neither "
                                     "may be, issue or be issued by the other)");
        }
    }
    return LBX_OK;
}

/* Adds a set to the context's verify store and to the CA names sent in CertificateRequest. */
static lbx_err trust_set(SSL_CTX *ctx, STACK_OF(X509) * set, struct lbx_error *e)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int i;

    for (i = 0; i < sk_X509_num(set); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(set, i)) != 1 ||
            SSL_CTX_add_client_CA(ctx, sk_X509_value(set, i)) != 1) {
            ERR_clear_error();
            return lbx_error_set(e, LBX_ERR_TLS, "cannot trust a client CA certificate");
        }
    return LBX_OK;
}

lbx_err tls_trust_install(SSL_CTX *ctx, const char *client_ca, const char *people_ca,
                          struct lbx_error *e)
{
    struct tls_trust *t = calloc(1, sizeof(*t));
    lbx_err r;

    pthread_once(&trust_once, trust_index_init);
    if (t == NULL || trust_index < 0) {
        free(t);
        return lbx_error_set(e, LBX_ERR_NOMEM, "tls trust");
    }
    if ((r = load_certs("client_ca", client_ca, &t->host, e)) != LBX_OK)
        goto fail;
    if (people_ca == NULL)
        t->people = sk_X509_new_null();
    else if ((r = load_certs("people_ca", people_ca, &t->people, e)) != LBX_OK ||
             (r = check_disjoint(t, e)) != LBX_OK)
        goto fail;
    if (t->people == NULL) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "tls trust");
        goto fail;
    }
    if ((r = trust_set(ctx, t->host, e)) != LBX_OK || (r = trust_set(ctx, t->people, e)) != LBX_OK)
        goto fail;
    if (SSL_CTX_set_ex_data(ctx, trust_index, t) != 1) {
        r = lbx_error_set(e, LBX_ERR_NOMEM, "tls trust");
        goto fail;
    }
    return LBX_OK;
fail:
    trust_free(t);
    return r;
}

/* Hashes n as 4 bytes, big-endian: lengths and counts keep the fields apart. */
static int digest_u32(EVP_MD_CTX *md, int n)
{
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};

    return EVP_DigestUpdate(md, b, sizeof(b)) == 1;
}

/* The label, the number of certificates, then each one's length and DER. */
static int digest_set(EVP_MD_CTX *md, const char *label, STACK_OF(X509) * set)
{
    unsigned char *der = NULL;
    int i, len, ok;

    if (EVP_DigestUpdate(md, label, strlen(label) + 1) != 1 || !digest_u32(md, sk_X509_num(set)))
        return 0;
    for (i = 0; i < sk_X509_num(set); i++) {
        if ((len = i2d_X509(sk_X509_value(set, i), &der)) <= 0)
            return 0;
        ok = digest_u32(md, len) && EVP_DigestUpdate(md, der, (size_t)len) == 1;
        OPENSSL_free(der);
        der = NULL;
        if (!ok)
            return 0;
    }
    return 1;
}

lbx_err tls_trust_digest(SSL_CTX *ctx, unsigned char out[TLS_TRUST_DIGEST_LEN], struct lbx_error *e)
{
    const struct tls_trust *t = SSL_CTX_get_ex_data(ctx, trust_index);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    ok = t != NULL && md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         digest_set(md, "client_ca", t->host) && digest_set(md, "people_ca", t->people) &&
         EVP_DigestFinal_ex(md, out, &len) == 1 && len == TLS_TRUST_DIGEST_LEN;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok ? LBX_OK : lbx_error_set(e, LBX_ERR_TLS, "cannot digest the client CAs");
}

/* Within notBefore..notAfter now: a connection, full or resumed, never outlives its
 * certificate. */
static int valid_now(X509 *cert)
{
    return X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
           X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
}

X509 *tls_trust_peer_cert(SSL *ssl)
{
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

    if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK || !valid_now(cert))
        return NULL;
    return cert;
}

enum tls_peer_kind tls_trust_chain_kind(SSL *ssl)
{
    const struct tls_trust *t;
    STACK_OF(X509) * chain;
    int i, host = 0, person = 0;

    if ((chain = SSL_get0_verified_chain(ssl)) == NULL ||
        (t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), trust_index)) == NULL)
        return TLS_PEER_NONE;
    /* Index 0 is the peer's own certificate; the rest lead to the trust anchor. */
    for (i = 1; i < sk_X509_num(chain); i++) {
        host |= in_set(t->host, sk_X509_value(chain, i));
        person |= in_set(t->people, sk_X509_value(chain, i));
    }
    if (host == person)
        return TLS_PEER_NONE; /* neither (cannot happen once verified) or both (refused) */
    return host ? TLS_PEER_HOST : TLS_PEER_PERSON;
}
