# lockbox — top-level build. Every artifact goes to $(BUILD)/.
# Each component keeps its own rules in <dir>/module.mk; this file holds the shared flags.

BUILD    ?= build
CC       ?= cc
PKGS     := openssl jansson libevent libevent_openssl sqlite3 libssh cmocka
DEPS_STAMP := $(BUILD)/.deps-ok

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
OPT      ?= -O2 -g
SANITIZE :=
# make asan: the same build and tests under AddressSanitizer + UndefinedBehaviorSanitizer.
ifeq ($(SAN),1)
  OPT      := -O1 -g -fno-omit-frame-pointer
  HARDEN   := -fstack-protector-strong -fPIC
  SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
endif
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SANITIZE) -I. -Ipolicy -Ilib/util -Ilib/net -Ilib/host
LDFLAGS_BASE := -Wl,-z,relro,-z,now -Wl,--as-needed $(SANITIZE)
EXE_LDFLAGS := -pie $(LDFLAGS_BASE)


CFLAGS_ALL = $(CFLAGS_BASE) $(CFLAGS)
pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

.PHONY: all deps deps-test format-check test-programs check unit e2e asan valgrind bench demo clean install format programs
all: programs

# Install the Debian packages the goal needs when one is missing (root, apt-get) before anything
# else is evaluated: pkg-config answers below depend on them. Building needs the build set;
# the goals that test, demo or package add the test set (scripts/deps.sh).
TEST_GOALS := check unit e2e asan valgrind bench demo deb fuzz fuzz-build format-check
DEPS_SET   := $(if $(filter $(TEST_GOALS),$(MAKECMDGOALS)),--test)
ifeq ($(filter clean deps deps-test format,$(MAKECMDGOALS)),)
  ifneq ($(shell sh scripts/deps.sh $(DEPS_SET) >&2 && echo ok),ok)
    $(error missing Debian packages: run 'make deps$(if $(DEPS_SET),-test)' as root)
  endif
endif
$(DEPS_STAMP):
	@mkdir -p $(BUILD) && touch $@
deps:
	@sh scripts/deps.sh --force
deps-test:
	@sh scripts/deps.sh --test --force

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_$(firstword $(subst /, ,$*))) -MMD -MP -c $< -o $@

include lib/module.mk
include policy/module.mk
include broker/lockboxd/module.mk
include broker/lockboxctl/module.mk
include pam_lockbox/module.mk
include sshd_hook/reaper/module.mk
include sshd_hook/session/module.mk
include sshd_hook/host_check/module.mk
include tests/module.mk
include fuzz/module.mk
include packaging/module.mk

programs: $(PROGRAMS)

# Everything the tests run, built without running them (then: sh tests/run.sh [filter]).
test-programs: all $(TEST_PROGRAMS)

check: all $(TEST_PROGRAMS)
	@BUILD=$(BUILD) sh tests/run.sh

unit: all $(TEST_PROGRAMS)
	@BUILD=$(BUILD) sh tests/run.sh --unit

e2e: all $(TEST_PROGRAMS)
	@BUILD=$(BUILD) sh tests/run.sh --e2e

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

demo: all $(SSH_CLIENT)
	@BUILD=$(BUILD) sh scripts/demo.sh

# The benchmarks drive the test harness (pam_driver, the libssh client), so they need its programs.
bench: all $(BENCH_PROGRAMS) $(TEST_PROGRAMS)
	@BUILD=$(BUILD) sh scripts/bench.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@sh tests/style/t_format.sh

clean:
	rm -rf build build-asan build-fuzz

# Test objects are intermediate files; keep them so a second run does not rebuild.
.SECONDARY:

# The systemd lane's cached Debian root (build/systemd-lane) is full of *.d directories.
-include $(shell find $(BUILD) -path $(BUILD)/systemd-lane -prune -o -name '*.d' -type f -print 2>/dev/null)
