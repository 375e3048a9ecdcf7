# tests/ — cmocka unit tests (one program per tests/<area>/test_*.c) and end-to-end scripts.
UNIT_TEST_SRCS := $(wildcard tests/*/test_*.c)
TEST_PROGRAMS  += $(UNIT_TEST_SRCS:%.c=$(BUILD)/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(BUILD)/%.o)
CFLAGS_tests := $(call pkg_cflags,cmocka openssl jansson libevent sqlite3 libpq) -Itests/support \
                $(BROKERD_DIRS:%=-I%)
TEST_LIBS := $(call pkg_libs,cmocka)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJS) $(HOST_RUNTIME)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJS) $(HOST_RUNTIME) \
	    $(HOST_RUNTIME_LIBS) $(TEST_LIBS) $(call pkg_libs,libjwt)

# The broker's unit tests link the daemon without its main() (an in-memory SQLite store).
BROKER_UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/broker/test_*.c))
$(BROKER_UNIT_TESTS): $(BUILD)/tests/broker/%: $(BUILD)/tests/broker/%.o $(BROKERD_CORE_OBJS) \
    $(TEST_SUPPORT_OBJS) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(BROKERD_CORE_OBJS) $(TEST_SUPPORT_OBJS) \
	    $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB) $(NET_LIBS) $(POLICY_LIBS) $(UTIL_LIBS) \
	    $(BROKERD_LIBS) $(TEST_LIBS) $(call pkg_libs,libjwt)

# Benchmarks (make bench): programs under tests/bench/, never run by make check.
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_PROGRAMS := $(BENCH_SRCS:%.c=$(BUILD)/%)
# Drivers with their own libraries (the generic rule above links the host runtime only).
# The systemd lane times its logins phase by phase with the login benchmark's client.
TEST_PROGRAMS += $(BUILD)/tests/bench/bench_login
$(BUILD)/tests/bench/bench_login: $(BUILD)/tests/bench/bench_login.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,libssh) -lpthread
$(BUILD)/tests/bench/bench_http: $(BUILD)/tests/bench/bench_http.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,openssl)
$(BUILD)/tests/bench/bench_scale_gen: $(BUILD)/tests/bench/bench_scale_gen.o $(POLICY_LIB) $(UTIL_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(POLICY_LIB) $(UTIL_LIB) $(POLICY_LIBS) \
	    $(UTIL_LIBS) $(call pkg_libs,sqlite3)

# The compiled-in defaults of both configurations, for the documentation test.
CONFIG_DEFAULTS := $(BUILD)/tests/packaging/config_defaults
TEST_PROGRAMS += $(CONFIG_DEFAULTS)
$(CONFIG_DEFAULTS): $(BUILD)/tests/packaging/config_defaults.o \
    $(BUILD)/broker/lockboxd/broker_config.o $(BUILD)/broker/lockboxd/store/store_location.o \
    $(HOST_LIB) $(POLICY_LIB) $(UTIL_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $^ $(POLICY_LIBS) $(UTIL_LIBS)

# The one token forger (tests/support/token_forge.c) from the command line, for shell tests.
FORGE_TOKEN := $(BUILD)/tests/tools/forge_token
TEST_PROGRAMS += $(FORGE_TOKEN)

# The HTTP client driven from the command line (tests/net/t_http_client.sh).
HTTP_PROBE := $(BUILD)/tests/net/http_probe
TEST_PROGRAMS += $(HTTP_PROBE)

# Test tools for the host gate (not tests themselves: tests/run.sh runs only test_* and t_*.sh).
SSH_CLIENT := $(BUILD)/tests/e2e/ssh_client
PAM_DRIVER := $(BUILD)/tests/pam_lockbox/pam_driver
TEST_PROGRAMS += $(SSH_CLIENT) $(PAM_DRIVER)

$(SSH_CLIENT): $(BUILD)/tests/e2e/ssh_client.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,libssh)

# An LD_PRELOAD shim that makes NSS fail or fold case (tests only).
NSS_SHIM := $(BUILD)/tests/pam_lockbox/nss_shim.so
TEST_PROGRAMS += $(NSS_SHIM)
$(NSS_SHIM): tests/pam_lockbox/nss_shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(WARN) -fPIC -shared -o $@ $< -ldl

$(PAM_DRIVER): $(BUILD)/tests/pam_lockbox/pam_driver.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< -lpam -lpam_misc

# The systemd lane's teardown watcher, run inside its container (tests/systemd/lane.sh).
LANE_GONE := $(BUILD)/tests/systemd/gone
TEST_PROGRAMS += $(LANE_GONE)
$(LANE_GONE): $(BUILD)/tests/systemd/gone.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $<
