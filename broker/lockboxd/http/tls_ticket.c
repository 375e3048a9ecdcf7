/* Stateless session tickets, safely.
 *
 * Keys: one random secret per broker start, made before the workers are forked (they and
 * restarted workers inherit it); each SSL_CTX's ticket keys are HKDF(secret, salt = digest of
 * the trust installed on it, info = the lifetime). Every worker derives the same keys, a reload
 * with the same CAs keeps them, a reload with other CAs or another lifetime changes them (old
 * tickets no longer decrypt: full handshake), and a restart forgets them all.
 *
 * Content: OpenSSL's ticket carries the session and the peer's certificate, but not the chain
 * the full handshake verified, which is what tells a host from a person (tls_trust.c). So the
 * ticket also carries a record written at the full handshake: the peer's kind, when the full
 * handshake was, the earliest notAfter of its verified chain, and the SHA-256 of the peer's
 * certificate. A ticket is accepted only with a well-formed record that matches its
 * certificate, within the lifetime of its full handshake (TLS 1.3 renews a ticket at each
 * resumption; the record keeps the first handshake's time, so chained resumptions end too) and
 * within its chain's validity. Anything else: a full handshake. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "tls_ticket.h"

#define SECRET_LEN 32
/* SSL_CTX_set_tlsext_ticket_keys: key name 16, HMAC-SHA256 key 32, AES-256 key 32. */
#define TICKET_KEYS_LEN 80
#define RECORD_VERSION 1
#define RECORD_LEN (1 + 1 + 8 + 8 + TLS_TRUST_DIGEST_LEN)

static unsigned char *ticket_secret; /* SECRET_LEN bytes; NULL until made */

struct ticket_record {
    enum tls_peer_kind kind;
    int64_t full_at;                          /* time of the full handshake */
    int64_t not_after;                        /* earliest notAfter of the verified chain */
    unsigned char cert[TLS_TRUST_DIGEST_LEN]; /* SHA-256 of the peer's certificate; 0s: none */
};

lbx_err tls_ticket_secret_init(struct lbx_error *e)
{
    if (ticket_secret != NULL)
        return LBX_OK;
    if ((ticket_secret = malloc(SECRET_LEN)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "session ticket secret");
    if (RAND_priv_bytes(ticket_secret, SECRET_LEN) != 1) {
        tls_ticket_secret_wipe();
        return lbx_error_set(e, LBX_ERR_TLS, "no randomness for the session ticket secret");
    }
    return LBX_OK;
}

void tls_ticket_secret_wipe(void)
{
    lbx_freezero(ticket_secret, SECRET_LEN);
    ticket_secret = NULL;
}

static void put64(unsigned char *p, int64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
        p[i] = (unsigned char)(v & 0xff);
}

static int64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static void record_encode(const struct ticket_record *r, unsigned char out[RECORD_LEN])
{
    out[0] = RECORD_VERSION;
    out[1] = (unsigned char)r->kind;
    put64(out + 2, r->full_at);
    put64(out + 10, r->not_after);
    memcpy(out + 18, r->cert, sizeof(r->cert));
}

/* 1 when sess carries a well-formed record of this version. */
static int record_read(SSL_SESSION *sess, struct ticket_record *r)
{
    const unsigned char *p;
    void *data = NULL;
    size_t len = 0;

    if (sess == NULL || SSL_SESSION_get0_ticket_appdata(sess, &data, &len) != 1 ||
        len != RECORD_LEN)
        return 0;
    p = data;
    if (p[0] != RECORD_VERSION ||
        (p[1] != TLS_PEER_NONE && p[1] != TLS_PEER_HOST && p[1] != TLS_PEER_PERSON))
        return 0;
    r->kind = (enum tls_peer_kind)p[1];
    r->full_at = get64(p + 2);
    r->not_after = get64(p + 10);
    memcpy(r->cert, p + 18, sizeof(r->cert));
    return 1;
}

/* SHA-256 of cert's DER; all zeros for none. 0 on failure. */
static int cert_digest(X509 *cert, unsigned char out[TLS_TRUST_DIGEST_LEN])
{
    unsigned int n = 0;

    memset(out, 0, TLS_TRUST_DIGEST_LEN);
    if (cert == NULL)
        return 1;
    return X509_digest(cert, EVP_sha256(), out, &n) == 1 && n == TLS_TRUST_DIGEST_LEN;
}

/* 1 when the record is about peer (a kind needs a certificate, and this very one) and the
 * full handshake's chain is still valid at now. */
static int record_holds(const struct ticket_record *r, X509 *peer, int64_t now)
{
    unsigned char digest[TLS_TRUST_DIGEST_LEN];

    if (r->kind != TLS_PEER_NONE && peer == NULL)
        return 0;
    if (!cert_digest(peer, digest) || CRYPTO_memcmp(digest, r->cert, sizeof(digest)) != 0)
        return 0;
    return r->full_at <= now && now < r->not_after;
}

/* The earliest notAfter in the verified chain (the leaf, its CAs, the anchor); INT64_MAX
 * without a chain, now when a date cannot be read (the ticket is then never usable). */
static int64_t chain_not_after(SSL *ssl, int64_t now)
{
    STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
    int64_t earliest = INT64_MAX, t;
    int i, days, secs;

    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(sk_X509_value(chain, i))) != 1)
            return now;
        t = now + (int64_t)days * 86400 + secs;
        earliest = t < earliest ? t : earliest;
    }
    return earliest;
}

/* Every ticket about to be issued. A full handshake's record is made here; a resumed
 * connection's renewed ticket (TLS 1.3) is a copy of its session, record included: what the
 * full handshake established, at the time it did. */
