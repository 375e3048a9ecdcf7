#ifndef LBX_RANDOM_H
#define LBX_RANDOM_H

#include <stddef.h>

#include "lbx_err.h"

/* nbytes from the OS CSPRNG, base64url-encoded (malloc'd). 32 bytes = a 256-bit secret. */
lbx_err lbx_random_b64url(size_t nbytes, char **out);

#endif
