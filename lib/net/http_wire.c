#include "http_wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* -- URL ---------------------------------------------------------------------------------- */

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static lbx_err parse_port(const char *s, size_t n, struct lbx_url *u, struct lbx_error *e)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return lbx_error_set(e, LBX_ERR_CONFIG, "bad port in URL");
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return lbx_error_set(e, LBX_ERR_CONFIG, "bad port in URL");
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return lbx_error_set(e, LBX_ERR_CONFIG, "bad port in URL");
    snprintf(u->port, sizeof(u->port), "%lu", v);
    return LBX_OK;
}

static int valid_name(const char *h)
{
    for (; *h; h++)
        if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' && *h != '_')
            return 0;
    return 1;
}

static lbx_err parse_authority(const char *a, size_t n, struct lbx_url *u, struct lbx_error *e)
{
    const char *colon = NULL, *host = a;
    size_t hlen = n;
    unsigned char addr[16];

    if (memchr(a, '@', n) != NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "URL must not carry user info");
    if (n > 0 && a[0] == '[') { /* [IPv6]:port */
        const char *close = memchr(a, ']', n);
        if (close == NULL)
            return lbx_error_set(e, LBX_ERR_CONFIG, "bad IPv6 address in URL");
        host = a + 1;
        hlen = (size_t)(close - host);
        if (close + 1 < a + n) {
            if (close[1] != ':')
                return lbx_error_set(e, LBX_ERR_CONFIG, "bad host in URL");
            colon = close + 1;
        }
    } else if ((colon = memchr(a, ':', n)) != NULL) {
        hlen = (size_t)(colon - a);
    }
    if (hlen == 0 || hlen >= sizeof(u->host))
        return lbx_error_set(e, LBX_ERR_CONFIG, "bad host in URL");
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    u->host_is_ip =
        inet_pton(AF_INET, u->host, addr) == 1 || inet_pton(AF_INET6, u->host, addr) == 1;
    if (a[0] == '[' && !(u->host_is_ip && strchr(u->host, ':')))
        return lbx_error_set(e, LBX_ERR_CONFIG, "bad IPv6 address in URL");
    if (!u->host_is_ip && !valid_name(u->host))
        return lbx_error_set(e, LBX_ERR_CONFIG, "bad host in URL");
    if (colon == NULL) {
        snprintf(u->port, sizeof(u->port), "443");
        return LBX_OK;
    }
    return parse_port(colon + 1, (size_t)(a + n - colon - 1), u, e);
}

lbx_err lbx_url_parse(const char *url, struct lbx_url *u, struct lbx_error *e)
{
    const char *auth, *end;
    size_t plen;
    lbx_err r;

    memset(u, 0, sizeof(*u));
    if (url == NULL || strncasecmp(url, "https://", 8) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "URL must be https://");
    if (!printable(url) || strchr(url, '#') != NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "URL has characters it may not have");
    auth = url + 8;
    end = auth + strcspn(auth, "/?");
    if ((r = parse_authority(auth, (size_t)(end - auth), u, e)) != LBX_OK)
        return r;
    plen = strlen(end);
    if (plen + 2 > sizeof(u->path))
        return lbx_error_set(e, LBX_ERR_CONFIG, "URL too long");
    snprintf(u->path, sizeof(u->path), "%s%s", *end == '/' ? "" : "/", end);
    return LBX_OK;
}

/* -- request ------------------------------------------------------------------------------ */

lbx_err lbx_http_format_request(const struct lbx_url *u, const char *method, const char *bearer,
                                const char *body, struct lbx_buf *out, struct lbx_error *e)
{
    return lbx_http_format_request_typed(u, method, bearer, NULL, body, out, e);
}

lbx_err lbx_http_format_request_typed(const struct lbx_url *u, const char *method,
                                      const char *bearer, const char *content_type,
                                      const char *body, struct lbx_buf *out, struct lbx_error *e)
{
    int v6 = u->host_is_ip && strchr(u->host, ':') != NULL;
    lbx_err r;

    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
        strcmp(method, "DELETE") != 0)
        return lbx_error_set(e, LBX_ERR_ARG, "HTTP method %s not supported", method);
    if (bearer != NULL && (bearer[0] == '\0' || !printable(bearer)))
        return lbx_error_set(e, LBX_ERR_ARG, "API token is not a printable word");
    if (content_type != NULL && (content_type[0] == '\0' || !printable(content_type)))
        return lbx_error_set(e, LBX_ERR_ARG, "content type is not a printable word");
    r = lbx_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nAccept: application/json\r\n",
                       method, u->path, v6 ? "[" : "", u->host, v6 ? "]" : "",
                       strcmp(u->port, "443") ? ":" : "", strcmp(u->port, "443") ? u->port : "");
    if (r == LBX_OK && bearer != NULL)
        r = lbx_buf_printf(out, "Authorization: Bearer %s\r\n", bearer);
    if (r == LBX_OK && body != NULL)
        r = lbx_buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                           content_type ? content_type : "application/json", strlen(body));
    else if (r == LBX_OK)
        r = lbx_buf_printf(out, "%s\r\n", strcmp(method, "GET") ? "Content-Length: 0\r\n" : "");
    if (r == LBX_OK && body != NULL)
        r = lbx_buf_append(out, body, strlen(body));
    return r == LBX_OK ? LBX_OK : lbx_error_set(e, r, "request too large");
}

