#!/bin/sh
# The audit log: the seeds' fields on every request event, export filters and formats, and the
# hash chain catching an edited, deleted, inserted or reordered event in the SQLite file
# (tampered with the sqlite3 CLI), naming the first bad one — from the file and via the broker.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
CTL=$BENV_BUILD/lockboxctl
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"INC-1","reason":"=cmd|x disk full","duration":"1h"}' >/dev/null
benv_api carol POST /v1/requests/LBX-1/approve '{"comment":"ok"}' >/dev/null
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}' >/dev/null
benv_api carol POST /v1/requests/LBX-1/revoke '{}' >/dev/null
benv_api admin DELETE /v1/roles/8 >/dev/null
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-bob"}' >/dev/null
benv_api admin PUT /v1/policies/tenant:contoso '{"request_ttl":43200}' >/dev/null
benv_api admin DELETE "/v1/api-tokens/$(benv_sql "SELECT id FROM api_tokens WHERE identity='bob'")" >/dev/null

for a in request_created request_approved token_issued token_refused grant_revoked role_assigned \
    role_removed policy_changed api_token_created api_token_revoked; do
    check "event $a is recorded" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='$a'")" -ge 1
done
ev=$(benv_sql "SELECT body FROM audit WHERE action='request_approved'")
for f in event_id time actor tenant request_id status ticket request_expiry access_expiry host justification; do
    check "request_approved carries $f" test "$(echo "$ev" | benv_json "j[\"$f\"] is not None")" = true
done
tev=$(benv_sql "SELECT body FROM audit WHERE action='token_issued' LIMIT 1")
for f in tenant request_id status ticket request_expiry access_expiry host justification; do
    check "token_issued carries $f" test "$(echo "$tev" | benv_json "j[\"$f\"] is not None")" = true
done
check "fields hold the request's values" test "$(echo "$ev" | benv_json '[j["actor"],j["ticket"],j["host"],j["status"]]')" = '["carol", "INC-1", "node-7", "approved"]'
# Event ids sort in chain order (new ids land at the end of the unique index) and stay unique.
check "event ids sort as the chain grows" test "$(benv_sql "SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 WHERE b.event_id <= a.event_id")" -eq 0
check "event ids are distinct" test "$(benv_sql "SELECT count(DISTINCT event_id) FROM audit")" -eq "$(benv_sql "SELECT count(*) FROM audit")"
check "the audit table refuses UPDATE" sh -c "! sqlite3 '$BENV_DIR/lockbox.db' \"UPDATE audit SET action='x' WHERE seq=1\" 2>/dev/null"
check "the audit table refuses DELETE" sh -c "! sqlite3 '$BENV_DIR/lockbox.db' 'DELETE FROM audit WHERE seq=1' 2>/dev/null"

out=$(benv_ctl audrey audit export --action request_approved)
check "export --action filters" test "$(echo "$out" | wc -l)" -eq 1
check "export jsonl lines are the stored events" test "$(echo "$out" | field action)" = request_approved
total=$(benv_sql "SELECT count(*) FROM audit")
check "export without filters has every event" test "$(benv_ctl audrey audit export | wc -l)" -eq "$total"
check "--until before everything exports nothing" test -z "$(benv_ctl audrey audit export --until 2001-01-01)"
check "--since now+1d exports nothing" test -z "$(benv_ctl audrey audit export --since $(( $(date +%s) + 86400 )))"
csv=$(benv_ctl audrey audit export --format csv --action request_created)
check "csv has the header" test "$(echo "$csv" | head -1)" = "seq,event_id,time,action,actor,tenant,request_id,status,ticket,request_expiry,access_expiry,host,justification"
check "csv defuses a formula in the justification" test "${csv#*\"\'=cmd|x disk full\"}" != "$csv"
check_fails "export --format xml is a usage error" benv_ctl audrey audit export --format xml
check_fails "an engineer cannot export" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_alice $CTL audit export >/dev/null 2>&1"
out=$(benv_ctl audrey audit verify)
check "verify via the broker: OK" test "${out#audit chain OK: $total events}" != "$out"
out=$($CTL audit verify --db "$BENV_DIR/lockbox.db")
check "verify on the file: OK" test "${out#audit chain OK: $total events}" != "$out"
benv_stop

# tamper NAME SQL: a copy of the database, tampered with by the sqlite3 CLI (triggers dropped
# first, as an attacker with the file would); prints verify's message.
tamper() {
    cp "$BENV_DIR/lockbox.db" "$BENV_DIR/$1.db"
    sqlite3 "$BENV_DIR/$1.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $2"
    $CTL audit verify --db "$BENV_DIR/$1.db" 2>&1
    echo "rc=$?"
}
k=$(benv_sql "SELECT seq FROM audit WHERE action='request_approved'")
out=$(tamper edited "UPDATE audit SET body=replace(body,'\"carol\"','\"mallory\"') WHERE seq=$k")
check "edited body: verify fails" test "${out#*rc=1}" != "$out"
check "edited body: names event $k as edited" test "${out#*broken at event $k (E-*edited}" != "$out"
out=$(tamper edited-column "UPDATE audit SET action='request_denied' WHERE seq=$k")
check "edited action column: names event $k" test "${out#*broken at event $k:}" != "$out"
out=$(tamper deleted "DELETE FROM audit WHERE seq=$k")
check "deleted event: names the one after it" test "${out#*broken at event $((k + 1)) *deleted or inserted}" != "$out"
out=$(tamper reordered "UPDATE audit SET seq=-1 WHERE seq=$k; UPDATE audit SET seq=$k WHERE seq=$((k + 1)); UPDATE audit SET seq=$((k + 1)) WHERE seq=-1")
check "reordered events: names event $k" test "${out#*broken at event $k }" != "$out"
# An inserted event with a correct hash of its own, chained to nothing real.
body='{"action":"request_denied","event_id":"E-forged","prev_hash":"'$(printf '0%.0s' $(seq 64))'","seq":'$((total + 1))',"time":0}'
hash=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
out=$(tamper inserted "INSERT INTO audit (seq,event_id,time,action,body,hash) VALUES ($((total + 1)),'E-forged',0,'request_denied','$body','$hash')")
check "inserted event: named (E-forged)" test "${out#*broken at event $((total + 1)) (E-forged)}" != "$out"
out=$(tamper renumbered "DELETE FROM audit WHERE seq=$k; UPDATE audit SET seq=seq-1 WHERE seq>$k")
check "deleted and renumbered: named" test "${out#*broken at event $k }" != "$out"

# The broker on a tampered file: verification through the API sees it as well.
cp "$BENV_DIR/edited.db" "$BENV_DIR/lockbox.db"; rm -f "$BENV_DIR/lockbox.db-wal" "$BENV_DIR/lockbox.db-shm"
benv_start
out=$(benv_ctl audrey audit verify 2>&1); rc=$?
check "via the broker: a tampered chain exits 1" test $rc -eq 1
check "via the broker: names event $k" test "${out#*broken at event $k (E-*edited}" != "$out"
benv_stop
tap_done
