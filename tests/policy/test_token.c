/* Hostile grant tokens: every one must be refused with exactly the reason named in its row.
 * Tokens are forged with tests/support/token_forge (any header or payload text, really signed)
 * or made by libjwt 1.10 itself, the tool an attacker would use. Valid tokens, round trips,
 * interop and key rotation live in test_token_valid.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/ecdsa.h>

#include "buf.h"
#include "token.h"
#include "token_forge.h"

#define NOW 1700000060 /* default verification time: a minute into the standard grant */

#define ISS "\"iss\":\"lbx\""
#define SUB "\"sub\":\"support-alice\""
#define AUD "\"aud\":\"node-7\""
#define JTI "\"jti\":\"g-1\""
#define IAT "\"iat\":1700000000"
#define NBF "\"nbf\":1700000000"
#define EXP "\"exp\":1700003600"
#define TIMES IAT "," NBF "," EXP
#define NAMES ISS "," SUB "," AUD "," JTI
#define P_STD "{" NAMES "," TIMES "}"
#define P_WITH(claim) "{" NAMES "," TIMES "," claim "}"
#define H_STD "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\"}"
#define H_ALG(alg) "{\"alg\":" alg ",\"typ\":\"JWT\",\"kid\":\"$KID\"}"

static struct {
    struct lbx_key *key, *other;
    struct lbx_keyring *ring;
    char *pub_pem, *other_priv_pem;
} fx;

/* A token as bytes: some rows need a NUL inside it. */
struct blob {
    char *p;
    size_t n;
};

struct hostile {
    const char *name;
    const char *header;  /* "$KID" = trusted kid, "$OKID" = the other key's; NULL = H_STD */
    const char *payload; /* NULL = P_STD */
    struct blob (*make)(char *tok); /* optional: rewrites (and frees) the forged token */
    int64_t now;                    /* 0 = NOW */
    lbx_err want;
};

static struct blob text(char *s)
{
    return (struct blob){s, strlen(s)};
}

static struct blob with_suffix(char *tok, const char *suffix)
{
    char *s = forge_printf("%s%s", tok, suffix);

    free(tok);
    return text(s);
}

static struct blob m_eq(char *t)
{
    return with_suffix(t, "=");
}
static struct blob m_eqeq(char *t)
{
    return with_suffix(t, "==");
}
static struct blob m_bang(char *t)
{
    return with_suffix(t, "!");
}
static struct blob m_space(char *t)
{
    return with_suffix(t, " ");
}
static struct blob m_newline(char *t)
{
    return with_suffix(t, "\n");
}
static struct blob m_crlf(char *t)
{
    return with_suffix(t, "\r\n");
}
static struct blob m_four(char *t)
{
    return with_suffix(t, ".AAAA");
}
static struct blob m_trailing_dot(char *t)
{
    return with_suffix(t, ".");
}

static struct blob m_leading_space(char *t)
{
    char *s = forge_printf(" %s", t);

    free(t);
    return text(s);
}

/* Replaces character i (negative: from the end) of segment seg with c; c == 0 deletes it,
 * c == 1 makes a canonical last character (A, Q, g or w: the unused low bits clear) non-canonical
 * by setting its lowest bit, which in the alphabet is the next letter. */
static struct blob edit_char(char *t, int seg, int i, char c)
{
    char *p = t;
    size_t len;
    int k;

    for (k = 0; k < seg; k++)
        p = strchr(p, '.') + 1;
    len = strcspn(p, ".");
    p += i < 0 ? (int)len + i : i;
    if (c == 0)
        memmove(p, p + 1, strlen(p));
    else if (c == 1)
        assert_non_null(strchr("AQgw", *p)), (*p)++;
    else
        *p = c;
    return text(t);
}

