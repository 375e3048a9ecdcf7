/* Host endpoints (mTLS): token, grant status (long-poll), session reports, identity. A host acts
 * only for the host id its certificate names. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "json.h"
#include "requests.h"

#define SESSION_ID_MAX 128

int api_host_token(struct api_req *ar)
{
    static const char *const keys[] = {"host", "login", NULL};
    struct lbx_error e = {0};
    const char *host, *login;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) ||
        (r = api_str(ar, "host", 1, LBX_NAME_MAX, &host, &e)) ||
        (r = api_str(ar, "login", 1, LBX_NAME_MAX, &login, &e)))
        return api_fail(ar, r, &e);
    if (strcmp(host, ar->caller.name) != 0) {
        struct audit_event ev = {.action = "token_refused",
                                 .actor = ar->caller.name,
                                 .host = host,
                                 .detail = json_pack("{s:s, s:s, s:s}", "login", login, "result",
                                                     "wrong_host", "certificate", ar->caller.name)};
        audit_note(ar->b->store, &ev);
        return api_reply(ar, 403,
                         json_pack("{s:s, s:s}", "error", "wrong_host", "message",
                                   "a host may only ask for its own host id"));
    }
    if (!lbx_valid_name(login))
        return api_reply(ar, 403,
                         json_pack("{s:s, s:s}", "error", "unknown_login", "message",
                                   "not a support login known to lockbox"));
    return host_token_answer(ar, host, login);
}

/* What a host needs to check its own setup (lockbox-host-setup check): that the broker accepts
 * its certificate and under which host id, and what its tokens will carry. */
int api_host_identity(struct api_req *ar)
{
    return api_reply(ar, 200,
                     json_pack("{s:s, s:s, s:s}", "host", ar->caller.name, "issuer",
                               ar->b->cfg.issuer, "kid", lbx_key_kid(ar->b->signing_key)));
}

/* A grant on a host group covers every member host. */
static int grant_covers(struct api_req *ar, const json_t *row)
{
    struct lbx_error e = {0};
    json_t *members = NULL, *m;
    size_t i;
    int found = 0;

    if (row_str(row, "host") != NULL)
        return strcmp(row_str(row, "host"), ar->caller.name) == 0;
    if (store_exec(ar->b->store, Q_GROUP_MEMBERS, SV_PARAMS(SV_TEXT(row_str(row, "host_group"))),
                   &members, NULL, &e) != LBX_OK)
        return 0;
    json_array_foreach(members, i, m)
    {
        found |= strcmp(row_str(m, "host"), ar->caller.name) == 0;
    }
    json_decref(members);
    return found;
}

/* The grant's row if it exists and is this host's; otherwise fails the request (404). */
static json_t *host_grant_row(struct api_req *ar, const char *grant_id)
{
    struct lbx_error e = {0};
    json_t *row = NULL;
    int64_t id;
    lbx_err r;

    if ((r = request_parse_id(grant_id, "G-", &id, &e)) == LBX_OK &&
        (r = request_load(ar->b->store, id, &row, &e)) == LBX_OK &&
        (grant_status(row, (int64_t)time(NULL)) == NULL || !grant_covers(ar, row)))
        r = lbx_error_set(&e, LBX_ERR_NOT_FOUND, "no grant %s for host %s", grant_id,
                          ar->caller.name);
    if (r == LBX_OK)
        return row;
    json_decref(row);
    api_fail(ar, r, &e);
    return NULL;
}

