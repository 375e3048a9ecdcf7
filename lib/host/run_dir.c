#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_dir.h"

static const struct {
    const char *name;
    mode_t dir_mode; /* 0: a file, not made here */
} run_paths[] = {
    [LBX_RUN_PENDING] = {"pending", 0700},
    [LBX_RUN_SESSIONS] = {"sessions", 0711},
    [LBX_RUN_TLS_SESSION] = {"broker.tls-session", 0},
};

const char *lbx_run_path(const struct lbx_host_config *cfg, enum lbx_run_path which, char *buf,
                         size_t len)
{
    int n;

    if (len == 0)
        return NULL;
    n = snprintf(buf, len, "%s/%s", cfg->run_dir, run_paths[which].name);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return NULL;
    }
    return buf;
}

static lbx_err ensure_dir(const char *path, mode_t mode, struct lbx_error *e)
{
    struct stat st;

    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return lbx_error_set(e, LBX_ERR_IO, "mkdir %s: %s", path, strerror(errno));
    if (lstat(path, &st) != 0)
        return lbx_error_set(e, LBX_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return lbx_error_set(e, LBX_ERR_FILE_PERM, "%s: not a root-only directory", path);
    if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0)
        return lbx_error_set(e, LBX_ERR_IO, "chmod %s: %s", path, strerror(errno));
    return LBX_OK;
}

lbx_err lbx_run_dir_make(const struct lbx_host_config *cfg, struct lbx_error *e)
{
    char path[4096];
    size_t i;
    lbx_err r;

    if ((r = ensure_dir(cfg->run_dir, 0755, e)) != LBX_OK)
        return r;
    for (i = 0; i < sizeof(run_paths) / sizeof(run_paths[0]); i++) {
        if (run_paths[i].dir_mode == 0)
            continue;
        if (lbx_run_path(cfg, (enum lbx_run_path)i, path, sizeof(path)) == NULL)
            return lbx_error_set(e, LBX_ERR_ARG, "run_dir too long");
        if ((r = ensure_dir(path, run_paths[i].dir_mode, e)) != LBX_OK)
            return r;
    }
    return LBX_OK;
}
