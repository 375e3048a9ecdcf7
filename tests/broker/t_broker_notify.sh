#!/bin/sh
# Notifications against a real HTTPS receiver (python3, 127.0.0.1) and a real sendmail-style
# command (a script writing to files): on create to the approvers, on decision and expiry to
# the requester; retries with backoff, failures audited, API calls never held up.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_init
D=$BENV_DIR
field() { benv_json "j[\"$1\"]"; }
audit_n() { benv_sql "SELECT count(*) FROM audit WHERE action='$1'"; }
# receiver DIR FAIL_FIRST: starts one; its port in DIR/port
receiver() {
    mkdir -p "$1"
    python3 "$BENV_TOP/tests/support/webhook_receiver.py" "$D/certs/server.crt" "$D/certs/server.key" "$1" "$2" &
    eval "RPID_$(basename "$1")=$!"
    tap_cleanup "kill $! 2>/dev/null"
    i=0; while [ ! -s "$1/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# until_true SECONDS CMD...: polls CMD every 0.2 s
until_true() { t=$(( $1 * 5 )); shift; while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done; return 1; }
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
# sql_is SQL VALUE: re-evaluated on each poll
sql_is() { [ "$(benv_sql "$1")" = "$2" ]; }

receiver "$D/hook" 2
mkdir "$D/mail"
cat >"$D/mail.sh" <<'SH'
#!/bin/sh
n=$(ls "$(dirname "$0")/mail" | wc -l)
{ echo "ARGS: $*"; cat; } >"$(dirname "$0")/mail/$n"
SH
printf '#!/bin/sh\ncat >/dev/null\nexit 1\n' >"$D/fail.sh"
chmod 755 "$D/mail.sh" "$D/fail.sh"
benv_config "notify_command = $D/mail.sh" "notify_ca = $D/certs/ca.crt" "notify_backoff = 1s" \
    "notify_max_attempts = 3" "notify_timeout = 2s"
benv_start || { fail "lockboxd starts"; tap_done; exit 1; }
benv_seed
benv_api admin PUT /v1/policies/subscription:prod "{\"notify_webhook\":\"https://127.0.0.1:$(cat "$D/hook/port")/hook\"}" >/dev/null

t0=$(date +%s)
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"INC-7","reason":"disk","duration":"1h"}' >/dev/null
check "create answers at once (201)" test "$(benv_status)" = 201
check "the mail command gets the approvers' addresses" until_true 5 grep -q "^ARGS: -oi -- carol@example.test$" "$D/mail/0"
check "the message names the request" grep -q "^Subject: \[lockbox\] LBX-1 request_created" "$D/mail/0"
check "the webhook is delivered after two failures (500, 500)" until_true 8 lines "$D/hook/received" 1
check "the webhook body is the request_created event" test "$(head -1 "$D/hook/received" | field event)" = request_created
check "addressed to the approvers" test "$(head -1 "$D/hook/received" | benv_json 'j["recipients"]')" = '["carol", "dave"]'
a=$(sed -n 1p "$D/hook/attempts"); b=$(sed -n 2p "$D/hook/attempts"); c=$(sed -n 3p "$D/hook/attempts")
check "retries back off (>= 1 s, then >= 2 s)" python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); sys.exit(not (b-a>=0.9 and c-b>=1.9))" "$a" "$b" "$c"
check "each failed attempt is audited" test "$(audit_n notification_failed)" -eq 2
check "the deliveries are audited as approvers_notified" test "$(audit_n approvers_notified)" -eq 2

benv_api carol POST /v1/requests/LBX-1/approve '{}' >/dev/null
check "the decision reaches the requester by mail" until_true 5 grep -q "^ARGS: -oi -- alice@example.test$" "$D/mail/1"
check "and by webhook" until_true 5 lines "$D/hook/received" 2
check "as request_approved" test "$(sed -n 2p "$D/hook/received" | field event)" = request_approved
check "requester_notified is audited" until_true 3 sql_is "SELECT count(*) FROM audit WHERE action='requester_notified'" 2

benv_api admin PUT /v1/policies/subscription:prod "{\"request_ttl\":1,\"notify_webhook\":\"https://127.0.0.1:$(cat "$D/hook/port")/hook\"}" >/dev/null
benv_api bob POST /v1/requests '{"host":"node-7","ticket":"INC-8","reason":"r","duration":60}' >/dev/null
check "an expiry is notified" until_true 6 grep -q '"event":"request_expired"' "$D/hook/received"

# A receiver that never answers: the API is not held up; the broker gives up after 3 attempts.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0); print(s.getsockname()[1], flush=True); time.sleep(120)' >"$D/silent" &
spid=$!
tap_cleanup "kill $spid 2>/dev/null"
until_true 5 test -s "$D/silent"
benv_api admin PUT /v1/policies/subscription:prod "{\"notify_webhook\":\"https://127.0.0.1:$(cat "$D/silent")/x\"}" >/dev/null
before=$(audit_n notification_failed)
s=$(date +%s%N)
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"INC-9","reason":"r","duration":60}' >/dev/null
e=$(date +%s%N)
check "create with a silent receiver still answers within 1 s" test $(( (e - s) / 1000000 )) -lt 1000

check "after 3 attempts the entry is given up" until_true 15 sql_is "SELECT status FROM outbox WHERE kind='webhook' ORDER BY id DESC LIMIT 1" failed
check "three failures audited" test $(( $(audit_n notification_failed) - before )) -eq 3
check "the last one says no further attempt" test "$(benv_sql "SELECT json_extract(body,'\$.detail.next_attempt') IS NULL FROM audit WHERE action='notification_failed' ORDER BY seq DESC LIMIT 1")" = 1
check "the timeout is in the failure" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='notification_failed' AND body LIKE '%timed out%'")" -ge 1

# A failing mail command (reloaded with SIGHUP).
sed -i "s|^notify_command = .*|notify_command = $D/fail.sh|" "$D/lockboxd.conf"
kill -HUP "$BENV_PID"; sleep 0.5
benv_api admin PUT /v1/policies/subscription:prod '{}' >/dev/null
before=$(audit_n notification_failed)
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"INC-10","reason":"r","duration":60}' >/dev/null
check "a failing command is audited with its exit status" until_true 5 sql_is "SELECT count(*) > 0 FROM audit WHERE action='notification_failed' AND body LIKE '%exited with status 1%'" 1
check "the API call itself succeeded" test "$(benv_status)" = 201
benv_stop
check "the broker stops cleanly with deliveries pending" test "$BENV_EXIT" -eq 0
tap_done
