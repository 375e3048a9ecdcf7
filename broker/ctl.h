/* lockboxctl: one file per command group; each exports a handler taking argc/argv after the
 * group name. Exit codes are shared so scripts can rely on them. */
#ifndef LBX_CTL_H
#define LBX_CTL_H

enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_FAIL = 1,  /* the operation was refused or failed (e.g. token invalid) */
    CTL_EXIT_USAGE = 2, /* bad command line */
};

int ctl_key_main(int argc, char **argv);
int ctl_token_main(int argc, char **argv);
int ctl_host_main(int argc, char **argv); /* ctl_enroll.c */

/* Prints "lockboxctl: <message>" to stderr; returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
