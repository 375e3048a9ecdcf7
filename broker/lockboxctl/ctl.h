/* lockboxctl: one file per command group; each exports a handler taking argc/argv after the
 * group name. Exit codes are shared so scripts can rely on them. */
#ifndef LBX_CTL_H
#define LBX_CTL_H

#include <jansson.h>
#include <stdint.h>

enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_FAIL = 1,        /* refused or failed: bad input (4xx), token invalid, chain broken,
                                 request denied/expired/revoked (request wait) */
    CTL_EXIT_USAGE = 2,       /* bad command line */
    CTL_EXIT_UNREACHABLE = 3, /* broker unreachable, TLS failure, timeout, 5xx */
    CTL_EXIT_AUTH = 4,        /* 401/403: not authenticated or not allowed */
    CTL_EXIT_NOT_FOUND = 5,   /* 404 */
    CTL_EXIT_CONFLICT = 6,    /* 409: the request changed meanwhile / already decided */
    CTL_EXIT_PENDING = 7,     /* request wait: still undecided when the timeout passed */
};

int ctl_key_main(int argc, char **argv);
int ctl_token_main(int argc, char **argv);
int ctl_request_main(int argc, char **argv);
int ctl_list_main(int argc, char **argv);
int ctl_show_main(int argc, char **argv);
int ctl_approve_main(int argc, char **argv);
int ctl_deny_main(int argc, char **argv);
int ctl_revoke_main(int argc, char **argv);
int ctl_directory_main(int argc, char **argv); /* tenant, subscription, host, group */
int ctl_people_main(int argc, char **argv);    /* identity, role, policy, api-token */
int ctl_policy_main(int argc, char **argv);
int ctl_audit_main(int argc, char **argv);
int ctl_whoami_main(int argc, char **argv);
int ctl_host_main(int argc, char **argv); /* host enroll (ctl_enroll.c), else directory */

/* Prints "lockboxctl: <message>" to stderr; returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Global options (set by main before dispatch). */
extern int ctl_json_output;         /* --json: print the broker's JSON, not tables */
extern const char *ctl_config_path; /* --config FILE */

/* Calls the broker (URL, token, CA from --config / LOCKBOX_CONFIG / ~/.config/lockbox/ctl.conf
 * / /etc/lockbox/ctl.conf, overridden by LOCKBOX_URL, LOCKBOX_TOKEN, LOCKBOX_CA). On a 2xx,
 * *out gets the parsed JSON object (NULL for 204) and CTL_EXIT_OK is returned; otherwise the
 * broker's message is printed and the matching exit code returned. timeout_s 0 = default. */
int ctl_call(const char *method, const char *path, json_t *body, int timeout_s, json_t **out);
/* The same, for a body that is not one JSON object (JSON lines): *text is malloc'd. */
int ctl_call_raw(const char *method, const char *path, int timeout_s, char **text);

/* Every string lockboxctl shows from the broker has been through the one sanitizer
 * (lbx_sanitize_text): ctl_call cleans its answers before returning them (tab and newline
 * kept only in a reason or comment), ctl_print_json prints ASCII only, and text that comes
 * another way (ctl_call_raw, a token's claims, an audit file) is cleaned with ctl_clean_text
 * (in place, one line) or ctl_clean_json before it is printed. */
void ctl_clean_text(char *text);
void ctl_clean_json(json_t *obj);
/* "label           text", a multi-line text's further lines indented under it. */
void ctl_print_field(const char *label, const char *text);

/* Output helpers: --json prints obj; otherwise the table callback. Both consume obj. */
int ctl_print_json(json_t *obj);
/* "2026-11-23 20:11Z" or "-" for null/0. */
const char *ctl_time(json_int_t t, char *buf, size_t len);
/* A JSON member as display text ("-" when null/absent). */
const char *ctl_str(const json_t *obj, const char *key);
/* Parses "1795477754", "2026-11-23", "2026-11-23T10:00:00Z" or a duration ago ("24h"). */
int ctl_parse_time(const char *s, int64_t *out);
/* Parses a duration "4h" / seconds into *out; -1 when bad. */
int ctl_parse_duration(const char *s, int64_t *out);

#endif
