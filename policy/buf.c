#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lbx_buf_init(struct lbx_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : LBX_BUF_DEFAULT_MAX;
}

static lbx_err buf_reserve(struct lbx_buf *b, size_t extra)
{
    size_t need, ncap;
    char *n;

    if (b->max == 0)
        b->max = LBX_BUF_DEFAULT_MAX;
    if (extra > b->max || b->len > b->max - extra)
        return LBX_ERR_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return LBX_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    /* Grow by copy so a secret never stays behind in memory realloc released. */
    n = malloc(ncap);
    if (n == NULL)
        return LBX_ERR_NOMEM;
    if (b->data != NULL) {
        memcpy(n, b->data, b->len);
        lbx_freezero(b->data, b->cap);
    }
    b->data = n;
    b->cap = ncap;
    return LBX_OK;
}

lbx_err lbx_buf_append(struct lbx_buf *b, const void *data, size_t len)
{
    lbx_err r = buf_reserve(b, len);

    if (r != LBX_OK)
        return r;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return LBX_OK;
}

lbx_err lbx_buf_printf(struct lbx_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    lbx_err r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LBX_ERR_ARG;
    if ((r = buf_reserve(b, (size_t)n)) != LBX_OK)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LBX_OK;
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
