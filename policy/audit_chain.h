/* The audit log's hash chain, as pure functions shared by the broker (which appends) and by
 * `lockboxctl audit verify` (which checks, from the broker's export or the SQLite file).
 *
 * Each event is stored as its canonical JSON body (sorted keys, compact) carrying its own
 * "seq" (1, 2, 3, ...) and "prev_hash" (the hash of the event before it, 64 zeros for the
 * first); its hash is hex(SHA-256(body)). Editing an event changes its hash; deleting,
 * inserting or reordering breaks the seq run or the prev_hash link. */
#ifndef LBX_AUDIT_CHAIN_H
#define LBX_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lbx_err.h"

#define LBX_AUDIT_HASH_HEX 64
/* The largest event body the chain carries (and verify reads). */
#define LBX_AUDIT_BODY_MAX (256 * 1024)
#define LBX_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* out receives 64 lowercase hex digits and a NUL. */
lbx_err lbx_audit_hash(const char *body, size_t len, char out[LBX_AUDIT_HASH_HEX + 1]);

struct lbx_audit_verifier {
    int64_t next_seq;
    int64_t count;
    char prev[LBX_AUDIT_HASH_HEX + 1];
};

void lbx_audit_verify_init(struct lbx_audit_verifier *v);

/* Checks the next stored event (its row seq, body and stored hash) against the chain so far.
 * On failure e names the event (seq and event_id when readable) and what is wrong with it;
 * the verifier must not be used further. */
lbx_err lbx_audit_verify_next(struct lbx_audit_verifier *v, int64_t seq, const char *body,
                              const char *hash, struct lbx_error *e);

#endif
