# pam_lockbox/ — pam_lockbox.so (root, inside sshd's monitor; package lockbox-host): account
# phase (grant check), session phase (confinement + reaper). Links lib/host and what it stands
# on statically; exports only pam_sm_* (pam_lockbox.map).
PAM_SRCS := $(wildcard pam_lockbox/*.c)
PAM_OBJS := $(PAM_SRCS:%.c=$(BUILD)/%.o)
PAM_MOD  := $(BUILD)/pam_lockbox.so
PROGRAMS += $(PAM_MOD)
CFLAGS_pam_lockbox := $(call pkg_cflags,openssl jansson)

$(PAM_MOD): $(PAM_OBJS) $(HOST_RUNTIME) pam_lockbox/pam_lockbox.map
	$(CC) $(CFLAGS_ALL) -shared -Wl,--version-script=pam_lockbox/pam_lockbox.map \
	    -Wl,-z,defs $(LDFLAGS_BASE) -o $@ $(PAM_OBJS) $(HOST_RUNTIME) $(HOST_RUNTIME_LIBS) -lpam
