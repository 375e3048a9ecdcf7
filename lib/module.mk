# lib/ — shared code that does network I/O (kept out of policy/ on purpose): the HTTP client
# (http_client.c) on its TLS transport (tls_conn.c, OpenSSL's libssl) and wire format
# (http_wire.c, pure: unit-tested and fuzzed).
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
NET_LIB  := $(BUILD)/liblbxnet.a
NET_LIBS := $(call pkg_libs,libssl libsystemd)
CFLAGS_lib := $(call pkg_cflags,openssl libsystemd)

$(NET_LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
