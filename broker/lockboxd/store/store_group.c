/* Group commit on top of any backend's transactions and savepoints (see store.h). */
#include "store.h"

const char *const store_savepoint_sql[] = {
    [STORE_SP_BEGIN] = "SAVEPOINT lbx_member",
    [STORE_SP_RELEASE] = "RELEASE SAVEPOINT lbx_member",
    [STORE_SP_ROLLBACK] = "ROLLBACK TO SAVEPOINT lbx_member; RELEASE SAVEPOINT lbx_member",
};

lbx_err store_begin(struct store *st, struct lbx_error *e)
{
    struct store_group *g = &st->group;
    lbx_err r;

    if (!g->enabled)
        return st->ops->begin(st, e);
    if (g->member)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "nested transaction");
    if (g->open && !st->ops->tx_alive(st))
        g->failed = 1; /* an I/O error rolled the whole group back */
    if (g->failed)
        return lbx_error_set(e, LBX_ERR_STORE, "the group transaction failed");
    if (!g->open) {
        if ((r = st->ops->begin(st, e)) != LBX_OK)
            return r;
        g->open = 1;
        g->opened(g->arg);
    }
    if ((r = st->ops->savepoint(st, STORE_SP_BEGIN, e)) != LBX_OK) {
        g->failed = 1;
        return r;
    }
    g->member = 1;
    return LBX_OK;
}

lbx_err store_commit(struct store *st, struct lbx_error *e)
{
    struct store_group *g = &st->group;
    lbx_err r;

    if (!g->enabled)
        return st->ops->commit(st, e);
    if (!g->member)
        return lbx_error_set(e, LBX_ERR_INTERNAL, "commit without a transaction");
    g->member = 0;
    if ((r = st->ops->savepoint(st, STORE_SP_RELEASE, e)) != LBX_OK)
        g->failed = 1;
    return r;
}

void store_rollback(struct store *st)
{
    struct store_group *g = &st->group;

    if (!g->enabled) {
        st->ops->rollback(st);
        return;
    }
    if (g->member && st->ops->savepoint(st, STORE_SP_ROLLBACK, NULL) != LBX_OK)
        g->failed = 1;
    g->member = 0;
}

void store_group_enable(struct store *st, void (*opened)(void *arg), void *arg)
{
    st->group = (struct store_group){.enabled = 1, .opened = opened, .arg = arg};
}

lbx_err store_group_commit(struct store *st, struct lbx_error *e)
{
    struct store_group *g = &st->group;
    lbx_err r = LBX_OK;

    if (!g->open)
        return LBX_OK;
    if (g->member) /* a member never left open across the event loop: a bug, fail safe */
        g->failed = 1;
    if (g->failed || !st->ops->tx_alive(st)) {
        st->ops->rollback(st);
        r = lbx_error_set(e, LBX_ERR_STORE, "the group transaction failed: rolled back");
    } else {
        r = st->ops->commit(st, e);
    }
    g->open = g->member = g->failed = 0;
    return r;
}

lbx_err store_group_disable(struct store *st, struct lbx_error *e)
{
    lbx_err r = store_group_commit(st, e);

    st->group.enabled = 0;
    return r;
}
