#include "host_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "token.h"

#define F(name) offsetof(struct lbx_host_config, name)
#define S(name)                                                                                    \
    {                                                                                              \
#name, LBX_OPT_STRING, F(name), 0, 0                                                       \
    }
#define D(name, min, max)                                                                          \
    {                                                                                              \
#name, LBX_OPT_DURATION, F(name), min, max                                                 \
    }
#define B(name)                                                                                    \
    {                                                                                              \
#name, LBX_OPT_BOOL, F(name), 0, 1                                                         \
    }

static const struct lbx_opt host_opts[] = {
    S(config),
    S(broker_url),
    S(ca_file),
    S(cert_file),
    S(key_file),
    S(host_id),
    S(issuer),
    S(trusted_keys),
    S(support_group),
    S(record_group),
    S(run_dir),
    S(record_dir),
    S(spool_dir),
    S(reaper_path),
    S(cgroup_name),
    S(cgroup_mode),
    S(session_shell),
    D(timeout, 1, 30),
    D(leeway, 0, LBX_LEEWAY_MAX),
    D(poll_interval, 1, 300),
    D(long_poll, 0, 60),
    B(allow_file_transfer),
    B(debug),
    {NULL, 0, 0, 0, 0},
};

static lbx_err set_default(char **field, const char *value)
{
    if (*field == NULL && (*field = strdup(value)) == NULL)
        return LBX_ERR_NOMEM;
    return LBX_OK;
}

/* The session shell runs every command of a support user whose login shell is the hook: only
 * root may be able to change what it is. Never a set-ID program, so never the hook itself
 * (which would start itself again for ever). */
static lbx_err check_session_shell(const char *shell, struct lbx_error *e)
{
    struct lbx_error why = {0};

    if (lbx_file_check_root_program(shell, &why) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_CONFIG, "session_shell %s", why.detail);
    return LBX_OK;
}

static lbx_err fill_defaults(struct lbx_host_config *c, struct lbx_error *e)
{
    char host[256] = "", *dot;

    if (c->host_id == NULL) {
        if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
            return lbx_error_set(e, LBX_ERR_CONFIG, "host_id not set and no host name");
        if ((dot = strchr(host, '.')) != NULL)
            *dot = '\0';
    }
    if ((c->host_id == NULL && set_default(&c->host_id, host) != LBX_OK) ||
        set_default(&c->issuer, "lockbox") != LBX_OK ||
        set_default(&c->trusted_keys, "/etc/lockbox/keys") != LBX_OK ||
        set_default(&c->support_group, LBX_SUPPORT_GROUP_DEFAULT) != LBX_OK ||
        set_default(&c->record_group, "lockbox-rec") != LBX_OK ||
        set_default(&c->run_dir, "/run/lockbox") != LBX_OK ||
        set_default(&c->record_dir, "/var/log/lockbox/sessions") != LBX_OK ||
        set_default(&c->spool_dir, "/var/spool/lockbox") != LBX_OK ||
        set_default(&c->reaper_path, "/usr/libexec/lockbox/lockbox-reaper") != LBX_OK ||
        set_default(&c->cgroup_name, "lockbox") != LBX_OK ||
        set_default(&c->cgroup_mode, "auto") != LBX_OK ||
        set_default(&c->session_shell, "/bin/bash") != LBX_OK)
        return lbx_error_set(e, LBX_ERR_NOMEM, "config defaults");
    if (strchr(c->cgroup_name, '/') != NULL || c->cgroup_name[0] == '.')
        return lbx_error_set(e, LBX_ERR_CONFIG, "cgroup_name must be a plain directory name");
    if (strcmp(c->cgroup_mode, "auto") != 0 && strcmp(c->cgroup_mode, "v2") != 0 &&
        strcmp(c->cgroup_mode, "freezer") != 0)
        return lbx_error_set(e, LBX_ERR_CONFIG, "cgroup_mode must be auto, v2 or freezer");
    return check_session_shell(c->session_shell, e);
}

static lbx_err apply_args(struct lbx_host_config *c, int argc, const char **argv,
                          struct lbx_error *e)
{
    char where[32];
    lbx_err r;
    int i;

