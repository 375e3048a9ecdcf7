#include "lbx_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const lbx_err_text[] = {
#define LBX_ERR_TEXT(code, text) [code] = text,
    LBX_ERR_TABLE(LBX_ERR_TEXT)
#undef LBX_ERR_TEXT
};

const char *lbx_strerror(lbx_err code)
{
    if ((int)code < 0 || code >= LBX_ERR__COUNT)
        return "unknown error";
    return lbx_err_text[code];
}

/* Formats into a copy first: callers naturally wrap an earlier detail
 * (`lbx_error_set(e, r, "%s: %s", path, e->detail)`), and vsnprintf into the buffer it reads
 * from is undefined behaviour. */
lbx_err lbx_error_set(struct lbx_error *e, lbx_err code, const char *fmt, ...)
{
    char detail[sizeof(e->detail)] = "";
    va_list ap;

    if (e == NULL)
        return code;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }
    e->code = code;
    memcpy(e->detail, detail, sizeof(detail));
    return code;
}

void lbx_error_clear(struct lbx_error *e)
{
    if (e != NULL) {
        e->code = LBX_OK;
        e->detail[0] = '\0';
    }
}

const char *lbx_error_text(const struct lbx_error *e, char *buf, size_t buflen)
{
    if (e == NULL)
        return "unknown error";
    if (e->detail[0] == '\0')
        return lbx_strerror(e->code);
    snprintf(buf, buflen, "%s: %s", lbx_strerror(e->code), e->detail);
    return buf;
}
