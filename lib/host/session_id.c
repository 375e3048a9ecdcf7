/* New session ids, apart from session_record.c: it needs the CSPRNG (OpenSSL), and
 * lockbox-session, which only reads records, then loads no libcrypto (0.9 ms per exec). */
#include <stdio.h>
#include <stdlib.h>

#include "random.h"
#include "session_record.h"

lbx_err lbx_session_new_id(char sid[LBX_SID_MAX])
{
    char *rnd = NULL;
    lbx_err r;

    if ((r = lbx_random_b64url(16, &rnd)) != LBX_OK)
        return r;
    snprintf(sid, LBX_SID_MAX, "s-%s", rnd);
    free(rnd);
    return LBX_OK;
}
