/* TLS session resumption with stateless tickets (TLS 1.3 and 1.2): a resumed connection skips
 * the certificate signature and chain verification of a full handshake, and keeps everything
 * the full handshake established, carried in the ticket that only the broker can read. */
#ifndef LBX_TLS_TICKET_H
#define LBX_TLS_TICKET_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "lbx_err.h"
#include "tls_trust.h"

/* Once per broker start, before any worker is forked: the random secret that every SSL_CTX's
 * ticket keys derive from, so that every worker (and every reload with the same trust) reads
 * every other's tickets and no ticket outlives the broker process. */
lbx_err tls_ticket_secret_init(struct lbx_error *e);
void tls_ticket_secret_wipe(void);

/* lifetime 0: no tickets, no resumption. Otherwise one ticket per connection, usable for
 * lifetime seconds after its full handshake, under keys derived from the secret and the trust
 * installed on ctx (tls_trust_install first): other CAs, other keys. */
lbx_err tls_ticket_configure(SSL_CTX *ctx, int64_t lifetime, struct lbx_error *e);

/* What the connection's client certificate is, now: a host's, a person's, or neither (none
 * presented, not verified, outside its validity period now, or chaining through both sets).
 * A full handshake is judged by its verified chain (tls_trust.c), a resumed one by the record
 * its ticket carries from the full handshake. */
enum tls_peer_kind tls_peer_kind(SSL *ssl);

#endif
