# policy/ — the rules, as pure functions every program links: grant tokens (mint, verify),
# signing and trusted keys, approver rules, the request lifecycle, the audit hash chain.
# Built on lib/util only; no I/O on the network, no host state.
POLICY_SRCS := $(wildcard policy/*.c)
POLICY_LIB  := $(BUILD)/libpolicy.a
POLICY_LIBS := $(call pkg_libs,openssl jansson)
CFLAGS_policy := $(call pkg_cflags,openssl jansson)

$(POLICY_LIB): $(POLICY_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^
