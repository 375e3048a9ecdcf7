/* Notification outbox and its worker thread. The worker has its own store connection; it
 * claims a due entry (a lease, so two brokers on one store do not both send it), delivers it,
 * and records the outcome with an audit event: delivered, or failed with the next attempt
 * (exponential backoff) or given up after notify_max_attempts. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "http_client.h"
#include "json.h"
#include "log.h"

struct notifier {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, kicked, started;
    struct store *st;
    char *ca, *command;
    int64_t backoff, timeout;
    long max_attempts;
};

static lbx_err add_entry(struct store *st, const char *kind, const char *target, const char *event,
                         const json_t *row, const char *payload, int64_t now, struct lbx_error *e)
{
    return store_exec(st, Q_OUTBOX_INSERT,
                      SV_PARAMS(SV_INT(now), SV_TEXT(kind), SV_TEXT(target), SV_TEXT(event),
                                SV_INT(row_int(row, "id")), SV_TEXT(payload), SV_INT(now)),
                      NULL, NULL, e);
}

/* Space-separated e-mail addresses of the recipients that have one ("" when none). */
static lbx_err emails_of(struct store *st, const json_t *recipients, struct lbx_buf *out,
                         struct lbx_error *e)
{
    json_t *n, *who = NULL;
    size_t i;
    lbx_err r = LBX_OK;

    json_array_foreach(recipients, i, n)
    {
        if (store_row(st, Q_IDENTITY_GET, SV_PARAMS(SV_TEXT(json_string_value(n))), &who, e) !=
            LBX_OK)
            continue;
        if (row_str(who, "email") != NULL)
            r = lbx_buf_printf(out, "%s%s", out->len ? " " : "", row_str(who, "email"));
        json_decref(who);
        if (r != LBX_OK)
            return lbx_error_set(e, r, "recipients");
    }
    return LBX_OK;
}

/* "url": the request's page in the web console (its route #/requests/ID in app.js), when
 * there is one. */
static int add_console_link(const struct broker *b, json_t *msg)
{
    const char *id = json_string_value(json_object_get(json_object_get(msg, "request"), "id"));
    char url[1024];

    if (b->cfg.console_url == NULL || id == NULL)
        return 0;
    snprintf(url, sizeof(url), "%s/#/requests/%s", b->cfg.console_url, id);
    return json_object_set_new(msg, "url", json_string(url));
}

lbx_err notify_enqueue(struct broker *b, struct store *st, const struct policy_eff *p,
                       const char *event, const json_t *row, const json_t *recipients,
                       struct lbx_error *e)
{
    int64_t now = (int64_t)time(NULL);
    struct lbx_buf emails;
    json_t *msg;
    char *payload;
    lbx_err r = LBX_OK;

    if (p->webhook[0] == '\0' && !(p->notify_email && b->cfg.notify_command))
        return LBX_OK;
    msg = json_pack("{s:s, s:o, s:O, s:I}", "event", event, "request", request_to_api(row),
                    "recipients", recipients, "time", (json_int_t)now);
    if (msg != NULL && add_console_link(b, msg) != 0) {
        json_decref(msg);
        msg = NULL;
    }
    payload = msg ? lbx_json_dump(msg) : NULL;
    json_decref(msg);
    if (payload == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "notification");
    lbx_buf_init(&emails, 8192);
    if (p->webhook[0] != '\0')
        r = add_entry(st, "webhook", p->webhook, event, row, payload, now, e);
    if (r == LBX_OK && p->notify_email && b->cfg.notify_command != NULL &&
        (r = emails_of(st, recipients, &emails, e)) == LBX_OK && emails.len > 0)
        r = add_entry(st, "command", emails.data, event, row, payload, now, e);
    lbx_buf_free(&emails);
    free(payload);
    return r;
}

static lbx_err deliver_webhook(struct notifier *n, const char *url, const char *payload, char *err,
                               size_t errlen)
{
    struct lbx_http_opts o = {
        .ca_file = n->ca, .timeout_ms = (long)n->timeout * 1000, .max_response = 64 * 1024};
    struct lbx_http_response resp = {0};
    struct lbx_error e = {0};
    lbx_err r = lbx_http_request(&o, "POST", url, payload, &resp, &e);

    if (r != LBX_OK)
        snprintf(err, errlen, "%s", e.detail);
    else if (resp.status < 200 || resp.status >= 300) {
        snprintf(err, errlen, "receiver answered HTTP %ld", resp.status);
        r = LBX_ERR_HTTP;
    }
    if (r == LBX_OK)
        lbx_http_response_free(&resp);
    return r;
}

