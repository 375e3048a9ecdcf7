#include "systemd_unit.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_PRIVATE "unix:path=/run/systemd/private"
#define CALL_TIMEOUT_US (5 * 1000 * 1000)

/* libsystemd is opened at the first bus call, never linked: only a host booted with systemd
 * needs it, and its library chain (libsystemd, libgcrypt, liblzma, libzstd, liblz4, libcap)
 * costs every reaper's start ~2 ms of loading on a small virtual machine. Inside sshd (which
 * links it on Debian) opening it only takes a reference. */
static struct sd_api {
    __typeof__(sd_bus_new) *bus_new;
    __typeof__(sd_bus_set_address) *bus_set_address;
    __typeof__(sd_bus_start) *bus_start;
    __typeof__(sd_bus_open_system) *bus_open_system;
    __typeof__(sd_bus_flush_close_unref) *bus_flush_close_unref;
    __typeof__(sd_bus_error_is_set) *error_is_set;
    __typeof__(sd_bus_error_free) *error_free;
    __typeof__(sd_bus_message_new_method_call) *message_new_method_call;
    __typeof__(sd_bus_message_append) *message_append;
    __typeof__(sd_bus_message_open_container) *message_open_container;
    __typeof__(sd_bus_message_close_container) *message_close_container;
    __typeof__(sd_bus_message_read) *message_read;
    __typeof__(sd_bus_message_unref) *message_unref;
    __typeof__(sd_bus_call) *call;
    __typeof__(sd_bus_call_method) *call_method;
    __typeof__(sd_bus_get_property_string) *get_property_string;
} sd;
static int sd_loaded;
static char sd_load_error[256];
static pthread_once_t sd_once = PTHREAD_ONCE_INIT;

#define SD_SYM(field, name)                                                                        \
    {                                                                                              \
        name, offsetof(struct sd_api, field)                                                       \
    }
static const struct {
    const char *name;
    size_t offset;
} sd_symbols[] = {
    SD_SYM(bus_new, "sd_bus_new"),
    SD_SYM(bus_set_address, "sd_bus_set_address"),
    SD_SYM(bus_start, "sd_bus_start"),
    SD_SYM(bus_open_system, "sd_bus_open_system"),
    SD_SYM(bus_flush_close_unref, "sd_bus_flush_close_unref"),
    SD_SYM(error_is_set, "sd_bus_error_is_set"),
    SD_SYM(error_free, "sd_bus_error_free"),
    SD_SYM(message_new_method_call, "sd_bus_message_new_method_call"),
    SD_SYM(message_append, "sd_bus_message_append"),
    SD_SYM(message_open_container, "sd_bus_message_open_container"),
    SD_SYM(message_close_container, "sd_bus_message_close_container"),
    SD_SYM(message_read, "sd_bus_message_read"),
    SD_SYM(message_unref, "sd_bus_message_unref"),
    SD_SYM(call, "sd_bus_call"),
    SD_SYM(call_method, "sd_bus_call_method"),
    SD_SYM(get_property_string, "sd_bus_get_property_string"),
};

static void sd_load(void)
{
    void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL), *fn;
    size_t i;

    if (lib == NULL) {
        const char *why = dlerror();

        snprintf(sd_load_error, sizeof(sd_load_error), "%s",
                 why != NULL ? why : "libsystemd.so.0 cannot be opened");
        return;
    }
    for (i = 0; i < sizeof(sd_symbols) / sizeof(sd_symbols[0]); i++) {
        if ((fn = dlsym(lib, sd_symbols[i].name)) == NULL) {
            snprintf(sd_load_error, sizeof(sd_load_error), "libsystemd.so.0 has no %s",
                     sd_symbols[i].name);
            dlclose(lib);
            return;
        }
        memcpy((char *)&sd + sd_symbols[i].offset, &fn, sizeof(fn));
    }
    sd_loaded = 1;
}

int lbx_systemd_booted(void)
{
    struct stat st;

    return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* systemctl's way for root: the manager's private socket answers without dbus-daemon. */
static lbx_err bus_open(sd_bus **bus, struct lbx_error *e)
{
    int r;

    *bus = NULL;
    pthread_once(&sd_once, sd_load);
    if (!sd_loaded)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "systemd's bus: %s", sd_load_error);
    if (geteuid() == 0 && sd.bus_new(bus) >= 0) {
        if (sd.bus_set_address(*bus, SD_PRIVATE) >= 0 && sd.bus_start(*bus) >= 0)
            return LBX_OK;
        *bus = sd.bus_flush_close_unref(*bus);
    }
    if ((r = sd.bus_open_system(bus)) < 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "systemd's bus: %s", strerror(-r));
    return LBX_OK;
}

