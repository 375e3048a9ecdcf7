# fuzz/ — libFuzzer harnesses (clang, ASan + UBSan) for the code that parses hostile input.
# `make fuzz` builds them into $(FUZZ_BUILD)/ and runs each for FUZZ_SECONDS (new inputs are kept
# in $(FUZZ_BUILD)/corpus/, seeds come from fuzz/corpus/). `make check` only runs a short smoke
# (tests/policy/t_fuzz_smoke.sh).
FUZZ_BUILD    ?= build-fuzz
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 20
FUZZ_TARGETS  := token_verify json config b64url http_answer
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -I. -Ipolicy -Ilib/util -Ilib/net -Ilib/host -Itests/support $(call pkg_cflags,openssl jansson)
FUZZ_LIB_OBJS := $(UTIL_SRCS:%.c=$(FUZZ_BUILD)/%.o) $(POLICY_SRCS:%.c=$(FUZZ_BUILD)/%.o) \
                 $(FUZZ_BUILD)/lib/net/http_wire.o \
                 $(FUZZ_BUILD)/tests/support/token_forge.o
FUZZ_LIBS     := $(call pkg_libs,openssl jansson libjwt)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) $(FUZZ_LIBS) -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t || exit 1; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	        $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1 || \
	        { tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz: $$t FAILED"; exit 1; }; \
	    grep -E '^stat::number_of_executed_units' $(FUZZ_BUILD)/fuzz_$$t.log; \
	done
