/* Reading files whose owner and mode decide whether lockbox may trust them. The checks run with
 * fstat on the opened descriptor (O_NOFOLLOW), so a swapped symlink cannot slip past them. */
#ifndef LBX_FILE_H
#define LBX_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "lbx_err.h"

enum lbx_file_trust {
    LBX_FILE_ANY,     /* no ownership requirement (tests, inputs that are verified later) */
    LBX_FILE_TRUSTED, /* owned by root or by us; not writable by group or others */
    LBX_FILE_SECRET,  /* owned by us; no permission at all for group or others */
    LBX_FILE_ROOT,    /* owned by root; not writable by group or others (read by setgid or
                         user-side programs, where "owned by us" would mean the caller) */
};

/* Reads a whole regular file of at most max bytes into a malloc'd NUL-terminated buffer. */
lbx_err lbx_file_read(const char *path, enum lbx_file_trust trust, size_t max, char **out,
                      size_t *outlen, struct lbx_error *e);
/* Checks an already open descriptor against trust; path only names it in the error. */
lbx_err lbx_file_check_fd(int fd, const char *path, enum lbx_file_trust trust, struct lbx_error *e);
/* A program only root can change: path absolute; it and what it resolves to reached only through
 * root-owned directories nobody else may write; the file itself regular, root-owned, not
 * writable by group or others, executable by everyone, and not set-user/group-ID. For a program
 * that lockbox starts for a user (a symlink or file a user could swap would pick it instead). */
lbx_err lbx_file_check_root_program(const char *path, struct lbx_error *e);
/* write(2) until all of len is written, retrying on EINTR. LBX_ERR_IO on failure (errno set). */
lbx_err lbx_write_all(int fd, const void *data, size_t len);
/* Writes data to path atomically (temp file + rename) with the given mode. */
lbx_err lbx_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                              struct lbx_error *e);
/* The same, with the file's group set before it appears under its name ((gid_t)-1 keeps it). */
lbx_err lbx_file_write_atomic_group(const char *path, const void *data, size_t len, unsigned mode,
                                    gid_t gid, struct lbx_error *e);
/* The same without fsync, for runtime state that means nothing after a crash (run_dir: the
 * sessions it describes die with the machine). Readers still see old or new, never a mix. */
lbx_err lbx_file_write_volatile(const char *path, const void *data, size_t len, unsigned mode,
                                gid_t gid, struct lbx_error *e);

#endif
