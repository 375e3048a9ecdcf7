# sshd_hook/host_check/ — lockbox-host-check (root, run by `lockbox-host-setup check`; package
# lockbox-host): the host's setup diagnosed through lib/host, the functions the module and the
# reaper use.
HOST_CHECK_SRCS := $(wildcard sshd_hook/host_check/*.c)
HOST_CHECK_OBJS := $(HOST_CHECK_SRCS:%.c=$(BUILD)/%.o)
HOST_CHECK_BIN  := $(BUILD)/lockbox-host-check
PROGRAMS += $(HOST_CHECK_BIN)

$(HOST_CHECK_BIN): $(HOST_CHECK_OBJS) $(HOST_RUNTIME)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(HOST_CHECK_OBJS) $(HOST_RUNTIME) $(HOST_RUNTIME_LIBS)