static char *mail_text(const char *to, const char *payload)
{
    json_t *msg = NULL, *rq;
    const char *url;
    struct lbx_buf b;

    lbx_buf_init(&b, 64 * 1024);
    if (lbx_json_parse_object(payload, strlen(payload), 1 << 20, LBX_JSON_MAX_DEPTH, &msg, NULL) !=
        LBX_OK)
        return NULL;
    rq = json_object_get(msg, "request");
    url = json_string_value(json_object_get(msg, "url"));
    lbx_buf_printf(&b,
                   "To: %s\nSubject: [lockbox] %s %s: %s for %s (ticket %s)\n"
                   "Auto-Submitted: auto-generated\nContent-Type: %s\n\n%s%s%s%s\n",
                   to, json_string_value(json_object_get(rq, "id")),
                   json_string_value(json_object_get(msg, "event")),
                   json_string_value(json_object_get(rq, "status")),
                   json_string_value(json_object_get(rq, "login")),
                   json_string_value(json_object_get(rq, "ticket")),
                   url ? "text/plain; charset=utf-8" : "application/json",
                   url ? "Open the request in the lockbox console:\n" : "", url ? url : "",
                   url ? "\n\n" : "", payload);
    json_decref(msg);
    return lbx_buf_steal(&b);
}