static struct blob m_plus(char *t)
{
    return edit_char(t, 2, 3, '+');
}
static struct blob m_slash(char *t)
{
    return edit_char(t, 2, 3, '/');
}
static struct blob m_pad_inside(char *t)
{
    return edit_char(t, 1, -1, '=');
}
static struct blob m_sig_4k1(char *t)
{
    return edit_char(t, 2, -1, 0);
}
static struct blob m_noncanon_sig(char *t)
{
    return edit_char(t, 2, -1, 1);
}
static struct blob m_noncanon_header(char *t)
{
    return edit_char(t, 0, -1, 1);
}
static struct blob m_empty_header(char *t)
{
    char *dot = strchr(t, '.');

    memmove(t, dot, strlen(dot) + 1);
    return text(t);
}

static struct blob m_padded_header(char *t)
{
    char *dot = strchr(t, '.'), *s;

    *dot = '\0';
    s = forge_printf("%s==.%s", t, dot + 1);
    free(t);
    return text(s);
}

static struct blob m_two(char *t)
{
    *strrchr(t, '.') = '\0';
    return text(t);
}

static struct blob m_empty_payload(char *t)
{
    char *a = strchr(t, '.'), *b = strchr(a + 1, '.');

    memmove(a + 1, b, strlen(b) + 1);
    return text(t);
}

static struct blob m_empty_sig(char *t)
{
    strrchr(t, '.')[1] = '\0';
    return text(t);
}

static struct blob m_oversized(char *t)
{
    size_t n = strlen(t);
    char *s = realloc(t, LBX_TOKEN_MAX_LEN + 2);

    memset(s + n, 'A', LBX_TOKEN_MAX_LEN + 1 - n);
    s[LBX_TOKEN_MAX_LEN + 1] = '\0';
    return text(s); /* 4097 bytes */
}

static struct blob m_nul_byte(char *t)
{
    size_t n = strlen(t);

    strchr(t, '.')[3] = '\0'; /* a raw NUL inside the payload segment; length unchanged */
    return (struct blob){t, n};
}

static struct blob replace_seg(char *t, int seg, const void *data, size_t len)
{
    char *s = forge_replace_segment(t, seg, data, len);

    free(t);
    return text(s);
}

static struct blob m_tamper_header(char *t)
{
    char *h =
        forge_printf("{\"typ\":\"JWT\",\"alg\":\"ES256\",\"kid\":\"%s\"}", lbx_key_kid(fx.key));
    struct blob b = replace_seg(t, 0, h, strlen(h));

    free(h);
    return b;
}

/* Flips one bit of one byte of segment seg (decoded), at offset from the end. */
static struct blob flip_bit(char *t, int seg, size_t from_end)
{
    size_t n;
    unsigned char *raw = forge_segment(t, seg, &n);
    struct blob b;

    raw[n - from_end] ^= 1;
    b = replace_seg(t, seg, raw, n);
    free(raw);
    return b;
}

static struct blob m_tamper_payload(char *t)
{
    return flip_bit(t, 1, 2);
} /* exp ...3600 -> 3601 */
static struct blob m_tamper_sig(char *t)
{
    return flip_bit(t, 2, 40);
}

static struct blob m_der_sig(char *t)
{
    size_t n;
    unsigned char *raw = forge_segment(t, 2, &n), *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    int dlen;
    struct blob b;

    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    dlen = i2d_ECDSA_SIG(sig, &der);
    b = replace_seg(t, 2, der, (size_t)dlen);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    free(raw);
    return b;
}

static struct blob m_zero_sig(char *t)
{
    static const unsigned char zero[LBX_ES256_SIG_LEN];

    return replace_seg(t, 2, zero, sizeof(zero));
}

static struct blob m_sig_65(char *t)
{
    return with_suffix(t, "A");
} /* 87 chars: 65 bytes */

/* Tokens made by libjwt instead of the forge (the forged token is discarded). */
static struct blob libjwt(char *t, int alg, const char *pem, const char *kid)
{
    free(t);
    return text(forge_libjwt(alg, pem, kid, P_STD));
}

