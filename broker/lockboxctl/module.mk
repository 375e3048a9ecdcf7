# broker/lockboxctl/ — the command-line client for engineers, approvers and admins (runs as the
# person; package lockbox-client): one ctl_*.c per group of commands over the broker's API.
CTL_SRCS := $(wildcard broker/lockboxctl/*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_BIN  := $(BUILD)/lockboxctl
PROGRAMS += $(CTL_BIN)

$(CTL_BIN): $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB) \
	    $(NET_LIBS) $(POLICY_LIBS) $(UTIL_LIBS) $(call pkg_libs,sqlite3)