/* -- answer ------------------------------------------------------------------------------- */

struct head {
    long status;
    int http10, chunked, has_length, close, keep;
    uint64_t length;
    size_t size; /* bytes of status line + headers + the empty line */
};

/* A line of in[pos..len) ending in CRLF: its length without the CRLF, or -1 when incomplete,
 * -2 when a bare LF or CR comes first (never accepted: it is how smuggled answers look). */
static long line_at(const char *in, size_t len, size_t pos)
{
    size_t i;

    for (i = pos; i < len; i++) {
        if (in[i] == '\r')
            return i + 1 < len ? (in[i + 1] == '\n' ? (long)(i - pos) : -2) : -1;
        if (in[i] == '\n' || in[i] == '\0')
            return -2;
    }
    return -1;
}

static lbx_err malformed(struct lbx_error *e, const char *what)
{
    return lbx_error_set(e, LBX_ERR_HTTP, "malformed HTTP answer: %s", what);
}

static lbx_err status_line(const char *l, size_t n, struct head *h, struct lbx_error *e)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
        !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
        !isdigit((unsigned char)l[11]) || (n > 12 && l[12] != ' '))
        return malformed(e, "status line");
    h->http10 = l[7] == '0';
    h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (h->status < 100 || h->status > 599)
        return malformed(e, "status code");
    return LBX_OK;
}

static int token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int value_is(const char *v, size_t n, const char *word)
{
    return n == strlen(word) && strncasecmp(v, word, n) == 0;
}

static lbx_err length_header(const char *v, size_t n, struct head *h, struct lbx_error *e)
{
    uint64_t x = 0;
    size_t i;

    if (n == 0 || n > 19)
        return malformed(e, "Content-Length");
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return malformed(e, "Content-Length");
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (h->has_length && h->length != x)
        return malformed(e, "two different Content-Length");
    h->has_length = 1;
    h->length = x;
    return LBX_OK;
}