int api_host_grant(struct api_req *ar)
{
    struct lbx_error e = {0};
    const char *status;
    json_t *row;
    int64_t wait;
    lbx_err r;

    if ((r = api_query_int(ar, "wait", 0, 60, 0, &wait, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if ((row = host_grant_row(ar, ar->params[0])) == NULL)
        return 0;
    status = grant_status(row, (int64_t)time(NULL));
    if (wait > 0 && strcmp(status, "active") == 0)
        waiter_add(ar, WAIT_GRANT, row_int(row, "id"), status, wait);
    else
        api_reply(ar, 200,
                  json_pack("{s:s, s:s, s:I}", "grant_id", ar->params[0], "status", status,
                            "access_end", (json_int_t)row_int(row, "access_end")));
    json_decref(row);
    return 0;
}

static lbx_err session_input(struct api_req *ar, const char **grant, const char **login,
                             const char **session, const char **event, const char **reason,
                             int64_t *when, struct lbx_error *e)
{
    static const char *const keys[] = {"grant_id", "login", "session", "event",
                                       "reason",   "time",  NULL};
    static const char *const reasons[] = {"expired", "revoked", "exited", "error", NULL};
    lbx_err r;
    int i;

    if ((r = api_only_keys(ar, keys, e)) || (r = api_str(ar, "grant_id", 1, 32, grant, e)) ||
        (r = api_str(ar, "login", 1, LBX_NAME_MAX, login, e)) ||
        (r = api_str(ar, "session", 1, SESSION_ID_MAX, session, e)) ||
        (r = api_str(ar, "event", 1, 8, event, e)) || (r = api_str(ar, "reason", 0, 16, reason, e)))
        return r;
    if (lbx_json_get_int(ar->body, "time", when) != LBX_OK || *when <= 0)
        return lbx_error_set(e, LBX_ERR_ARG, "'time' must be a positive integer");
    if (strcmp(*event, "start") != 0 && strcmp(*event, "end") != 0)
        return lbx_error_set(e, LBX_ERR_ARG, "'event' must be start or end");
    if (strcmp(*event, "start") == 0)
        return *reason ? lbx_error_set(e, LBX_ERR_ARG, "'reason' is for end only") : LBX_OK;
    for (i = 0; *reason != NULL && reasons[i] != NULL; i++)
        if (strcmp(*reason, reasons[i]) == 0)
            return LBX_OK;
    return lbx_error_set(e, LBX_ERR_ARG, "'reason' must be expired, revoked, exited or error");
}

int api_host_session(struct api_req *ar)
{
    const char *grant, *login, *session, *event, *reason;
    char actor[LBX_NAME_MAX + 8];
    struct lbx_error e = {0};
    int64_t when;
    json_t *row;
    lbx_err r;

    if ((r = session_input(ar, &grant, &login, &session, &event, &reason, &when, &e)) != LBX_OK)
        return api_fail(ar, r, &e);
    if ((row = host_grant_row(ar, grant)) == NULL)
        return 0;
    if (strcmp(row_str(row, "login"), login) != 0) {
        json_decref(row);
        return api_fail_msg(ar, 400, "bad_request", "grant %s is not for login %s", grant, login);
    }
    snprintf(actor, sizeof(actor), "host:%s", ar->caller.name);
    struct audit_event ev = {
        .action = strcmp(event, "start") == 0 ? "session_started" : "session_ended",
        .actor = actor,
        .request = row,
        .host = ar->caller.name,
        .detail = json_pack("{s:s, s:s, s:s*, s:I}", "login", login, "session", session, "reason",
                            reason, "reported_time", (json_int_t)when)};
    r = audit_record(ar->b->store, &ev, &e);
    json_decref(row);
    if (r != LBX_OK) /* the host keeps the report and sends it again */
        return api_fail(ar, LBX_ERR_STORE, &e);
    return api_reply(ar, 204, NULL);
}

/* POST /v1/host/recordings {"grant_id", "login", "session", "cast"}: a session's asciicast,
 * for a grant of this host (any status: a session is sent after it ends). */
int api_host_recording(struct api_req *ar)
{
    static const char *const keys[] = {"grant_id", "login", "session", "cast", NULL};
    const char *grant, *login, *session, *cast;
    struct lbx_error e = {0};
    json_t *row;
    lbx_err r;

    if ((r = api_only_keys(ar, keys, &e)) || (r = api_str(ar, "grant_id", 1, 32, &grant, &e)) ||
        (r = api_str(ar, "login", 1, LBX_NAME_MAX, &login, &e)) ||
        (r = api_str(ar, "session", 1, SESSION_ID_MAX, &session, &e)) ||
        (r = api_str(ar, "cast", 1, (size_t)ar->b->cfg.max_body, &cast, &e)))
        return api_fail(ar, r, &e);
    if ((row = host_grant_row(ar, grant)) == NULL)
        return 0;
    if (strcmp(row_str(row, "login"), login) != 0)
        r = lbx_error_set(&e, LBX_ERR_ARG, "grant %s is not for login %s", grant, login);
    else
        r = recording_store(ar, row, login, session, cast, &e);
    json_decref(row);
    return r == LBX_OK ? api_reply(ar, 204, NULL) : api_fail(ar, r, &e);
}
