/* The HTTP/1.1 wire format as the one HTTP client speaks it: the URL it accepts, the request it
 * writes, and the strict parser of what comes back. Pure functions on memory (no I/O), so that
 * every hostile answer a broker or a webhook peer could send is unit-tested and fuzzed here. */
#ifndef LBX_HTTP_WIRE_H
#define LBX_HTTP_WIRE_H

#include <stddef.h>

#include "buf.h"
#include "lbx_err.h"

#define LBX_HTTP_HOST_MAX 256
#define LBX_HTTP_PATH_MAX 2048
#define LBX_HTTP_HEADERS_MAX (16 * 1024) /* status line and headers of one answer */

struct lbx_url {
    char host[LBX_HTTP_HOST_MAX]; /* name or IP literal, without the brackets of IPv6 */
    char port[6];                 /* decimal, 1-65535 */
    char path[LBX_HTTP_PATH_MAX]; /* origin form: "/..." with its query */
    int host_is_ip;
};

/* "https://host[:port][/path][?query]" only: no user info, no fragment, nothing that is not
 * printable ASCII, so nothing of a URL can end up as a second header line. */
lbx_err lbx_url_parse(const char *url, struct lbx_url *u, struct lbx_error *e);

/* Writes the request (method one of GET POST PUT DELETE; body JSON or NULL) into out.
 * bearer must be a printable token (it becomes a header line). */
lbx_err lbx_http_format_request(const struct lbx_url *u, const char *method, const char *bearer,
                                const char *body, struct lbx_buf *out, struct lbx_error *e);
/* The same with the body's Content-Type (NULL: application/json), e.g. the form encoding an
 * OpenID provider's token endpoint takes. */
lbx_err lbx_http_format_request_typed(const struct lbx_url *u, const char *method,
                                      const char *bearer, const char *content_type,
                                      const char *body, struct lbx_buf *out, struct lbx_error *e);

enum lbx_http_parse_state { LBX_HTTP_NEED_MORE, LBX_HTTP_DONE };

struct lbx_http_answer {
    long status;
    int keep_alive;  /* the connection may carry the next request */
    size_t consumed; /* bytes of the input that were this answer */
};

/* Parses one answer from the start of in[0..len). eof: the peer closed after len bytes.
 * On LBX_OK *state says whether the answer is complete; only then are body (appended to,
 * bounded by its own limit) and *a set. Interim 1xx answers are skipped. Errors:
 * LBX_ERR_HTTP for anything malformed or ambiguous (two lengths, chunked and a length, an
 * unknown transfer coding, a bare LF), LBX_ERR_TOO_LARGE beyond the header or body limit. */
lbx_err lbx_http_parse_answer(const char *in, size_t len, int eof, struct lbx_buf *body,
                              struct lbx_http_answer *a, enum lbx_http_parse_state *state,
                              struct lbx_error *e);

#endif
