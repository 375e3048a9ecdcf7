/* lbx_json_parse_object under libFuzzer: whatever it accepts is an object that re-serializes. */
#include <stdint.h>
#include <stdlib.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allowed[] = {"iss", "sub", "aud", NULL};
    struct lbx_error e;
    const char *s;
    int64_t i;
    json_t *v;
    char *dump;

    if (lbx_json_parse_object((const char *)data, size, 8192, LBX_JSON_MAX_DEPTH, &v, &e) !=
        LBX_OK) {
        if (v != NULL)
            abort();
        return 0;
    }
    if (!json_is_object(v) || (dump = lbx_json_dump(v)) == NULL)
        abort();
    lbx_json_get_string(v, "sub", &s);
    lbx_json_get_int(v, "exp", &i);
    lbx_json_only_keys(v, allowed, &e);
    free(dump);
    json_decref(v);
    return 0;
}
