# lib/ — shared code that does network I/O (kept out of policy/ on purpose): the HTTP client.
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
NET_LIB  := $(BUILD)/liblbxnet.a
NET_LIBS :=  # libcurl is dlopened by http_client.c, never linked
CFLAGS_lib := $(call pkg_cflags,libcurl)

$(NET_LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