static lbx_err bus_failed(const char *what, int r, const sd_bus_error *err, struct lbx_error *e)
{
    return lbx_error_set(e, LBX_ERR_SYSTEM, "%s: %s", what,
                         err != NULL && sd.error_is_set(err) ? err->message : strerror(-r));
}

static lbx_err start_scope(sd_bus *bus, const char *unit, const char *description,
                           struct lbx_error *e)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL, *reply = NULL;
    lbx_err ret = LBX_OK;
    int r;

    r = sd.message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
    if (r >= 0)
        r = sd.message_append(m, "ss", unit, "fail");
    if (r >= 0)
        r = sd.message_open_container(m, 'a', "(sv)");
    if (r >= 0)
        r = sd.message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s", description, "PIDs", "au",
                              1, (uint32_t)getpid(), "Slice", "s", "system.slice", "CollectMode",
                              "s", "inactive-or-failed");
    if (r >= 0)
        r = sd.message_close_container(m);
    if (r >= 0)
        r = sd.message_append(m, "a(sa(sv))", 0);
    if (r >= 0)
        r = sd.call(bus, m, CALL_TIMEOUT_US, &err, &reply);
    if (r < 0)
        ret = bus_failed("StartTransientUnit", r, &err, e);
    sd.error_free(&err);
    sd.message_unref(m);
    sd.message_unref(reply);
    return ret;
}

/* systemd moves the process when the start job runs, just after it answers. */
static int in_unit(const char *unit)
{
    char path[LBX_CGROUP_PATH_MAX];
    const char *base;

    if (lbx_cgroup_of_pid(getpid(), LBX_CGROUP_LOGIND, path, sizeof(path)) != LBX_OK)
        return 0;
    base = strrchr(path, '/');
    return base != NULL && strcmp(base + 1, unit) == 0;
}

lbx_err lbx_systemd_enter_scope(const char *unit, const char *description, int timeout_ms,
                                struct lbx_error *e)
{
    sd_bus *bus = NULL;
    int waited;
    lbx_err r;

    if ((r = bus_open(&bus, e)) != LBX_OK)
        return r;
    r = start_scope(bus, unit, description, e);
    sd.bus_flush_close_unref(bus);
    if (r != LBX_OK)
        return r;
    for (waited = 0; waited <= timeout_ms; waited += 2) {
        if (in_unit(unit))
            return LBX_OK;
        sleep_ms(2);
    }
    return lbx_error_set(e, LBX_ERR_SYSTEM, "not moved into %s within %d ms", unit, timeout_ms);
}

/* NULL when the unit is not loaded (never started, or already collected). */
static char *unit_state(sd_bus *bus, const char *unit)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *path = NULL;
    char *state = NULL;

    if (sd.call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &err, &reply, "s", unit) >=
            0 &&
        sd.message_read(reply, "o", &path) >= 0)
        sd.get_property_string(bus, SD_DEST, path, SD_UNIT, "ActiveState", &err, &state);
    sd.error_free(&err);
    sd.message_unref(reply);
    return state;
}

lbx_err lbx_systemd_forget_user_manager(uid_t uid, int timeout_ms, struct lbx_error *e)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    char unit[64], *state = NULL;
    sd_bus *bus = NULL;
    lbx_err ret = LBX_OK;
    int waited, r;

    snprintf(unit, sizeof(unit), "user@%u.service", (unsigned)uid);
    if ((ret = bus_open(&bus, e)) != LBX_OK)
        return ret;
    for (waited = 0; waited <= timeout_ms; waited += 20) {
        free(state);
        if ((state = unit_state(bus, unit)) == NULL || strcmp(state, "inactive") == 0)
            break;
        if (strcmp(state, "failed") == 0) {
            if ((r = sd.call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &err,
                                    NULL, "s", unit)) < 0)
                ret = bus_failed("ResetFailedUnit", r, &err, e);
            break;
        }
        sleep_ms(20);
    }
    free(state);
    sd.error_free(&err);
    sd.bus_flush_close_unref(bus);
    return ret;
}