static struct blob j_none(char *t)
{
    return libjwt(t, JWT_ALG_NONE, NULL, lbx_key_kid(fx.key));
}
static struct blob j_hs256(char *t)
{
    return libjwt(t, JWT_ALG_HS256, fx.pub_pem, lbx_key_kid(fx.key));
}
static struct blob j_hs384(char *t)
{
    return libjwt(t, JWT_ALG_HS384, fx.pub_pem, lbx_key_kid(fx.key));
}
static struct blob j_hs512(char *t)
{
    return libjwt(t, JWT_ALG_HS512, fx.pub_pem, lbx_key_kid(fx.key));
}
static struct blob j_hs256_nokid(char *t)
{
    return libjwt(t, JWT_ALG_HS256, fx.pub_pem, NULL);
}

static struct blob j_foreign(char *t, int alg, const char *type, const char *param)
{
    char *priv, *pub;
    struct blob b;

    forge_foreign_key(type, param, &priv, &pub);
    b = libjwt(t, alg, priv, lbx_key_kid(fx.key));
    free(priv);
    free(pub);
    return b;
}

static struct blob j_rs256(char *t)
{
    return j_foreign(t, JWT_ALG_RS256, "RSA", NULL);
}
static struct blob j_es384(char *t)
{
    return j_foreign(t, JWT_ALG_ES384, "EC", "P-384");
}
static struct blob j_other_own_kid(char *t)
{
    return libjwt(t, JWT_ALG_ES256, fx.other_priv_pem, lbx_key_kid(fx.other));
}
static struct blob j_other_our_kid(char *t)
{
    return libjwt(t, JWT_ALG_ES256, fx.other_priv_pem, lbx_key_kid(fx.key));
}

#define T(name, h, p, make, now, want)                                                             \
    {                                                                                              \
        name, h, p, make, now, want                                                                \
    }

