/* The confinement a support session gets on this host (lbx_cgroup_plan, as pam_lockbox.so plans
 * it), and whether it works here: for our own cgroups (v2, freezer) a dry run through the very
 * functions a session's life uses — create, attach a process, kill, remove; for a logind scope
 * what the reaper needs of it. Nothing is left behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "host_check.h"

#define KILL_TIMEOUT_MS 2000

/* A process that only waits to be killed, and dies with us should we die first. */
static pid_t spawn_sleeper(void)
{
    pid_t pid = fork();

    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;)
            pause();
    }
    return pid;
}

/* The reaper kills a process of this cgroup the way it ends a session: 1 when that worked. */
static int try_kill(const struct lbx_cgroup *cg, struct lbx_error *e)
{
    pid_t pid = spawn_sleeper();
    int status = 0, killed = 0;

    if (pid < 0) {
        lbx_error_set(e, LBX_ERR_SYSTEM, "fork: %s", strerror(errno));
        return 0;
    }
    if (lbx_cgroup_attach(cg, pid, e) == LBX_OK) {
        if (lbx_cgroup_procs(cg, NULL, 0) != 1)
            lbx_error_set(e, LBX_ERR_SYSTEM, "%s%s: the process moved in is not listed", cg->mount,
                          cg->path);
        else if (lbx_cgroup_kill(cg, KILL_TIMEOUT_MS, e) == LBX_OK)
            killed = 1;
    }
    if (!killed)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void dry_run(const struct lbx_cgroup *cg, const char *name)
{
    char parent[LBX_CGROUP_PATH_MAX * 2 + 2];
    struct lbx_error e = {0};
    struct stat st;
    int had_parent, worked = 0;

    snprintf(parent, sizeof(parent), "%s/%s", cg->mount, name);
    had_parent = stat(parent, &st) == 0;
    if (lbx_cgroup_create(cg, &e) == LBX_OK) {
        worked = try_kill(cg, &e);
        if (lbx_cgroup_remove(cg, worked ? &e : NULL) != LBX_OK)
            worked = 0;
    }
    if (!had_parent)
        rmdir(parent); /* ours alone: a session's cgroup in it would keep it (EBUSY) */
    if (worked)
        check_ok("confinement %s: a test cgroup under %s was made, its process killed and the "
                 "cgroup removed",
                 lbx_cgroup_kind_name(cg->kind), parent);
    else
        check_problem("confinement %s does not work here: %s", lbx_cgroup_kind_name(cg->kind),
                      e.detail);
}

/* In a logind scope nothing is made: what the reaper needs is the scope's cgroup (it lists the
 * scope's processes) and its cgroup.kill. */
static void check_scope(const struct lbx_cgroup *cg)
{
    char kill_file[LBX_CGROUP_PATH_MAX * 2 + 16];

    snprintf(kill_file, sizeof(kill_file), "%s%s/cgroup.kill", cg->mount, cg->path);
    if (lbx_cgroup_procs(cg, NULL, 0) < 0)
        check_problem("confinement logind: the session scope %s%s cannot be read", cg->mount,
                      cg->path);
    else if (access(kill_file, W_OK) != 0)
        check_problem("confinement logind: %s: %s (Linux 5.14 or later needed)", kill_file,
                      strerror(errno));
    else
        check_ok("confinement logind: this session's scope %s is readable and has cgroup.kill",
                 cg->path);
}

void check_confinement(const struct lbx_host_config *cfg)
{
    struct lbx_error e = {0};
    struct lbx_cgroup cg;
    struct stat st;
    char sid[32];

    snprintf(sid, sizeof(sid), "check-%ld", (long)getpid());
    if (lbx_cgroup_plan(cfg->cgroup_mode, cfg->cgroup_name, sid, &cg, &e) != LBX_OK) {
        check_problem("confinement (cgroup_mode %s): %s", cfg->cgroup_mode, e.detail);
        return;
    }
    if (cg.kind == LBX_CGROUP_LOGIND) {
        check_scope(&cg);
        return;
    }
    dry_run(&cg, cfg->cgroup_name);
    /* The plan follows the caller: run from outside a login session, this command gets our own
     * cgroup, where an ssh login through pam_systemd gets its logind scope (sd_booted(3)). */
    if (strcmp(cfg->cgroup_mode, "auto") == 0 && stat("/run/systemd/system", &st) == 0)
        check_ok("confinement: systemd runs here: ssh sessions opened by pam_systemd get the "
                 "logind kind (their session scope)");
}
