# tests/ — cmocka unit tests (one program per tests/<area>/test_*.c) and end-to-end scripts.
UNIT_TEST_SRCS := $(wildcard tests/policy/test_*.c tests/broker/test_*.c tests/lib/test_*.c)
TEST_PROGRAMS  += $(UNIT_TEST_SRCS:%.c=$(BUILD)/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(BUILD)/%.o)
CFLAGS_tests := $(call pkg_cflags,cmocka openssl jansson) -Itests/support
TEST_LIBS := $(call pkg_libs,cmocka)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJS) $(NET_LIB) $(POLICY_LIB) $(NET_LIBS) $(POLICY_LIBS) $(TEST_LIBS) $(call pkg_libs,libjwt)

# Benchmarks (make bench): programs under tests/bench/, never run by make check.
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_PROGRAMS := $(BENCH_SRCS:%.c=$(BUILD)/%)
# Drivers with their own libraries (the generic rule above links policy + lib only).
$(BUILD)/tests/bench/bench_login: $(BUILD)/tests/bench/bench_login.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,libssh) -lpthread
$(BUILD)/tests/bench/bench_http: $(BUILD)/tests/bench/bench_http.o
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(call pkg_libs,openssl)
$(BUILD)/tests/bench/bench_scale_gen: $(BUILD)/tests/bench/bench_scale_gen.o $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(POLICY_LIB) $(POLICY_LIBS) $(call pkg_libs,sqlite3)

# The HTTP client driven from the command line (tests/lib/t_http_client.sh).
HTTP_PROBE := $(BUILD)/tests/lib/http_probe
TEST_PROGRAMS += $(HTTP_PROBE)

# The console's ID token verifier and session table (broker objects with no daemon around them).
CONSOLE_UNIT_OBJS := $(BUILD)/broker/console_idtoken.o $(BUILD)/broker/console_session.o
$(BUILD)/tests/broker/test_console_idtoken: $(BUILD)/tests/broker/test_console_idtoken.o $(CONSOLE_UNIT_OBJS) $(NET_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $< $(CONSOLE_UNIT_OBJS) $(NET_LIB) $(POLICY_LIB) $(NET_LIBS) $(POLICY_LIBS) $(TEST_LIBS) -lpthread
