# sshd_hook/ — lockbox-reaper (root, one per session: ends it at expiry or revocation) and
# lockbox-session (the ForceCommand, runs as the user, setgid to the recording group).
REAPER_SRCS := sshd_hook/lockbox-reaper.c sshd_hook/grant_watch.c sshd_hook/teardown.c
REAPER_OBJS := $(REAPER_SRCS:%.c=$(BUILD)/%.o)
REAPER_BIN  := $(BUILD)/lockbox-reaper
HOOK_SRCS   := $(filter-out $(REAPER_SRCS),$(wildcard sshd_hook/*.c))
HOOK_OBJS   := $(HOOK_SRCS:%.c=$(BUILD)/%.o)
HOOK_BIN    := $(BUILD)/lockbox-session
PROGRAMS += $(REAPER_BIN) $(HOOK_BIN)
CFLAGS_sshd_hook := $(call pkg_cflags,openssl jansson)

$(REAPER_BIN): $(REAPER_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(REAPER_OBJS) $(NET_LIB) $(POLICY_LIB) \
	    $(NET_LIBS) $(POLICY_LIBS) -lpthread

$(HOOK_BIN): $(HOOK_OBJS) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(HOOK_OBJS) $(POLICY_LIB) $(POLICY_LIBS) -lutil

# The hook's configuration file is compiled in (it takes no orders from its caller). Default:
# /etc/lockbox/host.conf; `make HOOK_CONFIG=FILE` after `make clean` for another.
HOOK_CONFIG ?=
$(BUILD)/sshd_hook/hook_config.o: CFLAGS += $(if $(HOOK_CONFIG),-DLBX_HOOK_CONFIG='"$(HOOK_CONFIG)"')

# make hook-copy HOOK_COPY=PATH HOOK_CONFIG=FILE: a hook reading FILE, linked from the objects
# already built (nothing is rebuilt). The test harness runs many hosts on one machine, each
# with its own host.conf, so each gets its own copy; nothing installs one.
.PHONY: hook-copy
hook-copy:
	@test -n "$(HOOK_COPY)" -a -n "$(HOOK_CONFIG)" || { echo "HOOK_COPY and HOOK_CONFIG needed" >&2; exit 1; }
	@$(CC) $(CFLAGS_ALL) -DLBX_HOOK_CONFIG='"$(HOOK_CONFIG)"' -c sshd_hook/hook_config.c \
	    -o $(HOOK_COPY).o
	@$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $(HOOK_COPY) \
	    $(filter-out %/hook_config.o,$(HOOK_OBJS)) $(HOOK_COPY).o $(POLICY_LIB) $(POLICY_LIBS) -lutil
	@rm -f $(HOOK_COPY).o

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
