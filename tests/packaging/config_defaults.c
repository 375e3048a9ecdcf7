/* config_defaults host|broker — prints the compiled-in defaults of host.conf or lockboxd.conf,
 * one "key = value" per line, through the parsers' own tables (lib/util/config.c). The
 * documentation test (t_config_defaults.sh) compares every default the documents state. */
#include <stdio.h>
#include <string.h>

#include "broker_config.h"
#include "host_config.h"

int main(int argc, char **argv)
{
    struct lbx_host_config host;
    struct broker_config broker;
    struct lbx_error e = {0};

    if (argc == 2 && strcmp(argv[1], "host") == 0) {
        if (lbx_host_config_defaults(&host, &e) != LBX_OK) {
            fprintf(stderr, "config_defaults: %s\n", e.detail);
            return 1;
        }
        lbx_host_config_dump(&host, stdout);
        lbx_host_config_free(&host);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "broker") == 0) {
        broker_config_defaults(&broker);
        broker_config_dump(&broker, stdout);
        broker_config_free(&broker);
        return 0;
    }
    fprintf(stderr, "usage: config_defaults host|broker\n");
    return 2;
}
