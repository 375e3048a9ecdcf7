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

# Test tools for the host gate (not tests themselves: tests/run.sh runs only test_* and t_*.sh).
SSH_CLIENT := $(BUILD)/tests/e2e/ssh_client
PAM_DRIVER := $(BUILD)/tests/pam_lockbox/pam_driver
TEST_PROGRAMS += $(SSH_CLIENT) $(PAM_DRIVER)

$(SSH_CLIENT): $(BUILD)/tests/e2e/ssh_client.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,libssh)

$(PAM_DRIVER): $(BUILD)/tests/pam_lockbox/pam_driver.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< -lpam -lpam_misc