static int ticket_generate(SSL *ssl, void *arg)
{
    SSL_SESSION *sess = SSL_get0_session(ssl);
    unsigned char buf[RECORD_LEN];
    struct ticket_record r;
    int64_t now = (int64_t)time(NULL);

    (void)arg;
    if (SSL_session_reused(ssl))
        return record_read(sess, &r); /* accepted with it in ticket_decrypted */
    r.kind = tls_peer_kind(ssl);
    r.full_at = now;
    r.not_after = chain_not_after(ssl, now);
    if (!cert_digest(SSL_get0_peer_certificate(ssl), r.cert))
        return 0;
    record_encode(&r, buf);
    return SSL_SESSION_set1_ticket_appdata(sess, buf, sizeof(buf));
}

static const char *kind_name(enum tls_peer_kind kind)
{
    return kind == TLS_PEER_HOST ? "host" : kind == TLS_PEER_PERSON ? "person" : "anonymous";
}

/* A ticket the client presented: decrypted and authenticated under our keys (status SUCCESS*)
 * or not. Only a decrypted ticket with a record that still holds resumes. */
static SSL_TICKET_RETURN ticket_decrypted(SSL *ssl, SSL_SESSION *sess, const unsigned char *name,
                                          size_t name_len, SSL_TICKET_STATUS status, void *arg)
{
    int64_t lifetime = (int64_t)(intptr_t)arg, now = (int64_t)time(NULL);
    struct ticket_record r;

    (void)ssl, (void)name, (void)name_len;
    switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
        if (!record_read(sess, &r) || !record_holds(&r, SSL_SESSION_get0_peer(sess), now) ||
            now - r.full_at >= lifetime) {
            lbx_debug_f("session ticket refused (no valid record, or expired): full handshake");
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        }
        lbx_debug_f("resumed a %s session (pid %d)", kind_name(r.kind), (int)getpid());
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_NONE:
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT: /* not ours, tampered with, or from another trust or start */
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    default:
        return SSL_TICKET_RETURN_ABORT;
    }
}

/* The kind the full handshake established for a resumed connection whose peer certificate is
 * cert, from its ticket's record: TLS_PEER_NONE unless the record is well formed, names this
 * very certificate and its verified chain is still within its validity. */
static enum tls_peer_kind resumed_kind(SSL *ssl, X509 *cert)
{
    struct ticket_record r;

    if (!record_read(SSL_get0_session(ssl), &r) || !record_holds(&r, cert, (int64_t)time(NULL)))
        return TLS_PEER_NONE;
    return r.kind;
}

enum tls_peer_kind tls_peer_kind(SSL *ssl)
{
    X509 *cert = tls_trust_peer_cert(ssl);

    if (cert == NULL)
        return TLS_PEER_NONE;
    return SSL_session_reused(ssl) ? resumed_kind(ssl, cert) : tls_trust_chain_kind(ssl);
}

/* HKDF-SHA256(secret, salt = trust digest, info = purpose and lifetime) -> the ticket keys. */
static int derive_keys(const unsigned char *trust, int64_t lifetime, unsigned char *keys)
{
    EVP_PKEY_CTX *kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t len = TICKET_KEYS_LEN;
    char info[80];
    int ok;

    snprintf(info, sizeof(info), "lockboxd session ticket keys v1, lifetime %lld",
             (long long)lifetime);
    ok = kdf != NULL && EVP_PKEY_derive_init(kdf) > 0 &&
         EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set1_hkdf_key(kdf, ticket_secret, SECRET_LEN) > 0 &&
         EVP_PKEY_CTX_set1_hkdf_salt(kdf, trust, TLS_TRUST_DIGEST_LEN) > 0 &&
         EVP_PKEY_CTX_add1_hkdf_info(kdf, (const unsigned char *)info, (int)strlen(info)) > 0 &&
         EVP_PKEY_derive(kdf, keys, &len) > 0 && len == TICKET_KEYS_LEN;
    EVP_PKEY_CTX_free(kdf);
    return ok;
}

lbx_err tls_ticket_configure(SSL_CTX *ctx, int64_t lifetime, struct lbx_error *e)
{
    unsigned char trust[TLS_TRUST_DIGEST_LEN], *keys = NULL;
    lbx_err r = LBX_OK;

    if (lifetime == 0) {
        /* No resumption: every connection presents (or not) its certificate afresh. Under TLS
         * 1.3 SSL_OP_NO_TICKET alone only makes the tickets stateful: OpenSSL would still send
         * two per connection (never usable with the cache off). */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        return LBX_OK;
    }
    if (ticket_secret == NULL)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "session ticket secret not made");
    if ((keys = malloc(TICKET_KEYS_LEN)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "session ticket keys");
    if ((r = tls_trust_digest(ctx, trust, e)) != LBX_OK)
        goto out;
    /* The session id context is required to resume with client certificates; the trust digest
     * binds every session to the trust it was verified against, a second time. */
    if (!derive_keys(trust, lifetime, keys) ||
        SSL_CTX_set_tlsext_ticket_keys(ctx, keys, TICKET_KEYS_LEN) != 1 ||
        SSL_CTX_set_session_id_context(ctx, trust, sizeof(trust)) != 1 ||
        SSL_CTX_set_num_tickets(ctx, 1) != 1 ||
        SSL_CTX_set_session_ticket_cb(ctx, ticket_generate, ticket_decrypted,
                                      (void *)(intptr_t)lifetime) != 1) {
        ERR_clear_error();
        r = lbx_error_set(e, LBX_ERR_TLS, "cannot set up session tickets");
        goto out;
    }
    SSL_CTX_set_timeout(ctx, (long)lifetime);
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
out:
    lbx_freezero(keys, TICKET_KEYS_LEN);
    return r;
}
