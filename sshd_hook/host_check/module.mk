# host_check/ — lockbox-host-check (root, run by `lockbox-host-setup check`): the host's setup
# diagnosed through policy/ and lib/, the functions the module and the reaper use.
HOST_CHECK_SRCS := $(wildcard host_check/*.c)
HOST_CHECK_OBJS := $(HOST_CHECK_SRCS:%.c=$(BUILD)/%.o)
HOST_CHECK_BIN  := $(BUILD)/lockbox-host-check
PROGRAMS += $(HOST_CHECK_BIN)
CFLAGS_host_check := $(call pkg_cflags,openssl jansson)

$(HOST_CHECK_BIN): $(HOST_CHECK_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(HOST_CHECK_OBJS) $(NET_LIB) $(POLICY_LIB) \
	    $(NET_LIBS) $(POLICY_LIBS)
