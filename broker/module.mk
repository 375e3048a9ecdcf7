# broker/ — lockboxctl (the command-line client). lockboxd (the daemon) is not built yet.
CTL_SRCS := broker/lockboxctl.c $(wildcard broker/ctl_*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_BIN  := $(BUILD)/lockboxctl
PROGRAMS += $(CTL_BIN)
CFLAGS_broker := $(call pkg_cflags,openssl jansson libcurl)

$(CTL_BIN): $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB) $(NET_LIBS) $(POLICY_LIBS)
