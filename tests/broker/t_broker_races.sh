#!/bin/sh
# Exactly-once transitions: two brokers share one store (SQLite; PostgreSQL when run by
# t_broker_pg.sh with BENV_DATABASE) and race each other — two
# approvers at once, approve against deny, approve against the expiry timer — then the broker
# is killed with SIGKILL mid-transition (fault injection and at random) and restarted.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
create() { benv_api "$1" POST /v1/requests "{\"host\":\"node-7\",\"ticket\":\"T\",\"reason\":\"r\",\"duration\":${2:-3600}}" | field id; }
terminal() { benv_sql "SELECT count(*) FROM audit WHERE action IN ('request_approved','request_denied','request_expired') AND json_extract(body,'\$.request_id')='$1'"; }

# A second broker on the same database.
sed -e "s|^ready_file = .*|ready_file = $BENV_DIR/port2|" "$BENV_DIR/lockboxd.conf" >"$BENV_DIR/second.conf"
"$BENV_BUILD/lockboxd" --config "$BENV_DIR/second.conf" >>"$BENV_DIR/second.log" 2>&1 &
PID2=$!
tap_cleanup "kill $PID2 2>/dev/null"
i=0; while [ ! -s "$BENV_DIR/port2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL2="https://127.0.0.1:$(cat "$BENV_DIR/port2")"
check "a second broker serves the same store" test -s "$BENV_DIR/port2"
# post URL TOKEN PATH OUTFILE: the HTTP status into OUTFILE
post() {
    curl -s --max-time 30 --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: Bearer $2" -X POST \
        --data '{"comment":"race"}' -o /dev/null -w '%{http_code}' "$1$3" >"$4"
}

# Two approvers at once, on two brokers, 12 times.
policy_ok=0; bad=0
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
    id=$(create alice)
    post "$BENV_URL" "$BENV_TOKEN_carol" "/v1/requests/$id/approve" "$BENV_DIR/a" &
    pa=$!
    post "$URL2" "$BENV_TOKEN_dave" "/v1/requests/$id/approve" "$BENV_DIR/b" &
    pb=$!
    wait $pa; wait $pb
    codes="$(cat "$BENV_DIR/a") $(cat "$BENV_DIR/b")"
    case "$codes" in "200 409" | "409 200") ;; *) bad=$((bad + 1)); diag "$id: $codes" ;; esac
    [ "$(terminal "$id")" -eq 1 ] || bad=$((bad + 1))
    [ "$(benv_sql "SELECT count(*) FROM approvals WHERE request=${id#LBX-}")" -eq 1 ] || bad=$((bad + 1))
done
check "racing approvers: exactly one wins, one approval row, one audit event (12 rounds)" test $bad -eq 0

# Approve against deny.
bad=0
for n in 1 2 3 4 5 6 7 8 9 10; do
    id=$(create bob)
    post "$BENV_URL" "$BENV_TOKEN_carol" "/v1/requests/$id/approve" "$BENV_DIR/a" &
    pa=$!
    post "$URL2" "$BENV_TOKEN_dave" "/v1/requests/$id/deny" "$BENV_DIR/b" &
    pb=$!
    wait $pa; wait $pb
    st=$(benv_sql "SELECT status FROM requests WHERE id=${id#LBX-}")
    case "$(cat "$BENV_DIR/a") $(cat "$BENV_DIR/b") $st" in
        "200 409 approved" | "409 200 denied") ;;
        *) bad=$((bad + 1)); diag "$id: $(cat "$BENV_DIR/a") $(cat "$BENV_DIR/b") $st" ;;
    esac
    [ "$(terminal "$id")" -eq 1 ] || bad=$((bad + 1))
done
check "approve against deny: exactly one decision stands, audited once (10 rounds)" test $bad -eq 0

# Approve against the expiry timers of both brokers. request_expiry is whole seconds, so a TTL
# of 2 s is really 1..2 s: each request's approvals (carol on one broker, dave on the other, at
# once) are fired at its own request_expiry plus an offset from -0.8 s to +0.6 s: well before
# the expiry they must win, within a request's latency of it either side may, after it they must
# lose, whether or not a timer has written the expiry down yet.
benv_api admin PUT /v1/policies/subscription:prod '{"request_ttl":2}' >/dev/null
# sleep_until T OFFSET: sleep until the wall clock reads T + OFFSET (seconds, OFFSET fractional).
sleep_until() {
    python3 -c 'import sys, time; time.sleep(max(0.0, int(sys.argv[1]) + float(sys.argv[2]) - time.time()))' "$1" "$2"
}
ids=""; shots=""
for off in -0.8 -0.4 -0.1 -0.05 0 0.05 0.2 0.6; do
    r=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":3600}' |
        benv_json 'j["id"] + " " + str(j["request_expiry"])')
    id=${r% *}; ids="$ids $id"
    (
        sleep_until "${r#* }" "$off"
        post "$BENV_URL" "$BENV_TOKEN_carol" "/v1/requests/$id/approve" "$BENV_DIR/$id.a" &
        post "$URL2" "$BENV_TOKEN_dave" "/v1/requests/$id/approve" "$BENV_DIR/$id.b"
        wait
    ) &
    shots="$shots $!"
