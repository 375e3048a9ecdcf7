/* The HTTP client's wire format: the URLs it accepts and, above all, what it makes of answers.
 * An answer comes from the network: anything malformed, ambiguous or oversized is an error,
 * and an answer split anywhere parses the same as in one piece. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_wire.h"

/* -- URL -- */

static void test_url_ok(void **state)
{
    struct lbx_url u;

    assert_int_equal(lbx_url_parse("https://broker.example:8443/v1/host/token?x=1", &u, NULL),
                     LBX_OK);
    assert_string_equal(u.host, "broker.example");
    assert_string_equal(u.port, "8443");
    assert_string_equal(u.path, "/v1/host/token?x=1");
    assert_false(u.host_is_ip);
    assert_int_equal(lbx_url_parse("https://127.0.0.1", &u, NULL), LBX_OK);
    assert_string_equal(u.port, "443");
    assert_string_equal(u.path, "/");
    assert_true(u.host_is_ip);
    assert_int_equal(lbx_url_parse("HTTPS://[::1]:9/a", &u, NULL), LBX_OK);
    assert_string_equal(u.host, "::1");
    assert_true(u.host_is_ip);
    assert_int_equal(lbx_url_parse("https://h?q", &u, NULL), LBX_OK);
    assert_string_equal(u.path, "/?q");
}

static void test_url_refused(void **state)
{
    static const char *bad[] = {"http://broker/v1",
                                "https://",
                                "https:///x",
                                "https://user@broker/x",
                                "https://broker/x#frag",
                                "https://broker/a b",
                                "https://broker/a\r\nX-Evil: 1",
                                "https://broker:0/",
                                "https://broker:65536/",
                                "https://broker:/",
                                "https://broker:12a/",
                                "https://broker:123456/",
                                "https://[::1/",
                                "https://[::1]x/",
                                "https://[broker]/",
                                "https://bro$ker/",
                                "https://broker\x7f/",
                                "ftp://broker/",
                                "https://\xc3\xa9t\xc3\xa9/",
                                NULL};
    struct lbx_url u;
    struct lbx_error e = {0};
    char longurl[LBX_HTTP_PATH_MAX + 32];
    int i;

    for (i = 0; bad[i] != NULL; i++) {
        e.code = LBX_OK;
        assert_int_equal(lbx_url_parse(bad[i], &u, &e), LBX_ERR_CONFIG);
        assert_int_equal(e.code, LBX_ERR_CONFIG);
    }
    assert_int_equal(lbx_url_parse(NULL, &u, NULL), LBX_ERR_CONFIG);
    memset(longurl, 'a', sizeof(longurl) - 1);
    longurl[sizeof(longurl) - 1] = '\0';
    memcpy(longurl, "https://h/", 10);
    assert_int_equal(lbx_url_parse(longurl, &u, NULL), LBX_ERR_CONFIG);
}

/* -- request -- */

static char *request(const char *url, const char *method, const char *bearer, const char *body,
                     lbx_err expect)
{
    struct lbx_url u;
    struct lbx_buf b;

    assert_int_equal(lbx_url_parse(url, &u, NULL), LBX_OK);
    lbx_buf_init(&b, 0);
    assert_int_equal(lbx_http_format_request(&u, method, bearer, body, &b, NULL), expect);
    if (expect != LBX_OK) {
        lbx_buf_free(&b);
        return NULL;
    }
    return lbx_buf_steal(&b);
}

static void test_request(void **state)
{
    char *r;

    r = request("https://b:8443/v1/x", "POST", "tok-1", "{\"a\":1}", LBX_OK);
    assert_string_equal(r, "POST /v1/x HTTP/1.1\r\nHost: b:8443\r\nAccept: application/json\r\n"
                           "Authorization: Bearer tok-1\r\nContent-Type: application/json\r\n"
                           "Content-Length: 7\r\n\r\n{\"a\":1}");
    free(r);
    r = request("https://[::1]/v1/h", "GET", NULL, NULL, LBX_OK);
    assert_string_equal(r, "GET /v1/h HTTP/1.1\r\nHost: [::1]\r\nAccept: application/json\r\n\r\n");
    free(r);
    r = request("https://b/x", "DELETE", NULL, NULL, LBX_OK);
    assert_non_null(strstr(r, "\r\nContent-Length: 0\r\n\r\n"));
    free(r);
    /* nothing of a token may become a header line of its own */
    assert_null(request("https://b/x", "GET", "tok\r\nX-Evil: 1", NULL, LBX_ERR_ARG));
    assert_null(request("https://b/x", "GET", "", NULL, LBX_ERR_ARG));
    assert_null(request("https://b/x", "TRACE", NULL, NULL, LBX_ERR_ARG));
}

/* -- answers -- */

struct parsed {
    lbx_err r;
    enum lbx_http_parse_state state;
    struct lbx_http_answer a;
    char body[4096];
    size_t body_len;
};

static struct parsed parse_n(const char *in, size_t len, int eof, size_t max)
{
    struct parsed p = {0};
    struct lbx_buf body;

    lbx_buf_init(&body, max);
    p.r = lbx_http_parse_answer(in, len, eof, &body, &p.a, &p.state, NULL);
    if (body.len > 0 && body.len < sizeof(p.body))
        memcpy(p.body, body.data, body.len);
    p.body_len = body.len;
    lbx_buf_free(&body);
    return p;
}

static struct parsed parse(const char *in, int eof)
{
    return parse_n(in, strlen(in), eof, 1024);
}

/* The whole answer parses to body; every shorter prefix needs more (never an error, never a
 * body): an answer split anywhere by the network is the same answer. */
