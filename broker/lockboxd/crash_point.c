/* Test-only fault injection (broker.h): LBX_CRASH_POINT=<name> kills the daemon at that point. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"

void broker_crash_point(const char *name)
{
    const char *want = getenv("LBX_CRASH_POINT");

    if (want != NULL && strcmp(want, name) == 0) {
        lbx_warn_f("crash point %s reached: killing myself (test fault injection)", name);
        raise(SIGKILL);
    }
}
