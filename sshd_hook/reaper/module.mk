# sshd_hook/reaper/ — lockbox-reaper (root, one per session, started by pam_lockbox.so's
# session phase; package lockbox-host): ends the session at expiry or revocation.
REAPER_SRCS := $(wildcard sshd_hook/reaper/*.c)
REAPER_OBJS := $(REAPER_SRCS:%.c=$(BUILD)/%.o)
REAPER_BIN  := $(BUILD)/lockbox-reaper
PROGRAMS += $(REAPER_BIN)
CFLAGS_sshd_hook := $(call pkg_cflags,openssl jansson)

$(REAPER_BIN): $(REAPER_OBJS) $(HOST_RUNTIME)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(REAPER_OBJS) $(HOST_RUNTIME) $(HOST_RUNTIME_LIBS) \
	    -lpthread
