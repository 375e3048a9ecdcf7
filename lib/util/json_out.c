/* Flat JSON objects written straight into a buffer (see json.h): the escaping is jansson's
 * (compact, no ensure-ascii, no escaped slash), so the text matches lbx_json_dump's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "log.h"

static void put(struct lbx_json_out *o, const void *data, size_t len)
{
    if (o->r == LBX_OK)
        o->r = lbx_buf_append(o->b, data, len);
}

/* The characters jansson escapes with a letter, and those letters. */
#define SHORT_FROM "\"\\\b\f\n\r\t"
#define SHORT_TO "\"\\bfnrt"

/* A JSON string: '"' and '\\' escaped, control characters as jansson writes them, valid
 * UTF-8 copied as is, anything else refused. */
static void put_string(struct lbx_json_out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, run, n;
    const char *short_esc;
    char esc[8];

    put(o, "\"", 1);
    while (i < len && o->r == LBX_OK) {
        for (run = i;
             run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\'; run++)
            ;
        put(o, p + i, run - i); /* a run of plain ASCII at once */
        if ((i = run) >= len)
            break;
        if (p[i] >= 0x80) {
            if ((n = lbx_utf8_seq_len(p + i, len - i, NULL)) == 0 || i + n > len) {
                o->r = LBX_ERR_ARG;
                return;
            }
            put(o, p + i, n);
            i += n;
            continue;
        }
        if ((short_esc = strchr(SHORT_FROM, p[i])) != NULL) /* never NUL: strlen bounds s */
            snprintf(esc, sizeof(esc), "\\%c", SHORT_TO[short_esc - SHORT_FROM]);
        else
            snprintf(esc, sizeof(esc), "\\u%04X", p[i]);
        put(o, esc, strlen(esc));
        i++;
    }
    put(o, "\"", 1);
}

static void put_key(struct lbx_json_out *o, const char *key)
{
    if (o->members++ > 0)
        put(o, ",", 1);
    put_string(o, key);
    put(o, ":", 1);
}

void lbx_json_out_begin(struct lbx_json_out *o, struct lbx_buf *b)
{
    *o = (struct lbx_json_out){.b = b, .r = LBX_OK};
    put(o, "{", 1);
}

void lbx_json_out_str(struct lbx_json_out *o, const char *key, const char *v)
{
    put_key(o, key);
    if (v != NULL)
        put_string(o, v);
    else
        put(o, "null", 4);
}

void lbx_json_out_int(struct lbx_json_out *o, const char *key, int64_t v)
{
    char num[24];

    put_key(o, key);
    put(o, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, v));
}

void lbx_json_out_null(struct lbx_json_out *o, const char *key)
{
    lbx_json_out_str(o, key, NULL);
}

void lbx_json_out_raw(struct lbx_json_out *o, const char *key, const char *v)
{
    put_key(o, key);
    put(o, v, strlen(v));
}

lbx_err lbx_json_out_end(struct lbx_json_out *o)
{
    put(o, "}", 1);
    return o->r;
}
