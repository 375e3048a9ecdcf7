#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest bound honoured: keeps len + extra + 1 and the doubling of cap from wrapping
 * around SIZE_MAX, whatever a caller passes as max. */
#define BUF_HARD_MAX (SIZE_MAX / 2)

void lbx_buf_init(struct lbx_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : LBX_BUF_DEFAULT_MAX;
}

/* Makes room for extra more bytes. A grown buffer is a copy; the old block is handed back in
 * *old (to be wiped and freed by the caller once the data has been copied) because the data
 * being added may point into it. Copying instead of realloc also means no secret stays behind
 * in memory realloc released. */
static lbx_err buf_reserve(struct lbx_buf *b, size_t extra, char **old, size_t *oldcap)
{
    size_t need, ncap;
    char *n;

    *old = NULL;
    *oldcap = 0;
    if (b->max == 0)
        b->max = LBX_BUF_DEFAULT_MAX;
    if (b->max > BUF_HARD_MAX)
        b->max = BUF_HARD_MAX;
    if (extra > b->max || b->len > b->max - extra)
        return LBX_ERR_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return LBX_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if ((n = malloc(ncap)) == NULL)
        return LBX_ERR_NOMEM;
    if (b->data != NULL)
        memcpy(n, b->data, b->len);
    *old = b->data;
    *oldcap = b->cap;
    b->data = n;
    b->cap = ncap;
    return LBX_OK;
}

/* data may point into b itself (appending a buffer to itself): memmove, old block kept alive
 * until the copy is done. */
lbx_err lbx_buf_append(struct lbx_buf *b, const void *data, size_t len)
{
    size_t oldcap;
    char *old;
    lbx_err r = buf_reserve(b, len, &old, &oldcap);

    if (r != LBX_OK)
        return r;
    if (len > 0)
        memmove(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    lbx_freezero(old, oldcap);
    return LBX_OK;
}

/* Formats into a scratch copy first: an argument may point into b, and vsnprintf must never
 * write over what it is still reading. The scratch copy is wiped (it may hold a token). */
lbx_err lbx_buf_printf(struct lbx_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *tmp;
    int n;
    lbx_err r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LBX_ERR_ARG;
    if ((size_t)n > b->max && b->max != 0)
        return LBX_ERR_TOO_LARGE;
    if ((tmp = malloc((size_t)n + 1)) == NULL)
        return LBX_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r = lbx_buf_append(b, tmp, (size_t)n);
    lbx_freezero(tmp, (size_t)n + 1);
    return r;
}

char *lbx_buf_steal(struct lbx_buf *b)
{
    char *d = b->data;

    if (d == NULL)
        d = strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void lbx_buf_reset(struct lbx_buf *b)
{
    if (b->data != NULL)
        explicit_bzero(b->data, b->cap);
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void lbx_buf_free(struct lbx_buf *b)
{
    if (b->data != NULL)
        lbx_freezero(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lbx_freezero(void *ptr, size_t len)
{
    if (ptr == NULL)
        return;
    explicit_bzero(ptr, len);
    free(ptr);
}

void lbx_free_secret(char *s)
{
    if (s != NULL)
        lbx_freezero(s, strlen(s));
}
