# lib/ — the code every program stands on, in three libraries, each linked only by what needs it:
#   lib/util/  utilities: errors, the logger, buffers, files, the config parser, JSON, base64url,
#              durations, randomness (liblbxutil.a; no network, no policy)
#   lib/net/   network I/O: the one HTTP client (http_client.c) over its TLS transport
#              (tls_conn.c, OpenSSL's libssl), its wire format (http_wire.c, pure: unit-tested and
#              fuzzed) and the host's kept TLS session (tls_resume.c) (liblbxnet.a)
#   lib/host/  the host runtime shared by pam_lockbox.so, lockbox-reaper, lockbox-session and
#              lockbox-host-check: host.conf, run_dir layout, session records, the account
#              phase's handoff, cgroups, /proc, ending a session, systemd, the broker's host
#              endpoints and the host-side grant check (liblbxhost.a)
# Layers, bottom up: util <- policy <- net <- host; nothing includes a layer above its own.
UTIL_SRCS := $(wildcard lib/util/*.c)
UTIL_LIB  := $(BUILD)/liblbxutil.a
UTIL_LIBS := $(call pkg_libs,openssl jansson)
NET_SRCS  := $(wildcard lib/net/*.c)
NET_LIB   := $(BUILD)/liblbxnet.a
NET_LIBS  := $(call pkg_libs,libssl)
HOST_SRCS := $(wildcard lib/host/*.c)
HOST_LIB  := $(BUILD)/liblbxhost.a
CFLAGS_lib := $(call pkg_cflags,openssl jansson libsystemd)

$(UTIL_LIB): $(UTIL_SRCS:%.c=$(BUILD)/%.o)
$(NET_LIB): $(NET_SRCS:%.c=$(BUILD)/%.o)
$(HOST_LIB): $(HOST_SRCS:%.c=$(BUILD)/%.o)
$(UTIL_LIB) $(NET_LIB) $(HOST_LIB):
	@rm -f $@
	ar rcs $@ $^

# What a program on the host links, in link order (a library before the ones it uses).
HOST_RUNTIME      = $(HOST_LIB) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB)
HOST_RUNTIME_LIBS = $(NET_LIBS) $(POLICY_LIBS) $(UTIL_LIBS)
