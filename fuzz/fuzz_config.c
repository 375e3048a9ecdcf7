/* lbx_config_parse and lbx_config_set_arg under libFuzzer, with one option of every type. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct conf {
    char *url;
    long port;
    int on;
    int64_t timeout;
};

static const struct lbx_opt table[] = {
    {"url", LBX_OPT_STRING, offsetof(struct conf, url), 0, 0},
    {"port", LBX_OPT_INT, offsetof(struct conf, port), 1, 65535},
    {"on", LBX_OPT_BOOL, offsetof(struct conf, on), 0, 1},
    {"timeout", LBX_OPT_DURATION, offsetof(struct conf, timeout), 1, 3600},
    {NULL, 0, 0, 0, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c = {0};
    struct lbx_error e;
    char *text = strndup((const char *)data, size);

    if (text == NULL)
        return 0;
    if (lbx_config_parse(text, "fuzz.conf", table, &c, &e) == LBX_OK &&
        (c.port < 0 || c.port > 65535 || c.timeout < 0 || c.timeout > 3600))
        abort();
    lbx_config_set_arg(text, "arg", table, &c, &e);
    lbx_config_free(table, &c);
    free(text);
    return 0;
}