/* Runs `command -oi -- addr...` with the message on stdin, bounded by the timeout. */
static lbx_err deliver_command(struct notifier *n, const char *to, const char *payload, char *err,
                               size_t errlen)
{
    char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL}, *argv[20], *list, *save, *tok;
    char *text = mail_text(to, payload);
    posix_spawn_file_actions_t fa;
    int fds[2] = {-1, -1}, status = 0, argc = 0, spawned = -1;
    int64_t waited = 0;
    pid_t pid = -1;

    list = strdup(to);
    argv[argc++] = n->command;
    argv[argc++] = "-oi";
    argv[argc++] = "--";
    for (tok = list ? strtok_r(list, " ", &save) : NULL; tok && argc < 19;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    if (text != NULL && list != NULL && pipe2(fds, O_CLOEXEC) == 0 &&
        posix_spawn_file_actions_init(&fa) == 0) {
        posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
        spawned = posix_spawn(&pid, n->command, &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (spawned == 0 && write(fds[1], text, strlen(text)) < 0)
        lbx_debug_f("notify command did not read its message");
    if (fds[1] >= 0)
        close(fds[1]);
    while (spawned == 0 && waitpid(pid, &status, WNOHANG) == 0) {
        if (waited++ >= n->timeout * 10) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "command timed out");
            spawned = -2;
            break;
        }
        usleep(100 * 1000);
    }
    free(list);
    free(text);
    if (spawned == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return LBX_OK;
    if (spawned == 0)
        snprintf(err, errlen, "command exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    else if (spawned > 0)
        snprintf(err, errlen, "cannot run %s: %s", n->command, strerror(spawned));
    else if (spawned == -1)
        snprintf(err, errlen, "cannot run %s", n->command);
    return LBX_ERR_SYSTEM;
}

static void record_outcome(struct notifier *n, const json_t *entry, lbx_err delivered,
                           const char *err, int64_t now)
{
    int64_t attempts = row_int(entry, "attempts") + 1, id = row_int(entry, "id"), next;
    const char *event = row_str(entry, "event");
    int for_approvers = !strcmp(event, "request_created") || !strcmp(event, "review_requested");
    int give_up = delivered != LBX_OK && attempts >= n->max_attempts;
    struct lbx_error e = {0};
    json_t *row = NULL;
    lbx_err r;

    /* Times are whole seconds: + 1 so that the wait is never shorter than the backoff (a
     * failure at 10.9 s with a 1 s backoff would otherwise be retried at 11.0 s). */
    next = now + 1 + (n->backoff << (attempts - 1 < 16 ? attempts - 1 : 16));
    struct audit_event ev = {
        .action = delivered == LBX_OK
                      ? (for_approvers ? "approvers_notified" : "requester_notified")
                      : "notification_failed",
        .actor = "broker",
        .detail =
            json_pack("{s:s, s:s, s:s, s:I, s:s*, s:o}", "kind", row_str(entry, "kind"), "target",
                      row_str(entry, "target"), "event", event, "attempt", (json_int_t)attempts,
                      "error", delivered == LBX_OK ? NULL : err, "next_attempt",
                      delivered == LBX_OK || give_up ? json_null() : json_integer(next))};
    if ((r = store_begin(n->st, &e)) != LBX_OK) {
        json_decref(ev.detail);
        goto out;
    }
    if (request_load(n->st, row_int(entry, "request"), &row, &e) == LBX_OK)
        ev.request = row;
    if (delivered == LBX_OK)
        r = store_change_one(n->st, Q_OUTBOX_DONE, SV_PARAMS(SV_INT(attempts), SV_INT(id)), &e);
    else if (give_up)
        r = store_change_one(n->st, Q_OUTBOX_GIVE_UP,
                             SV_PARAMS(SV_INT(attempts), SV_TEXT(err), SV_INT(id)), &e);
    else
        r = store_change_one(n->st, Q_OUTBOX_RETRY,
                             SV_PARAMS(SV_INT(attempts), SV_INT(next), SV_TEXT(err), SV_INT(id)),
                             &e);
    if (r == LBX_OK)
        r = audit_append(n->st, &ev, &e);
    else
        json_decref(ev.detail);
    if (r == LBX_OK)
        r = store_commit(n->st, &e);
    else
        store_rollback(n->st);
out:
    if (r != LBX_OK)
        lbx_error_f("outbox %lld: %s", (long long)id, e.detail);
    json_decref(row);
}

static void deliver(struct notifier *n, const json_t *entry, int64_t now)
{
    struct lbx_error e = {0};
    char err[300] = "";
    int64_t id = row_int(entry, "id");
    lbx_err r;

    /* A lease: no other worker takes it while this one tries. */
    if (store_change_one(n->st, Q_OUTBOX_CLAIM,
                         SV_PARAMS(SV_INT(now + 2 * n->timeout + 5), SV_INT(id), SV_INT(now)),
                         &e) != LBX_OK)
        return;
    if (!strcmp(row_str(entry, "kind"), "webhook"))
        r = deliver_webhook(n, row_str(entry, "target"), row_str(entry, "payload"), err,
                            sizeof(err));
    else
        r = deliver_command(n, row_str(entry, "target"), row_str(entry, "payload"), err,
                            sizeof(err));
    if (r != LBX_OK)
        lbx_warn_f("notification %lld (%s) failed: %s", (long long)id, row_str(entry, "kind"), err);
    record_outcome(n, entry, r, err, (int64_t)time(NULL));
}

static void run_due(struct notifier *n)
{
    int64_t now = (int64_t)time(NULL);
    struct lbx_error e = {0};
    json_t *rows = NULL, *row;
    size_t i;

    if (store_exec(n->st, Q_OUTBOX_DUE, SV_PARAMS(SV_INT(now)), &rows, NULL, &e) != LBX_OK) {
        lbx_error_f("outbox: %s", e.detail);
        return;
    }
    json_array_foreach(rows, i, row)
    {
        deliver(n, row, now);
    }
    json_decref(rows);
}

static void *worker(void *arg)
{
    struct notifier *n = arg;
    struct timespec until;

    for (;;) {
        pthread_mutex_lock(&n->mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!n->stop && !n->kicked &&
               pthread_cond_timedwait(&n->cv, &n->mu, &until) != ETIMEDOUT)
            ;
        n->kicked = 0;
        if (n->stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        pthread_mutex_unlock(&n->mu);
        run_due(n);
    }
    return NULL;
}

lbx_err notify_start(struct broker *b, struct lbx_error *e)
{
    struct notifier *n = calloc(1, sizeof(*n));
    lbx_err r;

    if (n == NULL)
        return lbx_error_set(e, LBX_ERR_NOMEM, "notifier");
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    n->ca = b->cfg.notify_ca ? strdup(b->cfg.notify_ca) : NULL;
    n->command = b->cfg.notify_command ? strdup(b->cfg.notify_command) : NULL;
    n->backoff = b->cfg.notify_backoff;
    n->timeout = b->cfg.notify_timeout;
    n->max_attempts = b->cfg.notify_max_attempts;
    b->notifier = n;
    if ((r = store_open(b->cfg.database, &n->st, e)) != LBX_OK)
        return r;
    if (pthread_create(&n->thread, NULL, worker, n) != 0)
        return lbx_error_set(e, LBX_ERR_SYSTEM, "cannot start the notification worker");
    n->started = 1;
    return LBX_OK;
}

static void wake_worker(struct broker *b)
{
    struct notifier *n = b->notifier;

    pthread_mutex_lock(&n->mu);
    n->kicked = 1;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void notify_kick(struct broker *b)
{
    if (b->notifier != NULL) /* after the commit: before it, its outbox rows are not visible */
        group_commit_after(b, wake_worker);
}

void notify_stop(struct broker *b)
{
    struct notifier *n = b->notifier;

    if (n == NULL)
        return;
    if (n->started) {
        pthread_mutex_lock(&n->mu);
        n->stop = 1;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    store_close(n->st);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n->ca);
    free(n->command);
    free(n);
    b->notifier = NULL;
}
