# broker/ — lockboxctl (the command-line client) and lockboxd (the broker daemon).
CTL_SRCS := broker/lockboxctl.c $(wildcard broker/ctl_*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_BIN  := $(BUILD)/lockboxctl
BROKERD_SRCS := $(filter-out broker/lockboxctl.c $(wildcard broker/ctl_*.c),$(wildcard broker/*.c))
BROKERD_OBJS := $(BROKERD_SRCS:%.c=$(BUILD)/%.o)
BROKERD_BIN  := $(BUILD)/lockboxd
BROKERD_LIBS := $(call pkg_libs,libevent libevent_openssl sqlite3 libpq) -lpthread
PROGRAMS += $(CTL_BIN) $(BROKERD_BIN)
CFLAGS_broker := $(call pkg_cflags,openssl jansson libevent libevent_openssl sqlite3 libpq libsystemd)

$(CTL_BIN): $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(CTL_OBJS) $(NET_LIB) $(POLICY_LIB) $(NET_LIBS) $(POLICY_LIBS) $(call pkg_libs,sqlite3)

$(BROKERD_BIN): $(BROKERD_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(BROKERD_OBJS) $(NET_LIB) $(POLICY_LIB) $(NET_LIBS) $(POLICY_LIBS) $(BROKERD_LIBS)
