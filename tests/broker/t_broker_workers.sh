#!/bin/sh
# lockboxd with `workers = 2` (a supervising parent, two prefork workers on one store; SQLite, or
# PostgreSQL when run by t_broker_pg.sh with BENV_DATABASE): concurrent token issue keeps one
# token_issued event per token answered and the chain verifies; a revoke through one connection
# wakes grant long-polls parked on either worker within milliseconds and no token is issued
# after it; kill -9 of a worker under load: restarted, no token answered without its event; a
# SIGHUP reaches every worker; SIGTERM and kill -9 of the parent leave no worker behind; a bad
# `workers` value is refused with file:line.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/token_load.sh"
BENV_WORKERS=2
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
none_alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# wait_gone PID...: up to 5 s
wait_gone() { i=0; while ! none_alive "$@" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; none_alive "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
grant() { # grant: an approved request of alice on node-7; prints its id
    _id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-W","reason":"workers","duration":"4h"}' | field id)
    benv_api carol POST "/v1/requests/$_id/approve" '{}' >/dev/null
    echo "$_id"
}

kids=$(children "$BENV_PID")
check "two workers run under the parent" test "$(echo $kids | wc -w)" -eq 2

id=$(grant)
ask >/dev/null
check "an approved grant gives node-7 a token" test "$(benv_status)" = 200

# Concurrent issue over both workers.
tload_concurrent

# A revoke while long-polls wait on both workers and tokens are being issued (the first grant
# revoked beforehand: alice's only active grant on node-7 is the one revoked under load).
benv_api carol POST "/v1/requests/$id/revoke" '{}' >/dev/null
id=$(grant)
gid="G-${id#LBX-}"
mkdir -p "$BENV_DIR/polls"
polls=
for i in 1 2 3 4 5 6; do
    (BENV_OUT="$BENV_DIR/polls/$i"; mkdir -p "$BENV_OUT"
     benv_host_api node-7 GET "/v1/host/grants/$gid?wait=20" >/dev/null; now_ms >"$BENV_OUT/at") &
    polls="$polls $!"
done
load -c 8 -t 3 --name revoked >"$BENV_DIR/revload.json" 2>/dev/null &
lp=$!
sleep 1
benv_api carol POST "/v1/requests/$id/revoke" '{"comment":"stop"}' >/dev/null
revoked_at=$(now_ms)
check "the revoke answered 200" test "$(benv_status)" = 200
after=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    ask >/dev/null
    [ "$(benv_status)" = 403 ] || { after=$((after + 1)); diag "asked after the revoke: $(benv_status) $(cat "$BENV_DIR/body" | head -c 200)"; }
done
check "tokens answered after the revoke returned: 0 of 10 asked" test $after -eq 0
wait $lp $polls
lag_max=-100000
for i in 1 2 3 4 5 6; do
    body=$(cat "$BENV_DIR/polls/$i/body")
    [ "$(echo "$body" | field status)" = revoked ] || lag_max=99999
    lag=$(( $(cat "$BENV_DIR/polls/$i/at") - revoked_at ))
    [ $lag -gt $lag_max ] && lag_max=$lag
done
diag "6 grant long-polls answered 'revoked' at most $lag_max ms after the revoke returned"
check "every long-poll, on either worker, answers revoked within 300 ms" test $lag_max -lt 300
rev_seq=$(benv_sql "SELECT seq FROM audit WHERE action='grant_revoked' AND json_extract(body,'\$.request_id')='$id'")
late=$(benv_sql "SELECT count(*) FROM audit WHERE action='token_issued' AND seq > $rev_seq AND json_extract(body,'\$.request_id')='$id'")
check "no token_issued event after the grant_revoked event" test "$late" -eq 0
refused=$(benv_sql "SELECT count(*) FROM audit WHERE action='token_refused' AND seq > $rev_seq AND json_extract(body,'\$.detail.result')='revoked'")
check "the tokens asked after it were refused as revoked ($refused events)" test "$refused" -ge 10
check "the chain verifies after the revoke" chain_ok

# kill -9 of one worker under load: restarted, every token answered has its event.
id=$(grant)
victim=$(children "$BENV_PID" | tr ' ' '\n' | tail -1)
tload_kill "worker $victim killed" 1.5 kill -KILL "$victim"
check "the parent logged the death with its signal" grep -q "(pid $victim) died: signal 9" "$BENV_DIR/lockboxd.log"
i=0
while [ "$(children "$BENV_PID" | wc -w)" -ne 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kids=$(children "$BENV_PID")
check "a replacement worker runs: two workers, the killed one gone" \
    sh -c "test $(echo $kids | wc -w) -eq 2 && ! echo ' $kids ' | grep -q ' $victim '"
ok_after=0
for i in 1 2 3 4 5 6; do ask >/dev/null; [ "$(benv_status)" = 200 ] && ok_after=$((ok_after + 1)); done
check "service continues: 6 of 6 tokens" test $ok_after -eq 6
check "the chain verifies after the kill" chain_ok

# SIGHUP reaches every worker: a new signing key is used by all of them.
"$BENV_BUILD/lockboxctl" key generate --out "$BENV_DIR/signing2" >/dev/null
sed -i "s|^signing_key = .*|signing_key = $BENV_DIR/signing2/signing.key|" "$BENV_DIR/lockboxd.conf"
reloads=$(grep -c "configuration reloaded" "$BENV_DIR/lockboxd.log")
kill -HUP "$BENV_PID"
i=0
while [ $(( $(grep -c "configuration reloaded" "$BENV_DIR/lockboxd.log") - reloads )) -lt 3 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGHUP: the parent and both workers reloaded" \
    test $(( $(grep -c "configuration reloaded" "$BENV_DIR/lockboxd.log") - reloads )) -eq 3
newkid=$(grep "configuration reloaded" "$BENV_DIR/lockboxd.log" | tail -1 | sed 's/.*signing key \([^)]*\)).*/\1/')
bad=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    kid=$(ask | field token | cut -d. -f1 | python3 -c 'import base64,json,sys; s=sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))["kid"])')
    [ "$kid" = "$newkid" ] || bad=$((bad + 1))
done
check "12 tokens on fresh connections all signed with the reloaded key" test $bad -eq 0

# kill -9 of the parent: the workers follow it.
kids=$(children "$BENV_PID")
port=$BENV_PORT
benv_kill9
check "kill -9 of the parent: no worker left running ($kids)" wait_gone $kids
check_fails "and nothing serves the port" curl -sk --max-time 2 -o /dev/null "https://127.0.0.1:$port/v1/health"

# SIGTERM: every process gone, exit 0.
benv_start
kids=$(children "$BENV_PID")
ask >/dev/null
check "restarted with two workers, serving" test "$(echo $kids | wc -w) $(benv_status)" = "2 200"
pid=$BENV_PID
benv_stop
check "SIGTERM: the parent exits 0" test "$BENV_EXIT" -eq 0
check "SIGTERM: no process left (parent $pid, workers $kids)" none_alive "$pid" $kids

# A broker that does not stop (here stopped by SIGSTOP, so its SIGTERM waits) fails the test
# that stops it after BENV_STOP_WAIT seconds, instead of hanging it, and is killed.
benv_start
kids=$(children "$BENV_PID")
pid=$BENV_PID
kill -STOP "$pid"
t0=$(date +%s)
out=$(BENV_STOP_WAIT=1 benv_stop)
took=$(($(date +%s) - t0))
check "a broker that does not stop: benv_stop says so within its bound (${took} s)" \
    sh -c "echo \"\$0\" | grep -q 'did not stop within 1 s' && [ $took -le 3 ]" "$out"
wait "$pid" 2>/dev/null
BENV_PID=
# (its workers follow it through their parent-death signal; orphans are zombies until reaped)
none_running() { for p in "$@"; do benv__running "$p" && return 1; done; return 0; }
i=0
while ! none_running "$pid" $kids && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "and it is killed, its workers with it" none_running "$pid" $kids

# A bad workers value: refused with file:line.
for v in 0 65 two -1; do
    sed "s|^workers = .*|workers = $v|" "$BENV_DIR/lockboxd.conf" >"$BENV_DIR/bad.conf"
    line=$(grep -n "^workers" "$BENV_DIR/bad.conf" | cut -d: -f1)
    out=$("$BENV_BUILD/lockboxd" --check-config "$BENV_DIR/bad.conf" 2>&1); rc=$?
    check "workers = $v: --check-config fails naming bad.conf:$line" \
        sh -c "test $rc -eq 1 && echo \"\$0\" | grep -q 'bad.conf:$line'" "$out"
done
sed "s|^workers = .*|workers = 64|" "$BENV_DIR/lockboxd.conf" >"$BENV_DIR/max.conf"
check "workers = 64 is accepted" "$BENV_BUILD/lockboxd" --check-config "$BENV_DIR/max.conf"
tap_done
