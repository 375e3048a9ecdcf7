/* Backend selection and the helpers every handler uses on top of store_ops.exec. */
#include "store.h"

#include <string.h>

lbx_err store_open(const char *location, struct store **out, struct lbx_error *e)
{
    const char *path;

    switch (store_backend(location, &path)) {
    case STORE_BACKEND_SQLITE:
        return store_sqlite_open(path, out, e);
    case STORE_BACKEND_PG:
        return store_pg_open(path, out, e);
    default:
        return lbx_error_set(e, LBX_ERR_CONFIG,
                             "unsupported database URL (sqlite path or postgresql://)");
    }
}

lbx_err store_exec(struct store *st, enum store_q q, const struct store_val *params, json_t **rows,
                   int64_t *changes, struct lbx_error *e)
{
    return st->ops->exec(st, q, params, rows, changes, e);
}

lbx_err store_row(struct store *st, enum store_q q, const struct store_val *params, json_t **row,
                  struct lbx_error *e)
{
    json_t *rows = NULL;
    lbx_err r;

    *row = NULL;
    if ((r = store_exec(st, q, params, &rows, NULL, e)) != LBX_OK)
        return r;
    if (json_array_size(rows) == 0)
        r = lbx_error_set(e, LBX_ERR_NOT_FOUND, "not found");
    else
        *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return r;
}

lbx_err store_change_one(struct store *st, enum store_q q, const struct store_val *params,
                         struct lbx_error *e)
{
    int64_t changes = 0;
    lbx_err r = store_exec(st, q, params, NULL, &changes, e);

    if (r == LBX_OK && changes != 1)
        r = lbx_error_set(e, LBX_ERR_CONFLICT, "state changed meanwhile");
    return r;
}

const char *row_str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

int64_t row_int(const json_t *row, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(row, key));
}

lbx_err store_writer_lock_enable(struct store *st, struct lbx_error *e)
{
    return st->ops->writer_lock ? st->ops->writer_lock(st, e) : LBX_OK;
}
