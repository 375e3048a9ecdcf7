# policy/ — the shared library every program links: errors, logging, buffers, config, JSON,
# keys and grant tokens. No network I/O here.
POLICY_SRCS := $(wildcard policy/*.c)
POLICY_OBJS := $(POLICY_SRCS:%.c=$(BUILD)/%.o)
POLICY_LIB  := $(BUILD)/libpolicy.a
POLICY_LIBS := $(call pkg_libs,openssl jansson)
CFLAGS_policy := $(call pkg_cflags,openssl jansson)

$(POLICY_LIB): $(POLICY_OBJS)
	@rm -f $@
	ar rcs $@ $^
