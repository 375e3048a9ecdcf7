#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

lbx_err lbx_file_check_fd(int fd, const char *path, enum lbx_file_trust trust, struct lbx_error *e)
{
    struct stat st;
    uid_t me = geteuid();

    if (fstat(fd, &st) != 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: not a regular file", path);
    switch (trust) {
    case LBX_FILE_ANY:
        break;
    case LBX_FILE_TRUSTED:
        if (st.st_uid != 0 && st.st_uid != me)
            return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: owned by uid %u", path,
                                 (unsigned)st.st_uid);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
            return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: writable by group or others", path);
        break;
    case LBX_FILE_ROOT:
        if (st.st_uid != 0)
            return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: owned by uid %u, not root", path,
                                 (unsigned)st.st_uid);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
            return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: writable by group or others", path);
        break;
    case LBX_FILE_SECRET:
        if (st.st_uid != me)
            return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: owned by uid %u, not %u", path,
                                 (unsigned)st.st_uid, (unsigned)me);
        if (st.st_mode & (S_IRWXG | S_IRWXO))
            return lbx_error_set(e, LBX_ERR_FILE_PERM,
                                 "%s: accessible by group or others (mode %04o)", path,
                                 (unsigned)(st.st_mode & 07777));
        break;
    }
    return LBX_OK;
}

lbx_err lbx_file_read(const char *path, enum lbx_file_trust trust, size_t max, char **out,
                      size_t *outlen, struct lbx_error *e)
{
    struct lbx_buf b;
    char chunk[4096];
    ssize_t n;
    lbx_err r;
    int fd;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    /* O_NONBLOCK: opening a FIFO planted where a key or config is expected must not hang the
     * caller (sshd's PAM stack) before fstat can tell it is not a regular file. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return lbx_error_set(e, errno == ELOOP ? LBX_ERR_FILE_PERM : LBX_ERR_IO, "%s: %s", path,
                             errno == ELOOP ? "is a symbolic link" : strerror(errno));
    if ((r = lbx_file_check_fd(fd, path, trust, e)) != LBX_OK) {
        close(fd);
        return r;
    }
    lbx_buf_init(&b, max);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((r = lbx_buf_append(&b, chunk, (size_t)n)) != LBX_OK) {
            lbx_error_set(e, r, "%s: larger than %zu bytes", path, max);
            break;
        }
    }
    explicit_bzero(chunk, sizeof(chunk));
    close(fd);
    if (n != 0) {
        lbx_buf_free(&b);
        return r;
    }
    if (outlen != NULL)
        *outlen = b.len;
    *out = lbx_buf_steal(&b);
    return *out ? LBX_OK : LBX_ERR_NOMEM;
}

lbx_err lbx_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return LBX_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return LBX_OK;
}

lbx_err lbx_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                              struct lbx_error *e)
{
    return lbx_file_write_atomic_group(path, data, len, mode, (gid_t)-1, e);
}

static lbx_err write_replace(const char *path, const void *data, size_t len, unsigned mode,
                             gid_t gid, int durable, struct lbx_error *e)
{
    char tmp[4096];
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return lbx_error_set(e, LBX_ERR_ARG, "path too long");
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", tmp, strerror(errno));
    if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) || fchmod(fd, mode) != 0)
        goto fail;
    if (lbx_write_all(fd, data, len) != LBX_OK)
        goto fail;
    if ((durable && fsync(fd) != 0) || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto fail;
    }
    return LBX_OK;
fail:
    lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return LBX_ERR_IO;
}

lbx_err lbx_file_write_atomic_group(const char *path, const void *data, size_t len, unsigned mode,
                                    gid_t gid, struct lbx_error *e)
{
    return write_replace(path, data, len, mode, gid, 1, e);
}

lbx_err lbx_file_write_volatile(const char *path, const void *data, size_t len, unsigned mode,
                                gid_t gid, struct lbx_error *e)
{
    return write_replace(path, data, len, mode, gid, 0, e);
}

/* Every directory above path (path absolute): root's and writable by nobody else. */
static lbx_err check_root_dirs(const char *path, const char *name, struct lbx_error *e)
{
    char dir[4096];
    struct stat st;
    char *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: path too long", name);
    while ((slash = strrchr(dir, '/')) != NULL) {
        slash[slash == dir ? 1 : 0] = '\0';
        if (stat(dir, &st) != 0)
            return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s: %s", name, dir, strerror(errno));
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
            return lbx_error_set(e, LBX_ERR_FILE_PERM,
                                 "%s: %s is not a root-owned directory only root may write", name,
                                 dir);
        if (slash == dir)
            break;
    }
    return LBX_OK;
}

lbx_err lbx_file_check_root_program(const char *path, struct lbx_error *e)
{
    char real[PATH_MAX];
    struct stat st;
    lbx_err r;

    if (path[0] != '/')
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: not an absolute path", path);
    if (realpath(path, real) == NULL || stat(real, &st) != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", path, strerror(errno));
    /* Both chains: the directories a link sits in, and those of the file it leads to. */
    if ((r = check_root_dirs(path, path, e)) != LBX_OK ||
        (r = check_root_dirs(real, path, e)) != LBX_OK)
        return r;
    if (!S_ISREG(st.st_mode))
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: not a regular file", path);
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: not root-owned, or writable by others",
                             path);
    if ((st.st_mode & S_IXOTH) == 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: not executable by everyone", path);
    if (st.st_mode & (S_ISUID | S_ISGID))
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: a set-user/group-ID program", path);
    return LBX_OK;
}
