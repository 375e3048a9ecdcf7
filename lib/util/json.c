#include "json.h"

#include <string.h>

#include "log.h"

/* Depth of nesting measured on the raw text (strings skipped) before jansson builds anything,
 * so a hostile "[[[[[[..." costs a scan, not thousands of allocations. */
static int nesting_too_deep(const char *s, size_t len, int max_depth)
{
    int depth = 0, in_string = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"')
            in_string = 1;
        else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return 1;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return 0;
}

static lbx_err parse_top(const char *text, size_t len, size_t max_len, int max_depth,
                         json_type want, json_t **out, struct lbx_error *e)
{
    json_error_t jerr;
    json_t *v;

    *out = NULL;
    if (len > max_len)
        return lbx_error_set(e, LBX_ERR_TOO_LARGE, "json of %zu bytes exceeds %zu", len, max_len);
    if (memchr(text, '\0', len) != NULL)
        return lbx_error_set(e, LBX_ERR_JSON, "NUL byte in json");
    if (nesting_too_deep(text, len, max_depth))
        return lbx_error_set(e, LBX_ERR_JSON, "json nested deeper than %d", max_depth);
    /* Without JSON_ALLOW_NUL jansson refuses "\u0000" inside strings. */
    v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return lbx_error_set(e, LBX_ERR_JSON, "%s", jerr.text);
    if (json_typeof(v) != want) {
        json_decref(v);
        return lbx_error_set(e, LBX_ERR_JSON, "json is not an %s",
                             want == JSON_OBJECT ? "object" : "array");
    }
    *out = v;
    return LBX_OK;
}

lbx_err lbx_json_parse_object(const char *text, size_t len, size_t max_len, int max_depth,
                              json_t **out, struct lbx_error *e)
{
    return parse_top(text, len, max_len, max_depth, JSON_OBJECT, out, e);
}

lbx_err lbx_json_parse_array(const char *text, size_t len, size_t max_len, int max_depth,
                             json_t **out, struct lbx_error *e)
{
    return parse_top(text, len, max_len, max_depth, JSON_ARRAY, out, e);
}

lbx_err lbx_json_get_string(const json_t *obj, const char *key, const char **out)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL)
        return LBX_ERR_TOKEN_CLAIM_MISSING;
    if (!json_is_string(v))
        return LBX_ERR_TOKEN_CLAIM_TYPE;
    *out = json_string_value(v);
    return LBX_OK;
}

lbx_err lbx_json_get_int(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);

    *out = 0;
    if (v == NULL)
        return LBX_ERR_TOKEN_CLAIM_MISSING;
    if (!json_is_integer(v))
        return LBX_ERR_TOKEN_CLAIM_TYPE;
    *out = (int64_t)json_integer_value(v);
    return LBX_OK;
}

lbx_err lbx_json_only_keys(const json_t *obj, const char *const *allowed, struct lbx_error *e)
{
    const char *key;
    json_t *value;
    char shown[65];
    size_t i;

    json_object_foreach((json_t *)obj, key, value)
    {
        for (i = 0; allowed[i] != NULL; i++)
            if (strcmp(key, allowed[i]) == 0)
                break;
        if (allowed[i] == NULL)
            return lbx_error_set(e, LBX_ERR_TOKEN_CLAIM_UNKNOWN, "unexpected member '%s'",
                                 lbx_sanitize(shown, sizeof(shown), key));
    }
    return LBX_OK;
}

char *lbx_json_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}
