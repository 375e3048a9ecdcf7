#!/bin/sh
# The PostgreSQL backend against a real PostgreSQL 15 server started here (initdb + pg_ctl as
# user postgres, a temp dir, a free port on 127.0.0.1; stopped by pid and deleted at the end):
# the lifecycle, request-list, two-brokers race/crash, token issue, workers, people-loss
# (including the token-expiry migration), role-loss, lockbox-off and recordings (the recordings table's
# migration) tests run unchanged on it (BENV_DATABASE), then
# what is PostgreSQL's own: concurrent first start (migrations once), append-only audit
# triggers, tampering seen by `lockboxctl audit verify` through the API, a newer schema, a bad
# URL.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
HERE=$(dirname "$0")
if ! benv_pg_start; then
    fail "a PostgreSQL server starts"
    tap_done; exit 1
fi
ok "a PostgreSQL server runs on 127.0.0.1:$BENV_PG_PORT (pid $BENV_PG_PID)"

for t in lifecycle races list tokens workers people_loss role_loss lockbox_off recordings; do
    url=$(benv_pg_createdb "lbx_$t") || { fail "database lbx_$t"; continue; }
    diag "tests/broker/t_broker_$t.sh on $url"
    BENV_DATABASE=$url sh "$HERE/t_broker_$t.sh" || fail "t_broker_$t.sh on PostgreSQL"
done

# Two brokers starting at once on an empty database: the schema is made exactly once.
BENV_DATABASE=$(benv_pg_createdb lbx_own)
export BENV_DATABASE
benv_init
benv_config
sed -e "s|^ready_file = .*|ready_file = $BENV_DIR/port2|" "$BENV_DIR/lockboxd.conf" >"$BENV_DIR/second.conf"
"$BENV_BUILD/lockboxd" --config "$BENV_DIR/second.conf" >>"$BENV_DIR/second.log" 2>&1 &
PID2=$!
tap_cleanup "kill $PID2 2>/dev/null"
benv_start
i=0; while [ ! -s "$BENV_DIR/port2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "two brokers started at once on an empty database both serve" test -n "$BENV_PORT" -a -s "$BENV_DIR/port2"
check "the schema was migrated once (one row per migration, none twice)" test "$(benv_sql "SELECT count(*) = count(DISTINCT version) AND count(*) = max(version) AND count(*) > 1 FROM lockbox_schema")" = t
kill "$PID2"; wait "$PID2" 2>/dev/null

benv_seed
tok=$("$BENV_BUILD/lockboxd" --config "$BENV_DIR/lockboxd.conf" --create-admin admin 2>>"$BENV_DIR/lockboxd.log")
BENV_TOKEN_admin2=$tok
benv_api admin2 GET /v1/whoami >/dev/null
check "--create-admin again for an existing identity (a conflict inside the transaction) works" test "$(benv_status)" = 200
id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"PG-1","reason":"r","duration":600}' | benv_json 'j["id"]')
benv_api carol POST "/v1/requests/$id/approve" '{"comment":"ok"}' >/dev/null
check "approve on PostgreSQL: 200" test "$(benv_status)" = 200
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}' >/dev/null
check "node-7 gets its token" test "$(benv_status)" = 200
total=$(benv_sql "SELECT count(*) FROM audit")
out=$(benv_audit_verify)
check "lockboxctl audit verify through the API: OK ($total events)" test "${out#audit chain OK: $total events}" != "$out"
k=$(benv_sql "SELECT seq FROM audit WHERE action='request_approved'")
check_fails "the audit table refuses UPDATE" benv_sql "UPDATE audit SET action='x' WHERE seq=$k" 2>/dev/null
check_fails "the audit table refuses DELETE" benv_sql "DELETE FROM audit WHERE seq=$k" 2>/dev/null
check_fails "the audit table refuses TRUNCATE" benv_sql "TRUNCATE audit" 2>/dev/null
check "and nothing changed" test "$(benv_sql "SELECT count(*) FROM audit")" = "$total"
# A superuser can switch the triggers off: the chain still tells.
benv_sql "ALTER TABLE audit DISABLE TRIGGER USER; UPDATE audit SET body=replace(body,'\"carol\"','\"mallory\"') WHERE seq=$k; ALTER TABLE audit ENABLE TRIGGER USER"
out=$(benv_audit_verify); rc=$?
check "an edited event: verify through the API exits 1" test $rc -eq 1
check "  and names event $k" test "${out#*broken at event $k (E-*edited}" != "$out"

# The database restarts under a running broker: its connections are re-opened.
runuser -u postgres -- "$BENV_PG_BIN/pg_ctl" -D "$BENV_PG_DIR/data" -m fast -w restart >/dev/null 2>&1
BENV_PG_PID=$(head -1 "$BENV_PG_DIR/data/postmaster.pid")
benv_api alice GET /v1/whoami >/dev/null
check "after a database restart the broker answers again (200)" test "$(benv_status)" = 200
id=$(benv_api alice POST /v1/requests '{"host":"node-9","ticket":"PG-2","reason":"r","duration":600}' | benv_json 'j["id"]')
benv_api gina POST "/v1/requests/$id/approve" '{}' >/dev/null
check "  and transitions work (approve: 200)" test "$(benv_status)" = 200
check "  logged" grep -q "database connection re-established" "$BENV_DIR/lockboxd.log"
benv_stop

benv_sql "INSERT INTO lockbox_schema VALUES (99)"
check_fails "a database with a newer schema is refused" benv_start
check "  saying so" grep -q "newer than this broker" "$BENV_DIR/lockboxd.log"
BENV_DATABASE="postgresql://postgres@127.0.0.1:$BENV_PG_PORT/no_such_db"
benv_config
check_fails "an unreachable database stops the start" benv_start
check "  with libpq's reason" grep -q 'database: .*no_such_db' "$BENV_DIR/lockboxd.log"
tap_done
