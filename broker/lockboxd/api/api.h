/* What every HTTP handler sees: the request, its authenticated caller, a parsed JSON body, and
 * one way to answer (api_reply / api_fail). Handlers answer exactly once, or hand the request
 * to a long-poll waiter. */
#ifndef LBX_API_H
#define LBX_API_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "broker.h"
#include "caller.h"
#include "lbx_err.h"

#define API_MAX_PARAMS 3

struct api_req {
    struct broker *b;
    struct evhttp_request *req;
    enum evhttp_cmd_type method;
    struct evkeyvalq query;
    char path[512];
    const char *params[API_MAX_PARAMS]; /* the '*' segments of the route, in order */
    char param_buf[512];
    json_t *body; /* POST/PUT: the parsed object (empty object when no body) */
    struct caller caller;
    int answered;
};

/* Answers: api_reply steals obj (NULL = 204 No Content). All return 0, so that handlers (which
 * return int for that reason) can end with `return api_fail(...)`. */
int api_reply(struct api_req *ar, int status, json_t *obj);
/* The same for an object already written as JSON text (lbx_json_out); text is not taken. */
int api_reply_text(struct api_req *ar, int status, const char *text);
/* 4xx/5xx with {"error": code, "message": ...}; the status follows from the lbx_err code. */
int api_fail(struct api_req *ar, lbx_err r, const struct lbx_error *e);
int api_fail_msg(struct api_req *ar, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Body and query helpers: lbx_err with a detail naming the member. */
lbx_err api_only_keys(struct api_req *ar, const char *const *allowed, struct lbx_error *e);
lbx_err api_str(struct api_req *ar, const char *key, int required, size_t max, const char **out,
                struct lbx_error *e);
lbx_err api_query_int(struct api_req *ar, const char *key, int64_t min, int64_t max, int64_t dflt,
                      int64_t *out, struct lbx_error *e);
const char *api_query(struct api_req *ar, const char *key);
/* Refuses (LBX_ERR_ARG) a path, query parameter or body string (member names included) with a
 * character lbx_text_unsafe_at finds: tab and newline pass only in "reason" and "comment".
 * Runs before any handler, so nothing a handler stores or audits can carry one. */
lbx_err api_check_text(struct api_req *ar, struct lbx_error *e);

/* auth.c */
lbx_err auth_resolve(struct api_req *ar, int want_host, struct lbx_error *e);
/* hex SHA-256 of an API token, as stored. */
void auth_token_hash(const char *token, char out[65]);
/* API tokens live API_TOKEN_LIFETIME_DEFAULT unless their creation says otherwise (at most
 * API_TOKEN_LIFETIME_MAX). */
#define API_TOKEN_LIFETIME_DEFAULT (90 * 24 * 3600)
#define API_TOKEN_LIFETIME_MIN 60
#define API_TOKEN_LIFETIME_MAX (366 * 24 * 3600)
/* Creates a token for identity that works until `expires`: *secret (shown once, wipe it),
 * *id. Inside a transaction. */
lbx_err auth_token_create(struct store *st, const char *identity, const char *label,
                          int64_t expires, char **secret, char **id, struct lbx_error *e);

/* Handlers (api_*.c). */
int api_health(struct api_req *ar);
int api_whoami(struct api_req *ar);
int api_host_token(struct api_req *ar);
int api_host_grant(struct api_req *ar);
int api_host_session(struct api_req *ar);
int api_host_identity(struct api_req *ar);
int api_host_recording(struct api_req *ar);
int api_recordings_of(struct api_req *ar);
int api_recording_get(struct api_req *ar);
/* Whether text is a well-formed asciicast v2 recording (header, then time-ordered events). */
lbx_err recording_check(const char *text, size_t len, struct lbx_error *e);
/* Stores a host's recording of a session of request (a row) with its audit event. */
lbx_err recording_store(struct api_req *ar, const json_t *request, const char *login,
                        const char *session, const char *cast, struct lbx_error *e);
int api_request_create(struct api_req *ar);
int api_request_list(struct api_req *ar);
int api_request_get(struct api_req *ar);
int api_request_approve(struct api_req *ar);
int api_request_deny(struct api_req *ar);
int api_request_revoke(struct api_req *ar);
int api_tenants(struct api_req *ar);
int api_subscriptions(struct api_req *ar);
int api_hosts(struct api_req *ar);
int api_host_groups(struct api_req *ar);
int api_host_group_members(struct api_req *ar);
int api_identities(struct api_req *ar);
int api_identity_delete(struct api_req *ar);
int api_roles(struct api_req *ar);
int api_role_delete(struct api_req *ar);
int api_policy_get(struct api_req *ar);
int api_policy_put(struct api_req *ar);
int api_policy_list(struct api_req *ar);
int api_tokens(struct api_req *ar);
int api_token_delete(struct api_req *ar);
int api_audit_list(struct api_req *ar);

/* Answers the grant question for (host, login): 200 with a token, or 403 with a reason. The
 * lookups and the signature run now, outside any transaction; the audit event (and, for a
 * token, a re-check that the grant is still active) at the next group flush, where the
 * answer leaves once the event is durable (a 500 when it cannot be written). */
int host_token_answer(struct api_req *ar, const char *host, const char *login);

/* waiters.c: hands ar's request to a long-poll; answered when the grant/request changes from
 * `status` or `wait` seconds pass. */
enum waiter_kind { WAIT_GRANT, WAIT_REQUEST };
int waiter_add(struct api_req *ar, enum waiter_kind kind, int64_t id, const char *status,
               int64_t wait);

#endif
