/* base64url without padding (RFC 7515 §2), decoded strictly: only the URL-safe alphabet, no
 * '=', no whitespace, and the unused low bits of the last character must be zero so that every
 * byte string has exactly one accepted encoding. */
#ifndef LBX_B64URL_H
#define LBX_B64URL_H

#include <stddef.h>
#include <stdint.h>

#include "lbx_err.h"

/* Returns a malloc'd NUL-terminated string. */
lbx_err lbx_b64url_encode(const uint8_t *in, size_t len, char **out);
/* Decodes exactly len characters of in. *out is malloc'd, NUL-terminated (not counted). */
lbx_err lbx_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen);
/* True when c belongs to the base64url alphabet. */
int lbx_b64url_is_alphabet(int c);

#endif