    for (i = 0; i < argc; i++) {
        snprintf(where, sizeof(where), "argument %d", i + 1);
        if ((r = lbx_config_set_arg(argv[i], where, host_opts, c, e)) != LBX_OK)
            return r;
    }
    return LBX_OK;
}

static void set_number_defaults(struct lbx_host_config *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout = 3;
    c->leeway = LBX_LEEWAY_DEFAULT;
    c->poll_interval = 5;
    c->allow_file_transfer = 1;
    /* Long-poll by default: the broker answers the moment a grant is revoked, where plain
     * polling every poll_interval left a revoked session up to 5 s (median 2.5 s). */
    c->long_poll = 25;
}

lbx_err lbx_host_config_load_at(struct lbx_host_config *c, const char *default_path, int argc,
                                const char **argv, enum lbx_file_trust trust, struct lbx_error *e)
{
    const char *path;
    lbx_err r;

    set_number_defaults(c);
    if ((r = apply_args(c, argc, argv, e)) != LBX_OK)
        return r;
    path = c->config ? c->config : default_path;
    r = lbx_config_load(path, trust, host_opts, c, e);
    /* Only the implicit default file may be absent; a file someone named must exist. */
    if (r == LBX_ERR_IO && c->config == NULL && access(path, F_OK) != 0)
        r = LBX_OK;
    if (r == LBX_OK)
        r = apply_args(c, argc, argv, e);
    if (r == LBX_OK)
        r = fill_defaults(c, e);
    return r;
}

lbx_err lbx_host_config_load(struct lbx_host_config *c, int argc, const char **argv,
                             enum lbx_file_trust trust, struct lbx_error *e)
{
    return lbx_host_config_load_at(c, LBX_HOST_CONFIG_PATH, argc, argv, trust, e);
}

lbx_err lbx_host_config_defaults(struct lbx_host_config *c, struct lbx_error *e)
{
    set_number_defaults(c);
    return fill_defaults(c, e);
}

void lbx_host_config_dump(const struct lbx_host_config *c, FILE *out)
{
    lbx_config_dump(host_opts, c, out);
}

void lbx_host_config_free(struct lbx_host_config *c)
{
    lbx_config_free(host_opts, c);
}

lbx_err lbx_host_config_require_broker(const struct lbx_host_config *c, struct lbx_error *e)
{
    if (c->broker_url == NULL || c->ca_file == NULL || c->cert_file == NULL || c->key_file == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG,
                             "broker_url, ca_file, cert_file and key_file must be set");
    return LBX_OK;
}

static int copy_group(const char *value, char *out, unsigned outlen)
{
    size_t n = strcspn(value, " \t\r\n\"#");

    if (n == 0 || n >= outlen)
        return 0;
    memcpy(out, value, n);
    out[n] = '\0';
    return 1;
}

/* Tolerant scan for `support_group = NAME`, used only when the strict parse failed. */
static int scan_file_group(const char *path, char *out, unsigned outlen)
{
    char *text = NULL, *line, *save = NULL, *v;
    int found = 0;

    if (lbx_file_read(path, LBX_FILE_ANY, LBX_CONFIG_MAX_SIZE, &text, NULL, NULL) != LBX_OK)
        return 0;
    for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t");
        if (strncmp(line, "support_group", 13) != 0)
            continue;
        v = line + 13 + strspn(line + 13, " \t");
        if (*v++ != '=')
            continue;
        v += strspn(v, " \t\"");
        found = copy_group(v, out, outlen);
    }
    free(text);
    return found;
}

int lbx_host_config_fallback_groups(int argc, const char **argv, char out[LBX_FALLBACK_GROUPS][256])
{
    const char *path = LBX_HOST_CONFIG_PATH;
    int i, n = 0;

    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "support_group=", 14) == 0 && n == 0)
            n += copy_group(argv[i] + 14, out[n], 256);
        if (strncmp(argv[i], "config=", 7) == 0)
            path = argv[i] + 7;
    }
    n += scan_file_group(path, out[n], 256);
    snprintf(out[n++], 256, "%s", LBX_SUPPORT_GROUP_DEFAULT);
    return n;
}
