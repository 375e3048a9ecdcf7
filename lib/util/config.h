/* The one parser for every lockbox .conf file and for PAM module arguments.
 *
 * Format: one "key = value" per line (at most 1024 characters), blank lines ignored. A '#'
 * that starts a line or follows a blank starts a comment, also after a value. A value wrapped in
 * double quotes is taken as written ('#' and blanks included; it cannot hold a quote); a bare
 * value holds no quote and loses the blanks around it. A value is never empty. Keys are
 * described by a table; an unknown key, a bad value or a repeated key is an error that names
 * file:line. A CR before the line end is allowed, any other control character but tab is not. Both
 * module arguments and the file land in the same struct through the same table. */
#ifndef LBX_CONFIG_H
#define LBX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "file.h"
#include "lbx_err.h"

enum lbx_opt_type {
    LBX_OPT_STRING,   /* char * (malloc'd; replaced on repeat in args) */
    LBX_OPT_INT,      /* long, within [min, max] */
    LBX_OPT_BOOL,     /* int: yes/no, true/false, on/off, 1/0 */
    LBX_OPT_DURATION, /* int64_t seconds ("30s", "4h"), within [min, max] */
};

struct lbx_opt {
    const char *name;
    enum lbx_opt_type type;
    size_t offset; /* offsetof(struct your_config, field) */
    long long min, max;
};

#define LBX_CONFIG_MAX_SIZE (64 * 1024)

/* Parses path into target. trust says who may own/write the file. */
lbx_err lbx_config_load(const char *path, enum lbx_file_trust trust, const struct lbx_opt *table,
                        void *target, struct lbx_error *e);
/* Parses an in-memory text; `name` labels errors ("<name>:<line>: ..."). */
lbx_err lbx_config_parse(const char *text, const char *name, const struct lbx_opt *table,
                         void *target, struct lbx_error *e);
/* Sets one "key=value" (a PAM module argument); `where` labels errors. */
lbx_err lbx_config_set_arg(const char *arg, const char *where, const struct lbx_opt *table,
                           void *target, struct lbx_error *e);
/* Writes every option of target as "key = value" in table order, in the syntax the parser
 * reads (durations in seconds with "s", booleans yes/no, an unset string as an empty value). */
void lbx_config_dump(const struct lbx_opt *table, const void *target, FILE *out);
/* Frees every string option of target. */
void lbx_config_free(const struct lbx_opt *table, void *target);

#endif
