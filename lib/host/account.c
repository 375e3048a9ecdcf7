#include "account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start small (most entries are short) and double up to a bound no real entry reaches: a group
 * of a million members with 32-byte names is about 40 MiB. */
#define NSS_BUF_START 4096
#define NSS_BUF_MAX ((size_t)64 << 20)

enum nss_kind { PW_BY_NAME, PW_BY_UID, GR_BY_NAME };

struct nss_query {
    enum nss_kind kind;
    const char *name;
    uid_t uid;
    struct passwd pw;
    struct group gr;
    void *found; /* &pw or &gr once found, NULL when there is no such entry */
    char *buf;   /* the storage the entry points into; the caller frees it */
};

static int nss_call(struct nss_query *q, char *buf, size_t len)
{
    struct passwd *pw = NULL;
    struct group *gr = NULL;
    int rc;

    switch (q->kind) {
    case PW_BY_NAME:
        rc = getpwnam_r(q->name, &q->pw, buf, len, &pw);
        break;
    case PW_BY_UID:
        rc = getpwuid_r(q->uid, &q->pw, buf, len, &pw);
        break;
    default:
        rc = getgrnam_r(q->name, &q->gr, buf, len, &gr);
        break;
    }
    q->found = pw ? (void *)pw : (void *)gr;
    return rc;
}

static const char *nss_what(const struct nss_query *q, char *buf, size_t len)
{
    if (q->kind == PW_BY_UID)
        snprintf(buf, len, "uid %lu", (unsigned long)q->uid);
    else
        snprintf(buf, len, "%s %.64s", q->kind == GR_BY_NAME ? "group" : "user", q->name);
    return buf;
}

/* One lookup, its buffer doubled on ERANGE. "No such entry" is a success with no result; any
 * other error means NSS could not answer, whatever the entry would have been. */
static lbx_err nss_lookup(struct nss_query *q, struct lbx_error *e)
{
    size_t len = NSS_BUF_START;
    char what[96], *grown;
    int rc;

    q->buf = NULL;
    for (;;) {
        if ((grown = realloc(q->buf, len)) == NULL) {
            free(q->buf);
            q->buf = NULL;
            return lbx_error_set(e, LBX_ERR_NOMEM, "%s", nss_what(q, what, sizeof(what)));
        }
        q->buf = grown;
        errno = 0;
        rc = nss_call(q, q->buf, len);
        if (rc != ERANGE || len >= NSS_BUF_MAX)
            break;
        len *= 2;
    }
    if (rc == 0 && q->found != NULL)
        return LBX_OK;
    free(q->buf);
    q->buf = NULL;
    if (rc == 0)
        return lbx_error_set(e, LBX_ERR_NOT_FOUND, "no %s", nss_what(q, what, sizeof(what)));
    return lbx_error_set(e, LBX_ERR_SYSTEM, "cannot look up %s: %s",
                         nss_what(q, what, sizeof(what)), strerror(rc));
}

static lbx_err account_from(struct nss_query *q, struct lbx_account *a, struct lbx_error *e)
{
    lbx_err r;

    memset(a, 0, sizeof(*a));
    if ((r = nss_lookup(q, e)) != LBX_OK)
        return r;
    a->uid = q->pw.pw_uid;
    a->gid = q->pw.pw_gid;
    a->name = strdup(q->pw.pw_name);
    a->shell = strdup(q->pw.pw_shell ? q->pw.pw_shell : "");
    free(q->buf);
    if (a->name == NULL || a->shell == NULL) {
        lbx_account_free(a);
        return lbx_error_set(e, LBX_ERR_NOMEM, "account");
    }
    return LBX_OK;
}

lbx_err lbx_account_by_name(const char *name, struct lbx_account *a, struct lbx_error *e)
{
    struct nss_query q = {.kind = PW_BY_NAME, .name = name};

    return account_from(&q, a, e);
}

lbx_err lbx_account_by_uid(uid_t uid, struct lbx_account *a, struct lbx_error *e)
{
    struct nss_query q = {.kind = PW_BY_UID, .uid = uid};

    return account_from(&q, a, e);
}

void lbx_account_free(struct lbx_account *a)
{
    free(a->name);
    free(a->shell);
    a->name = a->shell = NULL;
}

lbx_err lbx_group_gid(const char *name, gid_t *gid, struct lbx_error *e)
{
    struct nss_query q = {.kind = GR_BY_NAME, .name = name};
    lbx_err r;

    if ((r = nss_lookup(&q, e)) != LBX_OK)
        return r;
    *gid = q.gr.gr_gid;
    free(q.buf);
    return LBX_OK;
}

lbx_err lbx_group_has(const char *group, const struct lbx_account *a, struct lbx_error *e)
{
    struct nss_query q = {.kind = GR_BY_NAME, .name = group};
    char **m;
    lbx_err r;

    if ((r = nss_lookup(&q, e)) != LBX_OK)
        return r;
    r = q.gr.gr_gid == a->gid ? LBX_OK : LBX_ERR_NOT_FOUND;
    for (m = q.gr.gr_mem; r != LBX_OK && m != NULL && *m != NULL; m++)
        if (strcmp(*m, a->name) == 0)
            r = LBX_OK;
    free(q.buf);
    return r;
}