static const struct hostile hostile[] = {
    /* algorithm: pinned to ES256 before anything else looks at the token */
    T("libjwt alg none (empty signature)", NULL, NULL, j_none, 0, LBX_ERR_TOKEN_MALFORMED),
    T("alg none with a signature", H_ALG("\"none\""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg None", H_ALG("\"None\""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg NONE", H_ALG("\"NONE\""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg nOnE", H_ALG("\"nOnE\""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt HS256 MACed with the public PEM", NULL, NULL, j_hs256, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt HS384 MACed with the public PEM", NULL, NULL, j_hs384, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt HS512 MACed with the public PEM", NULL, NULL, j_hs512, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt HS256 without kid", NULL, NULL, j_hs256_nokid, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt RS256 with a real RSA key", NULL, NULL, j_rs256, 0, LBX_ERR_TOKEN_ALG),
    T("libjwt ES384 with a real P-384 key", NULL, NULL, j_es384, 0, LBX_ERR_TOKEN_ALG),
    T("alg es256 (lower case)", H_ALG("\"es256\""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg ES256 with a trailing space", H_ALG("\"ES256 \""), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg missing", "{\"typ\":\"JWT\",\"kid\":\"$KID\"}", NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg as an array", H_ALG("[\"ES256\"]"), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    T("alg null", H_ALG("null"), NULL, NULL, 0, LBX_ERR_TOKEN_ALG),
    /* key id */
    T("libjwt ES256, another key, its own kid", NULL, NULL, j_other_own_kid, 0, LBX_ERR_TOKEN_KID),
    T("libjwt ES256, another key, trusted kid", NULL, NULL, j_other_our_kid, 0,
      LBX_ERR_TOKEN_SIGNATURE),
    T("forged ES256, another key, trusted kid", "OTHER", NULL, NULL, 0, LBX_ERR_TOKEN_SIGNATURE),
    T("unknown kid", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"nope\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_KID),
    T("missing kid", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", NULL, NULL, 0, LBX_ERR_TOKEN_KID),
    T("kid as a number", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":7}", NULL, NULL, 0,
      LBX_ERR_TOKEN_KID),
    T("kid as an array", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":[\"$KID\"]}", NULL, NULL, 0,
      LBX_ERR_TOKEN_KID),
    T("kid with a NUL after the real one",
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\\u0000x\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_HEADER),
    /* header members */
    T("extra header member",
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\",\"x5u\":\"http://e\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_HEADER),
    T("crit header", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\",\"crit\":[\"exp\"]}",
      NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("embedded jwk header", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\",\"jwk\":{}}",
      NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("missing typ", "{\"alg\":\"ES256\",\"kid\":\"$KID\"}", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("wrong typ", "{\"alg\":\"ES256\",\"typ\":\"JOSE\",\"kid\":\"$KID\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_HEADER),
    T("typ as a number", "{\"alg\":\"ES256\",\"typ\":1,\"kid\":\"$KID\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_HEADER),
    T("duplicate alg (none then ES256)",
      "{\"alg\":\"none\",\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\"}", NULL, NULL, 0,
      LBX_ERR_TOKEN_HEADER),
    T("duplicate kid", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"x\",\"kid\":\"$KID\"}", NULL,
      NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header is an array", "[\"ES256\"]", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header is a string", "\"ES256\"", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header is a number", "256", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header is not json", "{alg:ES256}", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header nested deeply",
      "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$KID\",\"x\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]"
      "]]]]]}",
      NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    T("header with trailing garbage", H_STD "x", NULL, NULL, 0, LBX_ERR_TOKEN_HEADER),
    /* tampering after signing */
    T("tampered header (members reordered)", NULL, NULL, m_tamper_header, 0,
      LBX_ERR_TOKEN_SIGNATURE),
    T("tampered payload (one bit of exp)", NULL, NULL, m_tamper_payload, 0,
      LBX_ERR_TOKEN_SIGNATURE),
    T("tampered signature (one bit)", NULL, NULL, m_tamper_sig, 0, LBX_ERR_TOKEN_SIGNATURE),
    T("DER-encoded signature", NULL, NULL, m_der_sig, 0, LBX_ERR_TOKEN_SIGNATURE),
    T("all-zero signature", NULL, NULL, m_zero_sig, 0, LBX_ERR_TOKEN_SIGNATURE),
    T("65-byte signature", NULL, NULL, m_sig_65, 0, LBX_ERR_TOKEN_SIGNATURE),
    /* compact form */
    T("trailing =", NULL, NULL, m_eq, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing ==", NULL, NULL, m_eqeq, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing !", NULL, NULL, m_bang, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing space", NULL, NULL, m_space, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing newline", NULL, NULL, m_newline, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing CR LF", NULL, NULL, m_crlf, 0, LBX_ERR_TOKEN_MALFORMED),
    T("leading space", NULL, NULL, m_leading_space, 0, LBX_ERR_TOKEN_MALFORMED),
    T("padding after the header segment", NULL, NULL, m_padded_header, 0, LBX_ERR_TOKEN_MALFORMED),
    T("padding inside the payload segment", NULL, NULL, m_pad_inside, 0, LBX_ERR_TOKEN_MALFORMED),
    T("two segments", NULL, NULL, m_two, 0, LBX_ERR_TOKEN_MALFORMED),
    T("four segments", NULL, NULL, m_four, 0, LBX_ERR_TOKEN_MALFORMED),
    T("trailing dot (empty fourth segment)", NULL, NULL, m_trailing_dot, 0,
      LBX_ERR_TOKEN_MALFORMED),
    T("empty header segment", NULL, NULL, m_empty_header, 0, LBX_ERR_TOKEN_MALFORMED),
    T("empty payload segment", NULL, NULL, m_empty_payload, 0, LBX_ERR_TOKEN_MALFORMED),
    T("empty signature segment", NULL, NULL, m_empty_sig, 0, LBX_ERR_TOKEN_MALFORMED),
    T("standard base64 '+'", NULL, NULL, m_plus, 0, LBX_ERR_TOKEN_MALFORMED),
    T("standard base64 '/'", NULL, NULL, m_slash, 0, LBX_ERR_TOKEN_MALFORMED),
    T("non-canonical last signature char", NULL, NULL, m_noncanon_sig, 0, LBX_ERR_TOKEN_MALFORMED),
    T("non-canonical last header char", NULL, NULL, m_noncanon_header, 0, LBX_ERR_TOKEN_MALFORMED),
    T("signature of 4k+1 characters", NULL, NULL, m_sig_4k1, 0, LBX_ERR_TOKEN_MALFORMED),
    T("oversized token (4097 bytes)", NULL, NULL, m_oversized, 0, LBX_ERR_TOKEN_TOO_LONG),
    T("raw NUL byte in the token", NULL, NULL, m_nul_byte, 0, LBX_ERR_TOKEN_MALFORMED),
    /* payload JSON */
    T("payload is an array", NULL, "[" P_STD "]", NULL, 0, LBX_ERR_TOKEN_JSON),
    T("payload is a string", NULL, "\"lbx\"", NULL, 0, LBX_ERR_TOKEN_JSON),
    T("payload is a number", NULL, "1700003600", NULL, 0, LBX_ERR_TOKEN_JSON),
    T("payload is not json", NULL, "{" NAMES, NULL, 0, LBX_ERR_TOKEN_JSON),
    T("payload nested deeply", NULL,
      P_WITH("\"lbx_ticket\":[[[[[[[[[[[[[[[[[[[[[[\"x\"]]]]]]]]]]]]]]]]]]]]]"), NULL, 0,
      LBX_ERR_TOKEN_JSON),
    T("duplicate sub (second one trusted by some parsers)", NULL,
      "{" NAMES ",\"sub\":\"root\"," TIMES "}", NULL, 0, LBX_ERR_TOKEN_JSON),
    T("duplicate exp", NULL, "{" NAMES "," TIMES ",\"exp\":1900000000}", NULL, 0,
      LBX_ERR_TOKEN_JSON),
    T("NUL inside sub (\\u0000)", NULL,
      "{" ISS ",\"sub\":\"support-alice\\u0000x\"," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_JSON),
    T("invalid UTF-8 in sub", NULL,
      "{" ISS ",\"sub\":\"support-\xc3\x28\"," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_JSON),
    T("payload with trailing garbage", NULL, P_STD "{}", NULL, 0, LBX_ERR_TOKEN_JSON),
    T("huge integer exp (beyond int64)", NULL,
      "{" NAMES "," IAT "," NBF ",\"exp\":99999999999999999999}", NULL, 0, LBX_ERR_TOKEN_JSON),
    /* each required claim missing */
    T("missing iss", NULL, "{" SUB "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing sub", NULL, "{" ISS "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing aud", NULL, "{" ISS "," SUB "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing jti", NULL, "{" ISS "," SUB "," AUD "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing iat", NULL, "{" NAMES "," NBF "," EXP "}", NULL, 0, LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing nbf", NULL, "{" NAMES "," IAT "," EXP "}", NULL, 0, LBX_ERR_TOKEN_CLAIM_MISSING),
    T("missing exp", NULL, "{" NAMES "," IAT "," NBF "}", NULL, 0, LBX_ERR_TOKEN_CLAIM_MISSING),
    T("empty payload object", NULL, "{}", NULL, 0, LBX_ERR_TOKEN_CLAIM_MISSING),
    /* each claim of the wrong type */
    T("exp as a string", NULL, "{" NAMES "," IAT "," NBF ",\"exp\":\"1700003600\"}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("iat as a float", NULL, "{" NAMES ",\"iat\":1700000000.0," NBF "," EXP "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("exp in exponent form", NULL, "{" NAMES "," IAT "," NBF ",\"exp\":1.7e9}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("aud as an array", NULL, "{" ISS "," SUB ",\"aud\":[\"node-7\"]," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("iss as an object", NULL, "{\"iss\":{\"lbx\":1}," SUB "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("nbf as a bool", NULL, "{" NAMES "," IAT ",\"nbf\":true," EXP "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("sub as a number", NULL, "{" ISS ",\"sub\":1000," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("jti null", NULL, "{" ISS "," SUB "," AUD ",\"jti\":null," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("lbx_req as a number", NULL, P_WITH("\"lbx_req\":42"), NULL, 0, LBX_ERR_TOKEN_CLAIM_TYPE),
    T("empty jti", NULL, "{" ISS "," SUB "," AUD ",\"jti\":\"\"," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("unknown claim", NULL, P_WITH("\"admin\":true"), NULL, 0, LBX_ERR_TOKEN_CLAIM_UNKNOWN),
    T("unknown claim (libjwt-style scope)", NULL, P_WITH("\"scope\":\"root\""), NULL, 0,
      LBX_ERR_TOKEN_CLAIM_UNKNOWN),
    /* time */
    T("expired at exp + leeway exactly", NULL, NULL, NULL, 1700003600 + 30, LBX_ERR_TOKEN_EXPIRED),
    T("expired long ago", NULL, NULL, NULL, 1800000000, LBX_ERR_TOKEN_EXPIRED),
    T("not yet valid (nbf = now + leeway + 1)", NULL, NULL, NULL, 1700000000 - 31,
      LBX_ERR_TOKEN_NOT_YET_VALID),
    T("iat in the future", NULL,
      "{" NAMES ",\"iat\":1700000091,\"nbf\":1700000000,\"exp\":1700003600}", NULL, 0,
      LBX_ERR_TOKEN_IAT_FUTURE),
    T("lifetime 8 h + 1 s", NULL, "{" NAMES "," IAT "," NBF ",\"exp\":1700028801}", NULL, 0,
      LBX_ERR_TOKEN_LIFETIME),
    T("exp before iat", NULL, "{" NAMES "," IAT "," NBF ",\"exp\":1699999999}", NULL, 0,
      LBX_ERR_TOKEN_LIFETIME),
    T("exp = INT64_MAX", NULL, "{" NAMES "," IAT "," NBF ",\"exp\":9223372036854775807}", NULL, 0,
      LBX_ERR_TOKEN_LIFETIME),
    T("iat = INT64_MIN, exp = INT64_MAX (overflow)", NULL,
      "{" NAMES ",\"iat\":-9223372036854775808," NBF ",\"exp\":9223372036854775807}", NULL, 0,
      LBX_ERR_TOKEN_LIFETIME),
    /* identity */
    T("wrong iss", NULL, "{\"iss\":\"evil\"," SUB "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_ISSUER),
    T("iss case variant LBX", NULL, "{\"iss\":\"LBX\"," SUB "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_ISSUER),
    T("empty iss", NULL, "{\"iss\":\"\"," SUB "," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_CLAIM_TYPE),
    T("wrong aud node-8", NULL, "{" ISS "," SUB ",\"aud\":\"node-8\"," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_AUDIENCE),
    T("aud case variant Node-7", NULL, "{" ISS "," SUB ",\"aud\":\"Node-7\"," JTI "," TIMES "}",
      NULL, 0, LBX_ERR_TOKEN_AUDIENCE),
    T("aud prefix variant node-7x", NULL, "{" ISS "," SUB ",\"aud\":\"node-7x\"," JTI "," TIMES "}",
      NULL, 0, LBX_ERR_TOKEN_AUDIENCE),
    T("aud prefix node-", NULL, "{" ISS "," SUB ",\"aud\":\"node-\"," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_AUDIENCE),
    T("aud with a trailing newline", NULL,
      "{" ISS "," SUB ",\"aud\":\"node-7\\n\"," JTI "," TIMES "}", NULL, 0, LBX_ERR_TOKEN_AUDIENCE),
    T("wrong sub", NULL, "{" ISS ",\"sub\":\"root\"," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_SUBJECT),
    T("sub case variant Support-alice", NULL,
      "{" ISS ",\"sub\":\"Support-alice\"," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_SUBJECT),
    T("sub prefix variant support-alice2", NULL,
      "{" ISS ",\"sub\":\"support-alice2\"," AUD "," JTI "," TIMES "}", NULL, 0,
      LBX_ERR_TOKEN_SUBJECT),
    T("sub prefix support-", NULL, "{" ISS ",\"sub\":\"support-\"," AUD "," JTI "," TIMES "}", NULL,
      0, LBX_ERR_TOKEN_SUBJECT),
};

static void run_hostile(void **state)
{
    const struct hostile *h = *state;
    struct lbx_verify_opts o = {.keys = fx.ring,
                                .iss = "lbx",
                                .aud = "node-7",
                                .sub = "support-alice",
                                .now = h->now ? h->now : NOW,
                                .leeway = -1};
    const struct lbx_key *signer = fx.key;
    char *header = forge_subst(h->header ? h->header : H_STD, "$KID", lbx_key_kid(fx.key));
    struct lbx_claims c;
    struct lbx_error e = {0};
    struct blob tok;
    lbx_err r;

    if (strcmp(header, "OTHER") == 0) { /* standard header, signed by the untrusted key */
        free(header);
        header = forge_subst(H_STD, "$KID", lbx_key_kid(fx.key));
        signer = fx.other;
    }
    tok = text(forge_token(signer, header, h->payload ? h->payload : P_STD));
    if (h->make != NULL)
        tok = h->make(tok.p);
    r = lbx_token_verify(tok.p, tok.n, &o, &c, &e);
    if (getenv("LBX_TEST_VERBOSE") != NULL)
        print_message("%-45s -> %s: %s\n", h->name, lbx_strerror(r), e.detail);
    if (r != h->want)
        print_error("%s: got '%s' (%s), want '%s'\n    token: %.300s\n", h->name, lbx_strerror(r),
                    e.detail, lbx_strerror(h->want), tok.p);
    assert_int_equal(r, h->want);
    assert_int_equal(e.code, h->want);
    assert_null(c.iss); /* nothing leaks out of a refused token */
    assert_null(c.sub);
    free(header);
    free(tok.p);
}

/* The same standard token must verify, or the rows above prove nothing. */
static void test_control_token_verifies(void **state)
{
    char *header = forge_subst(H_STD, "$KID", lbx_key_kid(fx.key));
    char *tok = forge_token(fx.key, header, P_STD);
    struct lbx_verify_opts o = {.keys = fx.ring,
                                .iss = "lbx",
                                .aud = "node-7",
                                .sub = "support-alice",
                                .now = NOW,
                                .leeway = -1};
    struct lbx_claims c;
    struct lbx_error e = {0};

    assert_int_equal(lbx_token_verify(tok, strlen(tok), &o, &c, &e), LBX_OK);
    assert_string_equal(c.sub, "support-alice");
    assert_int_equal(c.exp, 1700003600);
    lbx_claims_free(&c);
    free(header);
    free(tok);
}

static int setup(void **state)
{
    assert_int_equal(lbx_key_generate(&fx.key), LBX_OK);
    assert_int_equal(lbx_key_generate(&fx.other), LBX_OK);
    fx.ring = forge_public_ring(fx.key, &fx.pub_pem);
    fx.other_priv_pem = forge_private_pem(fx.other);
    return 0;
}

static int teardown(void **state)
{
    lbx_key_free(fx.key);
    lbx_key_free(fx.other);
    lbx_keyring_free(fx.ring);
    free(fx.pub_pem);
    lbx_free_secret(fx.other_priv_pem);
    return 0;
}

int main(void)
{
    enum { N = sizeof(hostile) / sizeof(hostile[0]) };
    struct CMUnitTest tests[N + 1];
    size_t i;

    tests[0] = (struct CMUnitTest)cmocka_unit_test(test_control_token_verifies);
    for (i = 0; i < N; i++)
        tests[i + 1] =
            (struct CMUnitTest){hostile[i].name, run_hostile, NULL, NULL, (void *)&hostile[i]};
    return _cmocka_run_group_tests("hostile tokens", tests, N + 1, setup, teardown);
}
