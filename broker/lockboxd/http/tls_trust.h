/* Client-certificate trust: host certificates (client_ca) and people's certificates
 * (people_ca, optional) are told apart by the CA their verified chain runs through. */
#ifndef LBX_TLS_TRUST_H
#define LBX_TLS_TRUST_H

#include <openssl/ssl.h>

#include "lbx_err.h"

enum tls_peer_kind { TLS_PEER_NONE, TLS_PEER_HOST, TLS_PEER_PERSON };

#define TLS_TRUST_DIGEST_LEN 32

/* Trusts client_ca (hosts) and people_ca (people; NULL: people use API tokens only) for client
 * certificates on ctx and remembers which is which. Refuses overlapping CAs. */
lbx_err tls_trust_install(SSL_CTX *ctx, const char *client_ca, const char *people_ca,
                          struct lbx_error *e);
/* SHA-256 over the certificates of both sets, each labelled: what a peer's kind is judged
 * against. Equal for equal trust, whatever the files' comments or order of loading. */
lbx_err tls_trust_digest(SSL_CTX *ctx, unsigned char out[TLS_TRUST_DIGEST_LEN],
                         struct lbx_error *e);
/* The connection's client certificate when one was presented, verified and is within its
 * validity period now; NULL otherwise. */
X509 *tls_trust_peer_cert(SSL *ssl);
/* What a full handshake's verified chain makes its peer: a host, a person, or neither (chaining
 * through both sets). A resumed connection is judged by its ticket (tls_peer_kind). */
enum tls_peer_kind tls_trust_chain_kind(SSL *ssl);

#endif
