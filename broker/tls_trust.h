/* Client-certificate trust: host certificates (client_ca) and people's certificates
 * (people_ca, optional) are told apart by the CA their verified chain runs through. */
#ifndef LBX_TLS_TRUST_H
#define LBX_TLS_TRUST_H

#include <openssl/ssl.h>

#include "lbx_err.h"

enum tls_peer_kind { TLS_PEER_NONE, TLS_PEER_HOST, TLS_PEER_PERSON };

/* Trusts client_ca (hosts) and people_ca (people; NULL: people use API tokens only) for client
 * certificates on ctx and remembers which is which. Refuses overlapping CAs. */
lbx_err tls_trust_install(SSL_CTX *ctx, const char *client_ca, const char *people_ca,
                          struct lbx_error *e);
/* What the connection's verified client certificate is: a host's, a person's, or neither (none
 * presented, not verified, or chaining through both sets). */
enum tls_peer_kind tls_peer_kind(SSL *ssl);

#endif
