/* Every growable byte buffer in lockbox goes through this API: bounded, NUL-terminated for
 * convenience, wiped on free because it often holds tokens. */
#ifndef LBX_BUF_H
#define LBX_BUF_H

#include <stddef.h>

#include "lbx_err.h"

struct lbx_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = LBX_BUF_DEFAULT_MAX */
};

#define LBX_BUF_DEFAULT_MAX (16u * 1024 * 1024)

void lbx_buf_init(struct lbx_buf *b, size_t max);
lbx_err lbx_buf_append(struct lbx_buf *b, const void *data, size_t len);
lbx_err lbx_buf_printf(struct lbx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the NUL-terminated contents to the caller and resets b. */
char *lbx_buf_steal(struct lbx_buf *b);
void lbx_buf_reset(struct lbx_buf *b);
/* Wipes and frees. */
void lbx_buf_free(struct lbx_buf *b);

/* explicit_bzero + free, for secrets (OpenSSH's freezero). */
void lbx_freezero(void *ptr, size_t len);
/* Wipes and frees a NUL-terminated secret string. */
void lbx_free_secret(char *s);

#endif
