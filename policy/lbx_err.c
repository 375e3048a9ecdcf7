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

lbx_err lbx_error_set(struct lbx_error *e, lbx_err code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return code;
    e->code = code;
    e->detail[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
        va_end(ap);
    }
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
