# broker/lockboxd/ — the broker daemon (service user lockbox; package lockbox-broker). Its layers,
# each calling only the ones below it:
#   lockboxd.c, workers.c   main, the supervising parent and its workers; broker.h is the
#                           daemon's shared state, broker_config.c its configuration
#   http/        the HTTPS server (libevent), mTLS trust and session tickets, cross-worker wakes,
#                the web console's pages
#   api/         the JSON API handlers (API.md), caller authentication, long-polls
#   transitions/ requests and grants: create, approve, deny, revoke, expire, end; policy,
#                audit events, notifications, the lifecycle timers
#   store/       SQLite / PostgreSQL behind one interface, the group commit and its thread
#   console/     the web console's sign-in (OpenID Connect) and sessions, used by
#                http/console_http.c (its pages) and api/auth.c; its pages are web/, installed
#                to $(DATADIR)/lockbox/web
BROKERD_DIRS := broker/lockboxd broker/lockboxd/http broker/lockboxd/api \
                broker/lockboxd/transitions broker/lockboxd/store broker/lockboxd/console
BROKERD_SRCS := $(foreach d,$(BROKERD_DIRS),$(wildcard $(d)/*.c))
BROKERD_OBJS := $(BROKERD_SRCS:%.c=$(BUILD)/%.o)
BROKERD_BIN  := $(BUILD)/lockboxd
BROKERD_LIBS := $(call pkg_libs,libevent libevent_openssl sqlite3 libpq libsystemd) -lpthread
PROGRAMS += $(BROKERD_BIN)
CFLAGS_broker := $(call pkg_cflags,openssl jansson libevent libevent_openssl sqlite3 libpq libsystemd) \
                 $(BROKERD_DIRS:%=-I%) -Ibroker/lockboxctl
# Everything of the daemon but its main(): what the broker's unit tests link.
BROKERD_CORE_OBJS := $(filter-out $(BUILD)/broker/lockboxd/lockboxd.o,$(BROKERD_OBJS))

$(BROKERD_BIN): $(BROKERD_OBJS) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB)
	$(CC) $(CFLAGS_ALL) $(EXE_LDFLAGS) -o $@ $(BROKERD_OBJS) $(NET_LIB) $(POLICY_LIB) $(UTIL_LIB) \
	    $(NET_LIBS) $(POLICY_LIBS) $(UTIL_LIBS) $(BROKERD_LIBS)
