/* lbx_http_parse_answer (and lbx_url_parse) under libFuzzer. The first byte picks the body
 * limit and whether the peer closed; the rest is what the network sent. An answer it calls
 * complete must be complete on its own: the same bytes, cut where it said the answer ends,
 * parse to the same status and body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lbx_err parse(const char *in, size_t len, int eof, size_t max, struct lbx_buf *body,
                     struct lbx_http_answer *a, enum lbx_http_parse_state *st)
{
    lbx_buf_init(body, max);
    return lbx_http_parse_answer(in, len, eof, body, a, st, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lbx_buf body, again;
    struct lbx_http_answer a, b;
    enum lbx_http_parse_state st, st2;
    struct lbx_url u;
    char *url;
    size_t max;
    int eof;

    if (size < 1)
        return 0;
    eof = data[0] & 1;
    max = (size_t)(data[0] >> 1) * 64 + 1;
    if (parse((const char *)data + 1, size - 1, eof, max, &body, &a, &st) == LBX_OK &&
        st == LBX_HTTP_DONE) {
        if (a.status < 200 || a.status > 599 || a.consumed > size - 1 || body.len > max)
            abort();
        if (parse((const char *)data + 1, a.consumed, eof || !a.keep_alive, max, &again, &b,
                  &st2) != LBX_OK ||
            st2 != LBX_HTTP_DONE || b.status != a.status || again.len != body.len ||
            (body.len && memcmp(again.data, body.data, body.len) != 0))
            abort();
        lbx_buf_free(&again);
    }
    lbx_buf_free(&body);
    if ((url = malloc(size)) != NULL) {
        memcpy(url, data + 1, size - 1);
        url[size - 1] = '\0';
        if (lbx_url_parse(url, &u, NULL) == LBX_OK && (u.path[0] != '/' || u.port[0] == '\0'))
            abort();
        free(url);
    }
    return 0;
}
