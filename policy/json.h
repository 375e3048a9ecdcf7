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

/* Typed getters: LBX_ERR_TOKEN_CLAIM_MISSING when absent, LBX_ERR_TOKEN_CLAIM_TYPE when of the
 * wrong JSON type (callers map these to their own codes as needed). */
lbx_err lbx_json_get_string(const json_t *obj, const char *key, const char **out);
lbx_err lbx_json_get_int(const json_t *obj, const char *key, int64_t *out);

/* Rejects any member of obj whose name is not in the NULL-terminated allowed list; names the
 * first offending member in e. */
lbx_err lbx_json_only_keys(const json_t *obj, const char *const *allowed, struct lbx_error *e);

/* Compact serialization with sorted keys (stable for hashing); malloc'd. */
char *lbx_json_dump(const json_t *v);

#endif