static lbx_err header_line(const char *l, size_t n, struct head *h, struct lbx_error *e)
{
    const char *colon = memchr(l, ':', n), *v;
    size_t name, vn, i;

    if (colon == NULL || colon == l)
        return malformed(e, "header line");
    name = (size_t)(colon - l);
    for (i = 0; i < name; i++)
        if (!token_char(l[i]))
            return malformed(e, "header name");
    for (v = colon + 1, vn = n - name - 1; vn > 0 && (*v == ' ' || *v == '\t'); v++, vn--)
        ;
    while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    for (i = 0; i < vn; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
            return malformed(e, "control character in a header");
    if (name == 14 && strncasecmp(l, "Content-Length", 14) == 0)
        return length_header(v, vn, h, e);
    if (name == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
        if (!value_is(v, vn, "chunked") || h->chunked)
            return malformed(e, "transfer coding other than one chunked");
        h->chunked = 1;
    } else if (name == 10 && strncasecmp(l, "Connection", 10) == 0) {
        h->close |= value_is(v, vn, "close");
        h->keep |= value_is(v, vn, "keep-alive");
    }
    return LBX_OK;
}

/* Status line and headers of the answer starting at in[0]: LBX_OK with h->size = 0 while
 * incomplete. */
static lbx_err parse_head(const char *in, size_t len, struct head *h, struct lbx_error *e)
{
    size_t pos = 0;
    long n;
    lbx_err r;

    memset(h, 0, sizeof(*h));
    for (;;) {
        if ((n = line_at(in, len, pos)) == -2)
            return malformed(e, "line not ended by CRLF");
        if (n == -1)
            return len > LBX_HTTP_HEADERS_MAX
                       ? lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer headers too large")
                       : LBX_OK;
        if (pos + (size_t)n + 2 > LBX_HTTP_HEADERS_MAX)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer headers too large");
        if (pos == 0)
            r = status_line(in, (size_t)n, h, e);
        else if (n == 0)
            break;
        else if (in[pos] == ' ' || in[pos] == '\t')
            r = malformed(e, "folded header line");
        else
            r = header_line(in + pos, (size_t)n, h, e);
        if (r != LBX_OK)
            return r;
        pos += (size_t)n + 2;
    }
    if (h->chunked && h->has_length)
        return malformed(e, "both chunked and Content-Length");
    h->size = pos + 2;
    return LBX_OK;
}

static lbx_err emit(struct lbx_buf *body, const char *p, size_t n, struct lbx_error *e)
{
    if (body != NULL && lbx_buf_append(body, p, n) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
    return LBX_OK;
}

static unsigned hex_value(char c)
{
    return isdigit((unsigned char)c) ? (unsigned)(c - '0')
                                     : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

/* One chunk-size line: hex digits, then an optional extension that is ignored. */
static lbx_err chunk_size(const char *l, size_t n, size_t limit, size_t *size, struct lbx_error *e)
{
    uint64_t x = 0;
    size_t i;

    for (i = 0; i < n && isxdigit((unsigned char)l[i]); i++) {
        if (i >= 8)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
        x = x * 16 + hex_value(l[i]);
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
        return malformed(e, "chunk size");
    if (x > limit)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
    *size = (size_t)x;
    return LBX_OK;
}

/* The chunked body from in[pos..len): *end = 0 while incomplete, else the offset just past it.
 * Appends to body (when not NULL) as it goes: called once without and once with a body. */
static lbx_err chunked_body(const char *in, size_t len, size_t pos, size_t limit,
                            struct lbx_buf *body, size_t *end, struct lbx_error *e)
{
    size_t total = 0, size = 0;
    long n;
    lbx_err r;

    *end = 0;
    for (;;) {
        if ((n = line_at(in, len, pos)) == -2)
            return malformed(e, "chunk line not ended by CRLF");
        if (n == -1)
            return len - pos > 1024 ? malformed(e, "chunk line too long") : LBX_OK;
        if ((r = chunk_size(in + pos, (size_t)n, limit, &size, e)) != LBX_OK)
            return r;
        pos += (size_t)n + 2;
        if (size == 0)
            break;
        if ((total += size) > limit)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
        if (len - pos < size + 2)
            return LBX_OK;
        if (in[pos + size] != '\r' || in[pos + size + 1] != '\n')
            return malformed(e, "chunk not ended by CRLF");
        if ((r = emit(body, in + pos, size, e)) != LBX_OK)
            return r;
        pos += size + 2;
    }
    for (;;) { /* trailer fields, ignored, then the empty line */
        if ((n = line_at(in, len, pos)) == -2)
            return malformed(e, "trailer not ended by CRLF");
        if (n == -1)
            return len - pos > LBX_HTTP_HEADERS_MAX ? malformed(e, "trailer too long") : LBX_OK;
        pos += (size_t)n + 2;
        if (n == 0)
            break;
    }
    *end = pos;
    return LBX_OK;
}

static size_t body_limit(const struct lbx_buf *body)
{
    return body->max ? body->max : LBX_BUF_DEFAULT_MAX;
}

/* The answer without interim ones: its body's extent, then the body itself. */
static lbx_err final_answer(const char *in, size_t len, int eof, const struct head *h,
                            struct lbx_buf *body, struct lbx_http_answer *a,
                            enum lbx_http_parse_state *state, struct lbx_error *e)
{
    size_t limit = body_limit(body) - body->len, end = h->size;
    lbx_err r;

    a->keep_alive = !h->close && (!h->http10 || h->keep);
    if (h->status == 204 || h->status == 304) {
        /* no body, whatever the headers say */
    } else if (h->chunked) {
        if ((r = chunked_body(in, len, h->size, limit, NULL, &end, e)) != LBX_OK || end == 0)
            return r;
        if ((r = chunked_body(in, len, h->size, limit, body, &end, e)) != LBX_OK)
            return r;
    } else if (h->has_length) {
        if (h->length > limit)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
        if (len - h->size < h->length)
            return eof ? malformed(e, "connection closed inside the body") : LBX_OK;
        end = h->size + (size_t)h->length;
    } else { /* the body runs to the end of the connection */
        if (len - h->size > limit)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer too large");
        if (!eof)
            return LBX_OK;
        end = len;
        a->keep_alive = 0;
    }
    if (!h->chunked && (r = emit(body, in + h->size, end - h->size, e)) != LBX_OK)
        return r;
    a->status = h->status;
    a->consumed = end;
    *state = LBX_HTTP_DONE;
    return LBX_OK;
}

lbx_err lbx_http_parse_answer(const char *in, size_t len, int eof, struct lbx_buf *body,
                              struct lbx_http_answer *a, enum lbx_http_parse_state *state,
                              struct lbx_error *e)
{
    size_t skipped = 0;
    struct head h;
    lbx_err r;

    *state = LBX_HTTP_NEED_MORE;
    memset(a, 0, sizeof(*a));
    for (;;) {
        if ((r = parse_head(in + skipped, len - skipped, &h, e)) != LBX_OK)
            return r;
        if (h.size == 0)
            return eof ? malformed(e, "connection closed inside the headers") : LBX_OK;
        if (h.status >= 200)
            break;
        if (h.status == 101 || h.chunked || h.has_length)
            return malformed(e, "interim answer with a body or a protocol switch");
        if ((skipped += h.size) > LBX_HTTP_HEADERS_MAX)
            return lbx_error_set(e, LBX_ERR_TOO_LARGE, "HTTP answer headers too large");
    }
    if ((r = final_answer(in + skipped, len - skipped, eof, &h, body, a, state, e)) != LBX_OK)
        return r;
    a->consumed += skipped;
    return LBX_OK;
}
