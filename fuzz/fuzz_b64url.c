/* base64url under libFuzzer: decoding accepts exactly one encoding per byte string, and
 * encode/decode round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *raw;
    size_t n;
    char *enc;

    if (lbx_b64url_decode((const char *)data, size, &raw, &n) == LBX_OK) {
        if (lbx_b64url_encode(raw, n, &enc) != LBX_OK || strlen(enc) != size ||
            memcmp(enc, data, size) != 0)
            abort(); /* a second accepted spelling of the same bytes */
        free(enc);
        free(raw);
    }
    if (lbx_b64url_encode(data, size, &enc) != LBX_OK)
        abort();
    if (lbx_b64url_decode(enc, strlen(enc), &raw, &n) != LBX_OK || n != size ||
        memcmp(raw, data, size) != 0)
        abort();
    free(enc);
    free(raw);
    return 0;
}