static void expect_body(const char *in, long status, const char *body, int keep)
{
    struct parsed p;
    size_t i, n = strlen(in);

    for (i = 0; i < n; i++) {
        p = parse_n(in, i, 0, 1024);
        assert_int_equal(p.r, LBX_OK);
        assert_int_equal(p.state, LBX_HTTP_NEED_MORE);
        assert_int_equal(p.body_len, 0);
    }
    p = parse(in, 0);
    assert_int_equal(p.r, LBX_OK);
    assert_int_equal(p.state, LBX_HTTP_DONE);
    assert_int_equal(p.a.status, status);
    assert_int_equal(p.a.consumed, n);
    assert_int_equal(p.a.keep_alive, keep);
    assert_int_equal(p.body_len, strlen(body));
    assert_memory_equal(p.body, body, strlen(body));
}

static void test_answer_framings(void **state)
{
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", 1);
    expect_body("HTTP/1.1 403 Forbidden\r\ncontent-length:  2 \r\nContent-Length: 2\r\n\r\n{}", 403,
                "{}", 1);
    expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n"
                "A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
                200, "abc0123456789", 1);
    expect_body("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
                201, "x", 1);
    expect_body("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 204, "", 1);
    expect_body("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, "", 0);
    expect_body("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n1", 200, "1", 0);
    expect_body("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n1", 200, "1",
                1);
    expect_body("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", 503, "", 1);
}

static void test_answer_to_close(void **state)
{
    const char *in = "HTTP/1.1 200 OK\r\n\r\n{\"a\":1}";
    struct parsed p = parse(in, 0);

    assert_int_equal(p.r, LBX_OK);
    assert_int_equal(p.state, LBX_HTTP_NEED_MORE); /* its end is the connection's */
    p = parse(in, 1);
    assert_int_equal(p.state, LBX_HTTP_DONE);
    assert_string_equal(p.body, "{\"a\":1}");
    assert_false(p.a.keep_alive);
    /* closed early: never a short answer */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhell", 1).r, LBX_ERR_HTTP);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Le", 1).r, LBX_ERR_HTTP);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 1).state,
                     LBX_HTTP_NEED_MORE);
    assert_int_equal(parse("", 1).r, LBX_ERR_HTTP);
}

static void test_answer_trailing_bytes(void **state)
{
    struct parsed p = parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n", 0);

    assert_int_equal(p.state, LBX_HTTP_DONE);
    assert_int_equal(p.a.consumed, strlen("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"));
}

static void test_answer_malformed(void **state)
{
    static const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20x OK\r\n\r\n",
        "HTTP/1.1 999 X\r\n\r\n",
        "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\n\n",
        "HTTP/1.1 200 OK\r\nA: b\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        "HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
        NULL};
    struct parsed p;
    int i;

    for (i = 0; bad[i] != NULL; i++) {
        p = parse(bad[i], 0);
        if (p.r != LBX_ERR_HTTP)
            fail_msg("accepted (%d): %s", p.r, bad[i]);
    }
    /* a NUL inside the headers */
    p = parse_n("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27, 0, 1024);
    assert_int_equal(p.r, LBX_ERR_HTTP);
}

static void test_answer_oversized(void **state)
{
    char *big = malloc(LBX_HTTP_HEADERS_MAX + 64);
    struct parsed p;

    /* headers without end beyond the limit: refused before the end ever comes */
    strcpy(big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + strlen(big), 'a', LBX_HTTP_HEADERS_MAX);
    big[LBX_HTTP_HEADERS_MAX + 20] = '\0';
    assert_int_equal(parse_n(big, strlen(big), 0, 1024).r, LBX_ERR_TOO_LARGE);
    /* endless interim answers */
    big[0] = '\0';
    while (strlen(big) + 30 < LBX_HTTP_HEADERS_MAX + 30)
        strcat(big, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(parse_n(big, strlen(big), 0, 1024).r, LBX_ERR_TOO_LARGE);
    free(big);
    /* a length over the limit is refused at once, before its body */
    p = parse_n("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n", 41, 0, 1024);
    assert_int_equal(p.r, LBX_ERR_TOO_LARGE);
    p = parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 0);
    assert_int_not_equal(p.r, LBX_OK);
    p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n", 0);
    assert_int_equal(p.r, LBX_ERR_TOO_LARGE);
    p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 0);
    assert_int_equal(p.r, LBX_ERR_TOO_LARGE);
    p = parse_n("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\nabc\r\n", 61,
                0, 5);
    assert_int_equal(p.r, LBX_ERR_TOO_LARGE);
    p = parse_n("HTTP/1.1 200 OK\r\n\r\n123456", 25, 0, 5);
    assert_int_equal(p.r, LBX_ERR_TOO_LARGE);
}

/* Random bytes and random cuts of valid answers: never a crash, never a body over its limit. */
static void test_answer_noise(void **state)
{
    static const char *seeds[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"};
    char in[256];
    struct parsed p;
    size_t n;
    int i, j;

    srand(7);
    for (i = 0; i < 20000; i++) {
        const char *s = seeds[i % 2];
        n = strlen(s);
        memcpy(in, s, n);
        for (j = 0; j < 1 + i % 4; j++)
            in[rand() % n] = (char)(rand() % 256);
        p = parse_n(in, (size_t)rand() % (n + 1), i & 1, 8);
        assert_true(p.body_len <= 8);
        if (p.r == LBX_OK && p.state == LBX_HTTP_DONE)
            assert_true(p.a.status >= 200 && p.a.status <= 599);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_ok),           cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_request),          cmocka_unit_test(test_answer_framings),
        cmocka_unit_test(test_answer_to_close),  cmocka_unit_test(test_answer_trailing_bytes),
        cmocka_unit_test(test_answer_malformed), cmocka_unit_test(test_answer_oversized),
        cmocka_unit_test(test_answer_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
