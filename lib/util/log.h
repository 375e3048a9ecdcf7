/* The one logger: syslog (authpriv) for the reaper and hook, stderr for the CLI, structured
 * key=value lines on stderr for the broker. Every string is sanitized before it is written:
 * a username or a justification can carry terminal escape sequences. */
#ifndef LBX_LOG_H
#define LBX_LOG_H

#include <stddef.h>
#include <syslog.h>

enum lbx_log_sink {
    LBX_LOG_STDERR,     /* "prog: message" — command-line tools */
    LBX_LOG_SYSLOG,     /* syslog(LOG_AUTHPRIV) — root-side host programs */
    LBX_LOG_STRUCTURED, /* "ts=... level=... func=... msg=..." on stderr — the daemon */
};

void lbx_log_init(const char *ident, enum lbx_log_sink sink, int max_level);
void lbx_log_set_level(int max_level);
void lbx_log(int level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define lbx_error_f(...) lbx_log(LOG_ERR, __func__, __VA_ARGS__)
#define lbx_warn_f(...) lbx_log(LOG_WARNING, __func__, __VA_ARGS__)
#define lbx_info_f(...) lbx_log(LOG_INFO, __func__, __VA_ARGS__)
#define lbx_debug_f(...) lbx_log(LOG_DEBUG, __func__, __VA_ARGS__)

/* Length (1..4) of the UTF-8 sequence starting at s, 0 when it is not valid UTF-8. When only
 * `avail` bytes are there and they are a valid start of a longer sequence, returns its full
 * length and sets *incomplete (a stream split mid-character); incomplete may be NULL. */
size_t lbx_utf8_seq_len(const unsigned char *s, size_t avail, int *incomplete);

/* The one definition of text that is safe to show on a terminal, for what the broker accepts
 * and for what every program prints: no C0 or C1 control, no DEL, no byte outside valid UTF-8,
 * no Unicode bidirectional formatting character or line/paragraph separator. With
 * LBX_TEXT_MULTILINE, tab and newline are allowed (a justification, a comment). */
#define LBX_TEXT_MULTILINE 1u

/* Offset of the first unsafe character of text, or (size_t)-1 when there is none. */
size_t lbx_text_unsafe_at(const char *text, unsigned flags);

/* Copies src into dst (always NUL-terminated), replacing each unsafe character or stray byte
 * with '?'. dst may be src (cleaned in place). Returns dst. */
char *lbx_sanitize_text(char *dst, size_t dstlen, const char *src, unsigned flags);

/* lbx_sanitize_text for one line (tab and newline replaced too). */
char *lbx_sanitize(char *dst, size_t dstlen, const char *src);

#endif
