#include "random.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

#include "b64url.h"

lbx_err lbx_random_b64url(size_t nbytes, char **out)
{
    uint8_t bytes[64];
    lbx_err r;

    *out = NULL;
    if (nbytes == 0 || nbytes > sizeof(bytes))
        return LBX_ERR_ARG;
    if (RAND_bytes(bytes, (int)nbytes) != 1)
        return LBX_ERR_CRYPTO;
    r = lbx_b64url_encode(bytes, nbytes, out);
    explicit_bzero(bytes, sizeof(bytes));
    return r;
}
