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

char *lbx_sanitize(char *dst, size_t dstlen, const char *src)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "(null)");
    size_t o = 0, n;

    if (dstlen == 0)
        return dst;
    while (*s != '\0' && o + 1 < dstlen) {
        n = lbx_utf8_seq_len(s, (size_t)-1, NULL);
        /* C1 controls (U+0080..U+009F) are encoded as 0xc2 0x80..0x9f. */
        if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f)) || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
            dst[o++] = '?';
            s += n ? n : 1;
            continue;
        }
        if (o + n >= dstlen)
            break;
        memcpy(dst + o, s, n);
        o += n;
        s += n;
    }
    dst[o] = '\0';
    return dst;
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
    case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
    case LOG_ERR: return "error";
    case LOG_WARNING: return "warn";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    default: return "debug";
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
