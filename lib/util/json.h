/* The one JSON layer (over jansson). Parsing is strict everywhere lockbox reads JSON from
 * another party: bounded size and depth, objects only at the top, duplicate member names and
 * NUL inside strings rejected. */
#ifndef LBX_JSON_H
#define LBX_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lbx_err.h"

#define LBX_JSON_MAX_DEPTH 16

/* Parses len bytes as one JSON object. Refuses: more than max_len bytes, nesting deeper than
 * max_depth, a top-level value that is not an object, duplicate keys, "\u0000" in strings,
 * embedded NUL bytes, trailing garbage. */
lbx_err lbx_json_parse_object(const char *text, size_t len, size_t max_len, int max_depth,
                              json_t **out, struct lbx_error *e);
/* The same for a top-level array (a line of a JSON-lines file that is not an object). */
lbx_err lbx_json_parse_array(const char *text, size_t len, size_t max_len, int max_depth,
                             json_t **out, struct lbx_error *e);

/* Typed getters: LBX_ERR_TOKEN_CLAIM_MISSING when absent, LBX_ERR_TOKEN_CLAIM_TYPE when of the
 * wrong JSON type (callers map these to their own codes as needed). */
lbx_err lbx_json_get_string(const json_t *obj, const char *key, const char **out);
lbx_err lbx_json_get_int(const json_t *obj, const char *key, int64_t *out);

/* Rejects any member of obj whose name is not in the NULL-terminated allowed list; names the
 * first offending member in e. */
lbx_err lbx_json_only_keys(const json_t *obj, const char *const *allowed, struct lbx_error *e);

/* Compact serialization with sorted keys (stable for hashing); malloc'd. */
char *lbx_json_dump(const json_t *v);

/* A flat object written straight into a buffer (json_out.c), for fixed-shape hot paths (an
 * audit event per token) without building a jansson tree: members in the order given — give
 * them sorted and the text is byte for byte what lbx_json_dump makes of the same object.
 * Strings must be UTF-8 (as json_string requires); the first bad string or full buffer fails
 * the object, and lbx_json_out_end reports it. */
struct lbx_buf;
struct lbx_json_out {
    struct lbx_buf *b;
    int members;
    lbx_err r;
};
void lbx_json_out_begin(struct lbx_json_out *o, struct lbx_buf *b);
void lbx_json_out_str(struct lbx_json_out *o, const char *key, const char *v); /* NULL: null */
void lbx_json_out_int(struct lbx_json_out *o, const char *key, int64_t v);
void lbx_json_out_null(struct lbx_json_out *o, const char *key);
/* v is JSON text already (a nested value from lbx_json_dump). */
void lbx_json_out_raw(struct lbx_json_out *o, const char *key, const char *v);
lbx_err lbx_json_out_end(struct lbx_json_out *o);

#endif
