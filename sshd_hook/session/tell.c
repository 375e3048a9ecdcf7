/* What the hook tells the engineer: one line on their terminal, and why the session ended. */
#include <stdarg.h>
#include <stdio.h>

#include "hook.h"

void lbx_hook_say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "lockbox: %s\n", line);
}

void lbx_hook_end_reason(const struct lbx_hook *h, char *out, size_t len)
{
    struct lbx_session_record now;

    out[0] = '\0';
    if (lbx_session_record_read(h->sessions_dir, h->rec.sid, 1, &now, NULL) != LBX_OK)
        return;
    if (now.ended != NULL)
        snprintf(out, len, "%s", now.ended);
    lbx_session_record_free(&now);
}
