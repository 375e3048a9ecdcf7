#include "b64url.h"

#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int decode_char(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int lbx_b64url_is_alphabet(int c)
{
    return decode_char(c) >= 0;
}

lbx_err lbx_b64url_encode(const uint8_t *in, size_t len, char **out)
{
    size_t i, o = 0;
    uint32_t v;
    char *s;

    if (len > (SIZE_MAX - 4) / 4 * 3)
        return LBX_ERR_TOO_LARGE;
    s = malloc((len + 2) / 3 * 4 + 1);
    if (s == NULL)
        return LBX_ERR_NOMEM;
    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        s[o++] = alphabet[(v >> 18) & 63];
        s[o++] = alphabet[(v >> 12) & 63];
        s[o++] = alphabet[(v >> 6) & 63];
        s[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        v = (uint32_t)in[i] << 16;
        s[o++] = alphabet[(v >> 18) & 63];
        s[o++] = alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        s[o++] = alphabet[(v >> 18) & 63];
        s[o++] = alphabet[(v >> 12) & 63];
        s[o++] = alphabet[(v >> 6) & 63];
    }
    s[o] = '\0';
    *out = s;
    return LBX_OK;
}

lbx_err lbx_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
    size_t i, o = 0, rem = len % 4;
    uint32_t v = 0;
    int bits = 0, d;
    uint8_t *buf;

    *out = NULL;
    *outlen = 0;
    if (rem == 1)
        return LBX_ERR_TOKEN_MALFORMED; /* no byte string encodes to 4k+1 characters */
    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL)
        return LBX_ERR_NOMEM;
    for (i = 0; i < len; i++) {
        if ((d = decode_char((unsigned char)in[i])) < 0)
            goto bad;
        v = (v << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(v >> bits);
            v &= (1u << bits) - 1;
        }
    }
    if (v != 0) /* non-canonical: leftover bits set */
        goto bad;
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return LBX_OK;
bad:
    free(buf);
    return LBX_ERR_TOKEN_MALFORMED;
}
