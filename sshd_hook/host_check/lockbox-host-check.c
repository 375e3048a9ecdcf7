/* lockbox-host-check [key=value ...]
 *
 * The diagnosis behind `lockbox-host-setup check` (root): host.conf read with the one parser,
 * as pam_lockbox.so reads it (the same key=value arguments, `config=FILE` to name another
 * file); the broker reached with this host's certificate; the trusted keys; the confinement,
 * tried with a cgroup of its own. One line per finding; exit 0 when every one is "ok", 1 when
 * one is a "problem", 2 on a usage error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host_check.h"
#include "http_client.h"
#include "log.h"

static const char *config_path(int argc, const char **argv)
{
    const char *path = LBX_HOST_CONFIG_PATH;
    int i;

    for (i = 0; i < argc; i++)
        if (strncmp(argv[i], "config=", 7) == 0)
            path = argv[i] + 7;
    return path;
}

enum config_state { CONFIG_BAD, CONFIG_NOT_ENROLLED, CONFIG_ENROLLED };

static enum config_state check_config(struct lbx_host_config *cfg, int argc, const char **argv)
{
    const char *path = config_path(argc, argv);
    struct lbx_error e = {0};
    char msg[300];

    if (access(path, F_OK) != 0 && errno == ENOENT) {
        check_problem("%s missing: this host is not enrolled (lockboxctl host enroll prints its "
                      "lines, see lockbox-host-setup(8))",
                      path);
        return CONFIG_BAD;
    }
    if (lbx_host_config_load(cfg, argc, argv, LBX_FILE_ROOT, &e) != LBX_OK) {
        check_problem("%s", lbx_error_text(&e, msg, sizeof(msg)));
        return CONFIG_BAD;
    }
    if (cfg->broker_url == NULL && cfg->cert_file == NULL) {
        check_problem("%s: this host is not enrolled: no broker_url, ca_file, cert_file, key_file "
                      "(lockboxctl host enroll prints them)",
                      path);
        return CONFIG_NOT_ENROLLED;
    }
    if (lbx_host_config_require_broker(cfg, &e) != LBX_OK) {
        check_problem("%s: %s", path, e.detail);
        return CONFIG_NOT_ENROLLED;
    }
    check_ok("%s read: host %s, broker %s", path, cfg->host_id, cfg->broker_url);
    return CONFIG_ENROLLED;
}

static void check_reaper(const struct lbx_host_config *cfg)
{
    if (access(cfg->reaper_path, X_OK) != 0)
        check_problem("reaper_path %s: not an executable file: sessions would be refused",
                      cfg->reaper_path);
}

int main(int argc, char **argv)
{
    struct lbx_host_config cfg;
    enum config_state state;
    int i;

    for (i = 1; i < argc; i++)
        if (strchr(argv[i], '=') == NULL) {
            fprintf(stderr, "usage: lockbox-host-check [key=value ...] (host.conf keys, "
                            "config=FILE)\n");
            return 2;
        }
    if (geteuid() != 0) {
        fprintf(stderr, "lockbox-host-check: must run as root\n");
        return 2;
    }
    /* The library's own warnings (a spooled report, a slow broker) go to stderr, not syslog. */
    lbx_log_init("lockbox-host-check", LBX_LOG_STDERR, LOG_WARNING);
    lbx_http_init();
    memset(&cfg, 0, sizeof(cfg));
    state = check_config(&cfg, argc - 1, (const char **)argv + 1);
    if (state == CONFIG_ENROLLED)
        check_broker_and_keys(&cfg);
    /* The rest does not depend on enrolment: worth knowing before it. */
    if (state != CONFIG_BAD) {
        check_reaper(&cfg);
        check_confinement(&cfg);
    }
    lbx_host_config_free(&cfg);
    fflush(stdout);
    return check_problems() > 0 ? 1 : 0;
}