done
for p in $shots; do wait "$p"; done
# The timers expire what nobody approved within a tick (1 s).
i=0
first=${ids# }; first=${first%% *}
while [ "$(benv_sql "SELECT count(*) FROM requests WHERE status='pending' AND id >= ${first#LBX-}")" -gt 0 ] && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
bad=0; approved=0; expired=0
for id in $ids; do
    st=$(benv_sql "SELECT status FROM requests WHERE id=${id#LBX-}")
    ap=$(benv_sql "SELECT count(*) FROM approvals WHERE request=${id#LBX-}")
    codes="$(cat "$BENV_DIR/$id.a") $(cat "$BENV_DIR/$id.b")"
    case "$st $ap $codes" in
        "approved 1 200 409" | "approved 1 409 200") approved=$((approved + 1)) ;;
        "expired 0 409 409") expired=$((expired + 1)) ;;
        *) bad=$((bad + 1)); diag "$id: $st, $ap approvals, HTTP $codes" ;;
    esac
    [ "$(terminal "$id")" -eq 1 ] || { bad=$((bad + 1)); diag "$id: $(terminal "$id") terminal events"; }
    late=$(benv_sql "SELECT count(*) FROM requests WHERE id=${id#LBX-} AND status='approved' AND decided_at >= request_expiry")
    [ "$late" -eq 0 ] || bad=$((bad + 1))
done
diag "approve vs expiry: $approved approved, $expired expired"
check "approve against expiry: each request approved xor expired, one audit event, none approved late" test $bad -eq 0
check "approve against expiry: approvals won before the expiry and lost after it" test $approved -ge 1 -a $expired -ge 1
benv_api admin PUT /v1/policies/subscription:prod '{}' >/dev/null
kill "$PID2"; wait "$PID2" 2>/dev/null

# SIGKILL mid-transition (fault injection right before COMMIT), then restart.
benv_stop
for point in transition-before-commit approve-before-audit; do
    BENV_DAEMON_ENV="LBX_CRASH_POINT=$point" benv_start
    id=$(create alice)
    code=$(benv_api carol POST "/v1/requests/$id/approve" '{}' >/dev/null; benv_status)
    wait "$BENV_PID" 2>/dev/null; rc=$?
    BENV_PID=
    check "$point: the broker died by SIGKILL mid-approval (HTTP $code)" test $rc -eq 137
    BENV_DAEMON_ENV= benv_start
    check "$point: after restart the request is still pending" test "$(benv_sql "SELECT status FROM requests WHERE id=${id#LBX-}")" = pending
    check "$point: no approval and no audit event survived" test "$(terminal "$id")$(benv_sql "SELECT count(*) FROM approvals WHERE request=${id#LBX-}")" = 00
    benv_api carol POST "/v1/requests/$id/approve" '{}' >/dev/null
    check "$point: approving again works once" test "$(benv_status)$(terminal "$id")" = 2001
    benv_stop
done

# SIGKILL at a random moment in a burst of approvals, then restart: every request is either
# approved with exactly one audit event and one approval, or pending with none.
benv_start
ids=""
for n in $(seq 1 40); do ids="$ids $(create bob)"; done
posts=""
for id in $ids; do
    post "$BENV_URL" "$BENV_TOKEN_carol" "/v1/requests/$id/approve" /dev/null &
    posts="$posts $!"
done
sleep 0.0$(( $(od -An -N1 -tu1 /dev/urandom) % 9 + 1 ))
benv_kill9
for p in $posts; do wait "$p"; done
benv_start
bad=0; done_n=0
for id in $ids; do
    st=$(benv_sql "SELECT status FROM requests WHERE id=${id#LBX-}")
    ev=$(terminal "$id"); ap=$(benv_sql "SELECT count(*) FROM approvals WHERE request=${id#LBX-}")
    case "$st $ev $ap" in "approved 1 1") done_n=$((done_n + 1)) ;; "pending 0 0") ;; *) bad=$((bad + 1)); diag "$id: $st $ev $ap" ;; esac
done
diag "random SIGKILL: $done_n of 40 approvals had committed"
check "random SIGKILL: every request consistent with its audit trail" test $bad -eq 0
out=$(benv_audit_verify)
check "the audit chain verifies after all of it" test "${out#audit chain OK}" != "$out"
benv_stop
tap_done
