# sshd_hook/session/ — lockbox-session, sshd's ForceCommand for support users (runs as the user,
# setgid to the recording group; package lockbox-host): shows the grant, runs the command
# under a pty and records it. Links no network code: it only reads root-owned records.
HOOK_SRCS   := $(wildcard sshd_hook/session/*.c)
HOOK_OBJS   := $(HOOK_SRCS:%.c=$(BUILD)/%.o)
HOOK_BIN    := $(BUILD)/lockbox-session
HOOK_LINK   := $(HOST_LIB) $(POLICY_LIB) $(UTIL_LIB)
PROGRAMS += $(HOOK_BIN)

$(HOOK_BIN): $(HOOK_OBJS) $(HOOK_LINK)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(HOOK_OBJS) $(HOOK_LINK) $(UTIL_LIBS) -lutil

# The hook's configuration file is compiled in (it takes no orders from its caller). Default:
# /etc/lockbox/host.conf; `make HOOK_CONFIG=FILE` after `make clean` for another. So is the path
# it is installed at (LIBEXECDIR, as in the sshd snippet's ForceCommand): as a login shell it
# accepts `-c` with that path only. A changed PREFIX rebuilds it (packaging/module.mk's paths).
HOOK_CONFIG ?=
HOOK_PATH    = $(LIBEXECDIR)/lockbox/lockbox-session
$(BUILD)/sshd_hook/session/hook_config.o: CFLAGS += $(if $(HOOK_CONFIG),-DLBX_HOOK_CONFIG='"$(HOOK_CONFIG)"') \
    -DLBX_HOOK_PATH='"$(HOOK_PATH)"'
$(BUILD)/sshd_hook/session/hook_config.o: $(BUILD)/packaging/paths

# make hook-copy HOOK_COPY=PATH HOOK_CONFIG=FILE: a hook reading FILE and installed at PATH,
# linked from the objects already built (nothing is rebuilt). The test harness runs many hosts
# on one machine, each with its own host.conf, so each gets its own copy; nothing installs one.
.PHONY: hook-copy
hook-copy:
	@test -n "$(HOOK_COPY)" -a -n "$(HOOK_CONFIG)" || { echo "HOOK_COPY and HOOK_CONFIG needed" >&2; exit 1; }
	@$(CC) $(CFLAGS_ALL) -DLBX_HOOK_CONFIG='"$(HOOK_CONFIG)"' -DLBX_HOOK_PATH='"$(HOOK_COPY)"' \
	    -c sshd_hook/session/hook_config.c \
	    -o $(HOOK_COPY).o
	@$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $(HOOK_COPY) \
	    $(filter-out %/hook_config.o,$(HOOK_OBJS)) $(HOOK_COPY).o $(HOOK_LINK) $(UTIL_LIBS) -lutil
	@rm -f $(HOOK_COPY).o
