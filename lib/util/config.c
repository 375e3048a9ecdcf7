#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"

#define CONFIG_MAX_LINE 1024

static const struct lbx_opt *find_opt(const struct lbx_opt *table, const char *name)
{
    for (; table->name != NULL; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

static lbx_err parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
             !strcmp(v, "0"))
        *out = 0;
    else
        return LBX_ERR_CONFIG;
    return LBX_OK;
}

static lbx_err set_value(const struct lbx_opt *opt, void *target, const char *value,
                         const char *where, struct lbx_error *e)
{
    char *field = (char *)target + opt->offset, *end, *dup;
    long long n;
    int64_t secs;

    switch (opt->type) {
    case LBX_OPT_STRING:
        if ((dup = strdup(value)) == NULL)
            return lbx_error_set(e, LBX_ERR_NOMEM, "%s", where);
        free(*(char **)field);
        *(char **)field = dup;
        return LBX_OK;
    case LBX_OPT_INT:
        errno = 0;
        n = strtoll(value, &end, 10);
        if (errno || end == value || *end != '\0' || n < opt->min || n > opt->max)
            return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s must be an integer in [%lld, %lld]",
                                 where, opt->name, opt->min, opt->max);
        *(long *)field = (long)n;
        return LBX_OK;
    case LBX_OPT_BOOL:
        if (parse_bool(value, (int *)field) != LBX_OK)
            return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s must be yes or no", where, opt->name);
        return LBX_OK;
    case LBX_OPT_DURATION:
        if (lbx_duration_parse(value, &secs) != LBX_OK || secs < opt->min || secs > opt->max)
            return lbx_error_set(e, LBX_ERR_CONFIG,
                                 "%s: %s must be a duration between %llds and %llds", where,
                                 opt->name, opt->min, opt->max);
        *(int64_t *)field = secs;
        return LBX_OK;
    }
    return lbx_error_set(e, LBX_ERR_INTERNAL, "%s: bad option table", where);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char *trim(char *s)
{
    char *end;

    while (is_blank(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_blank(end[-1]))
        *--end = '\0';
    return s;
}

/* Tab is the only control character a line may hold (a CRLF line end is cut off before). */
static int has_control(const char *s)
{
    for (; *s; s++)
        if (iscntrl((unsigned char)*s) && *s != '\t')
            return 1;
    return 0;
}

/* The value after '=': "quoted" (taken as written, '#' and blanks included, up to the next
 * quote; only blanks or a comment may follow), or bare: up to a '#' that starts it or follows a
 * blank, which begins a comment, without the blanks around it. A bare value holds no quote, so
 * a quote is never half of one. Never empty. NULL on success, else why the line is refused. */
static const char *split_value(char *v, char **value)
{
    char *end;

    v += strspn(v, " \t");
    if (*v == '"') {
        if ((end = strchr(v + 1, '"')) == NULL)
            return "unterminated quote";
        *end++ = '\0';
        end += strspn(end, " \t");
        if (*end != '\0' && *end != '#')
            return "text after the closing quote (a comment starts with '#')";
        v++;
    } else {
        for (end = v; *end != '\0'; end++) {
            if (*end == '#' && (end == v || is_blank(end[-1])))
                break;
            if (*end == '"')
                return "quote inside a value (quote the whole value)";
        }
        *end = '\0';
        v = trim(v);
    }
    *value = v;
    return *v == '\0' ? "no value" : NULL;
}

/* Splits "key = value" / "key=value" in place. NULL on success, else why the line is refused. */
static const char *split_line(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');

    if (eq == NULL)
        return "expected 'key = value'";
    *eq = '\0';
    *key = trim(line);
    return **key == '\0' ? "expected 'key = value'" : split_value(eq + 1, value);
}

static lbx_err parse_line(char *line, const char *where, const struct lbx_opt *table, void *target,
                          unsigned char *seen, struct lbx_error *e)
{
    const struct lbx_opt *opt;
    char *key = NULL, *value = NULL;
    const char *why;

    why = split_line(line, &key, &value);
    if (key == NULL || *key == '\0')
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s", where, why);
    if ((opt = find_opt(table, key)) == NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: unknown key '%.64s'", where, key);
    if (why != NULL)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: %s: %s", where, opt->name, why);
    if (seen != NULL) {
        if (seen[opt - table])
            return lbx_error_set(e, LBX_ERR_CONFIG, "%s: '%s' set twice", where, key);
        seen[opt - table] = 1;
    }
    return set_value(opt, target, value, where, e);
}

lbx_err lbx_config_parse(const char *text, const char *name, const struct lbx_opt *table,
                         void *target, struct lbx_error *e)
{
    char line[CONFIG_MAX_LINE + 2], where[300], *t;
    const char *p = text, *nl;
    unsigned char *seen;
    size_t n, nopts = 0;
    unsigned lineno = 0;
    lbx_err r = LBX_OK;

    while (table[nopts].name != NULL)
        nopts++;
    if ((seen = calloc(nopts + 1, 1)) == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "%s", name);
    while (*p != '\0' && r == LBX_OK) {
        lineno++;
        nl = strchr(p, '\n');
        n = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(where, sizeof(where), "%s:%u", name, lineno);
        if (n > CONFIG_MAX_LINE) {
            r = lbx_error_set(e, LBX_ERR_CONFIG, "%s: line too long", where);
            break;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (has_control(line)) {
            r = lbx_error_set(e, LBX_ERR_CONFIG, "%s: control character", where);
            break;
        }
        t = trim(line);
        if (*t == '\0' || *t == '#')
            continue;
        r = parse_line(t, where, table, target, seen, e);
    }
    free(seen);
    return r;
}

lbx_err lbx_config_load(const char *path, enum lbx_file_trust trust, const struct lbx_opt *table,
                        void *target, struct lbx_error *e)
{
    size_t len;
    char *text;
    lbx_err r;

    if ((r = lbx_file_read(path, trust, LBX_CONFIG_MAX_SIZE, &text, &len, e)) != LBX_OK)
        return r;
    if (strlen(text) != len)
        r = lbx_error_set(e, LBX_ERR_CONFIG, "%s: NUL byte in file", path);
    else
        r = lbx_config_parse(text, path, table, target, e);
    free(text);
    return r;
}

lbx_err lbx_config_set_arg(const char *arg, const char *where, const struct lbx_opt *table,
                           void *target, struct lbx_error *e)
{
    char line[CONFIG_MAX_LINE + 1];

    if (strlen(arg) > CONFIG_MAX_LINE)
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: argument too long", where);
    if (has_control(arg))
        return lbx_error_set(e, LBX_ERR_CONFIG, "%s: control character", where);
    strcpy(line, arg);
    return parse_line(line, where, table, target, NULL, e);
}

void lbx_config_dump(const struct lbx_opt *table, const void *target, FILE *out)
{
    const char *field;

    for (; table->name != NULL; table++) {
        field = (const char *)target + table->offset;
        fprintf(out, "%s = ", table->name);
        switch (table->type) {
        case LBX_OPT_STRING:
            fputs(*(char *const *)field ? *(char *const *)field : "", out);
            break;
        case LBX_OPT_INT:
            fprintf(out, "%ld", *(const long *)field);
            break;
        case LBX_OPT_BOOL:
            fputs(*(const int *)field ? "yes" : "no", out);
            break;
        case LBX_OPT_DURATION:
            fprintf(out, "%llds", (long long)*(const int64_t *)field);
            break;
        }
        fputc('\n', out);
    }
}

void lbx_config_free(const struct lbx_opt *table, void *target)
{
    char **field;

    for (; table->name != NULL; table++) {
        if (table->type != LBX_OPT_STRING)
            continue;
        field = (char **)((char *)target + table->offset);
        free(*field);
        *field = NULL;
    }
}
