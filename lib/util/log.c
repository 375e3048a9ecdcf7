#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Programs (not the PAM module, which logs through pam_syslog) own one process-wide logger. */
static struct {
    const char *ident;
    enum lbx_log_sink sink;
    int max_level;
} logger = {"lockbox", LBX_LOG_STDERR, LOG_INFO};

void lbx_log_init(const char *ident, enum lbx_log_sink sink, int max_level)
{
    logger.ident = ident;
    logger.sink = sink;
    logger.max_level = max_level;
    if (sink == LBX_LOG_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void lbx_log_set_level(int max_level)
{
    logger.max_level = max_level;
}

/* Well-formed UTF-8 only (RFC 3629): overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF are refused, since a terminal or log reader may decode them anyway. */
size_t lbx_utf8_seq_len(const unsigned char *s, size_t avail, int *incomplete)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (incomplete != NULL)
        *incomplete = 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0; /* overlong */
    else if (s[0] == 0xed)
        hi = 0x9f; /* surrogates */
    else if (s[0] == 0xf0)
        lo = 0x90; /* overlong */
    else if (s[0] == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    for (i = 1; i < n; i++) {
        if (i >= avail) {
            if (incomplete == NULL)
                return 0;
            *incomplete = 1; /* a valid start, cut off: the caller may wait for the rest */
            return n;
        }
        if (i == 1 ? (s[1] < lo || s[1] > hi) : (s[i] & 0xc0) != 0x80)
            return 0;
    }
    return n;
}

/* Code points that move the cursor, switch a terminal's mode or reorder what it shows: C0
 * controls, DEL, C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f in UTF-8; U+009B is a CSI on
 * its own), and the Unicode bidirectional formatting characters and line/paragraph separators
 * (U+061C, U+200E, U+200F, U+2028..U+202E, U+2066..U+2069), which make a terminal display
 * text in another order than it is read. Tab and newline only count when multi-line text is
 * not allowed. */
static int unsafe_seq(const unsigned char *s, size_t n, unsigned flags)
{
    if (n == 0)
        return 1;
    if (n == 1)
        return (*s < 0x20 || *s == 0x7f) &&
               !((flags & LBX_TEXT_MULTILINE) && (*s == '\t' || *s == '\n'));
    if (n == 2)
        return (s[0] == 0xc2 && s[1] < 0xa0) || (s[0] == 0xd8 && s[1] == 0x9c);
    if (n == 3 && s[0] == 0xe2 && s[1] == 0x80)
        return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
    if (n == 3 && s[0] == 0xe2 && s[1] == 0x81)
        return s[2] >= 0xa6 && s[2] <= 0xa9;
    return 0;
}

size_t lbx_text_unsafe_at(const char *text, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n;

    while (s[i] != '\0') {
        n = lbx_utf8_seq_len(s + i, (size_t)-1, NULL);
        if (unsafe_seq(s + i, n, flags))
            return i;
        i += n;
    }
    return (size_t)-1;
}

char *lbx_sanitize_text(char *dst, size_t dstlen, const char *src, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "(null)");
    size_t o = 0, n;

    if (dstlen == 0)
        return dst;
    while (*s != '\0' && o + 1 < dstlen) {
        n = lbx_utf8_seq_len(s, (size_t)-1, NULL);
        if (unsafe_seq(s, n, flags)) {
            dst[o++] = '?';
            s += n ? n : 1;
            continue;
        }
        if (o + n >= dstlen)
            break;
        memmove(dst + o, s, n); /* dst may be src: the output never runs ahead of the input */
        o += n;
        s += n;
    }
    dst[o] = '\0';
    return dst;
}

char *lbx_sanitize(char *dst, size_t dstlen, const char *src)
{
    return lbx_sanitize_text(dst, dstlen, src, 0);
}

/* Structured lines are key=value with msg="...": a '"' or '\\' inside the message must not
 * end the value early and forge fields of its own. */
static char *quote_value(char *dst, size_t dstlen, const char *src)
{
    size_t o = 0;

    for (; *src != '\0' && o + 2 < dstlen; src++) {
        if (*src == '"' || *src == '\\')
            dst[o++] = '\\';
        dst[o++] = *src;
    }
    dst[o] = '\0';
    return dst;
}

static const char *level_name(int level)
{
    switch (level) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
        return "crit";
    case LOG_ERR:
        return "error";
    case LOG_WARNING:
        return "warn";
    case LOG_NOTICE:
        return "notice";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void lbx_log(int level, const char *func, const char *fmt, ...)
{
    char raw[1024], clean[1024], quoted[2 * 1024], ts[32];
    struct tm tm;
    time_t now;
    va_list ap;

    if (level > logger.max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    lbx_sanitize(clean, sizeof(clean), raw);

    switch (logger.sink) {
    case LBX_LOG_SYSLOG:
        syslog(LOG_AUTHPRIV | level, "%s", clean);
        break;
    case LBX_LOG_STRUCTURED:
        now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "ts=%s level=%s func=%s msg=\"%s\"\n", ts, level_name(level), func,
                quote_value(quoted, sizeof(quoted), clean));
        break;
    case LBX_LOG_STDERR:
    default:
        if (logger.max_level >= LOG_DEBUG)
            fprintf(stderr, "%s: %s: %s\n", logger.ident, func, clean);
        else
            fprintf(stderr, "%s: %s\n", logger.ident, clean);
        break;
    }
}
