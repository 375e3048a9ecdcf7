#!/bin/sh
# Token issue under load and when its audit event cannot be written (SQLite; PostgreSQL when
# run by t_broker_pg.sh with BENV_DATABASE). A token is answered only once its token_issued
# event is durably committed (group commit: many requests' writes, one commit, then their
# answers): concurrent clients on keep-alive and fresh connections, then the chain verifies and
# holds exactly one token_issued event per 200 answered; an audit write that fails gives a 500
# and no token; SIGKILL right before a group's commit, or at a random moment under load, never
# leaves a token answered without its event.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/token_load.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }

id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-9","reason":"load","duration":"4h"}' | field id)
benv_api carol POST "/v1/requests/$id/approve" '{}' >/dev/null
ask >/dev/null
check "an approved grant gives node-7 a token" test "$(benv_status)" = 200

# Concurrent issue: every 200 carries a token and has exactly one event.
tload_concurrent
n=$(benv_sql "SELECT count(*) FROM audit WHERE action='token_issued' AND json_extract(body,'\$.request_id')='$id'")
check "every token_issued event names the request" test "$n" -eq "$(issued)"

# The audit write fails (a trigger stands in for a full disk): no token, 500, logged.
case ${BENV_DATABASE:-} in
    postgres*)
        benv_sql "CREATE FUNCTION lbx_test_fail() RETURNS trigger LANGUAGE plpgsql AS
            \$\$BEGIN RAISE EXCEPTION 'injected: disk full'; END\$\$;
            CREATE TRIGGER lbx_test_fail BEFORE INSERT ON audit FOR EACH ROW
            WHEN (NEW.action IN ('token_issued','token_refused','session_started'))
            EXECUTE FUNCTION lbx_test_fail()" ;;
    *)
        benv_sql "CREATE TRIGGER lbx_test_fail BEFORE INSERT ON audit
            WHEN NEW.action IN ('token_issued','token_refused','session_started')
            BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END" ;;
esac
before=$(issued)
out=$(ask)
check "audit write fails: 500" test "$(benv_status)" = 500
check "audit write fails: no token in the answer" test "${out#*token}" = "$out"
check "audit write fails: code internal" test "$(echo "$out" | field error)" = internal
check "audit write fails: logged" grep -q "token for support-alice on node-7 not recorded" "$BENV_DIR/lockboxd.log"
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-bob"}' >/dev/null
check "an unrecorded refusal is not answered either: 500" test "$(benv_status)" = 500
benv_host_api node-7 POST /v1/host/sessions "{\"grant_id\":\"G-${id#LBX-}\",\"login\":\"support-alice\",\"session\":\"s1\",\"event\":\"start\",\"time\":1795477754}" >/dev/null
check "an unrecorded session report: 500 (the host spools it and sends it again)" test "$(benv_status)" = 500
# fails_then_recovers LABEL SQL: under concurrency no token either and no event; once SQL has
# removed the fault, tokens again and the chain verifies.
fails_then_recovers() {
    r=$(load -c 16 -n 2 --name failing) # batches big enough for the commit thread too
    check "$1 under concurrency: not one token of 32 answered" test "$(echo "$r" | field requests)" -eq 0
    check "$1: no event was written" test "$(issued)" -eq "$before"
    benv_sql "$2"
    ask >/dev/null
    check "$1 no more: 200" test "$(benv_status)" = 200
    check "the chain verifies after: $1" chain_ok
}
fails_then_recovers "audit write fails" "DROP TRIGGER lbx_test_fail$(case ${BENV_DATABASE:-} in postgres*) echo ' ON audit' ;; esac)"

# The group's COMMIT itself fails (a deferred foreign key that every member passes, checked at
# COMMIT only): every answer of that group is a 500, no token, no event; then it recovers.
case ${BENV_DATABASE:-} in
    postgres*)
        benv_sql "CREATE TABLE lbx_test_fk (x BIGINT REFERENCES requests(id) DEFERRABLE INITIALLY DEFERRED);
            CREATE FUNCTION lbx_test_fk() RETURNS trigger LANGUAGE plpgsql AS
            \$\$BEGIN INSERT INTO lbx_test_fk VALUES (-1); RETURN NEW; END\$\$;
            CREATE TRIGGER lbx_test_fk AFTER INSERT ON audit FOR EACH ROW
            WHEN (NEW.action = 'token_issued') EXECUTE FUNCTION lbx_test_fk()" ;;
    *)
        benv_sql "CREATE TABLE lbx_test_fk (x INTEGER REFERENCES requests(id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER lbx_test_fk AFTER INSERT ON audit WHEN NEW.action = 'token_issued'
            BEGIN INSERT INTO lbx_test_fk VALUES (-1); END" ;;
esac
before=$(issued)
out=$(ask)
check "failing commit: 500" test "$(benv_status)" = 500
check "failing commit: no token in the answer" test "${out#*token}" = "$out"
check "failing commit: logged" grep -q "group commit of .* failed" "$BENV_DIR/lockboxd.log"
fails_then_recovers "failing commit" "DROP TRIGGER lbx_test_fk$(case ${BENV_DATABASE:-} in postgres*) echo ' ON audit' ;; esac); DROP TABLE lbx_test_fk"

# SIGKILL at a crash point under load (the broker restarted after): no token was answered.
crash_run() {
    benv_stop
    before=$(issued)
    BENV_DAEMON_ENV="LBX_CRASH_POINT=$1" benv_start
    r=$(load -c 8 -n 2 --name crash)
    wait "$BENV_PID" 2>/dev/null; rc=$?
    BENV_PID=
    check "$1: the broker died by SIGKILL" test $rc -eq 137
    check "$1: no token answered" test "$(echo "$r" | field requests)" -eq 0
    BENV_DAEMON_ENV= benv_start
}
# Right after a group committed, before its answers left: its events are on disk
# (answered <= recorded).
crash_run group-after-commit
check "group-after-commit: the committed group's events survived" test "$(issued)" -gt "$before"
# Right before a group commits: nothing survived.
crash_run group-before-commit
check "group-before-commit: no event survived the crash" test "$(issued)" -eq "$before"

# SIGKILL at a random moment under load: every token answered has its event (a group that
# committed before its answers left may have more events than answers, never fewer).
for round in 1 2 3; do
    tload_kill "random SIGKILL $round" 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 7 + 3 )) benv_kill9
    benv_start
done
check "the chain verifies after the crashes" chain_ok
# The broker checkpoints the WAL itself (after releasing the writer lock, not inside it): the
# events of 6400 tokens (well over 1000 WAL pages) reach the database file while it runs.
case ${BENV_DATABASE:-} in
    postgres*) ;;
    *)  db_size() { stat -c %s "$BENV_DIR/lockbox.db"; }
        db_before=$(db_size)
        load -c 16 -n 400 --name wal >/dev/null
        check "the WAL was checkpointed under load ($db_before -> $(db_size) bytes)" \
            test "$(db_size)" -gt $((db_before + 1000000)) ;;
esac
# Token batches on the commit thread while other writes (bob's requests for node-9) keep the
# loop's own group open: a small batch must never be written on the loop while that group
# holds the writer lock (the broker once hung here for good, every client timing out).
load -c 12 -t 3 --timeout 3 --name mixed-tokens >"$BENV_DIR/mix-tok.json" &
mix_tok=$!
"$BENV_BUILD/tests/bench/bench_http" --url "$BENV_URL/v1/requests" --ca "$BENV_DIR/certs/ca.crt" \
    --bearer "$BENV_TOKEN_bob" --expect 201 -c 3 -t 3 --timeout 3 --name mixed-requests \
    -d '{"host":"node-9","ticket":"T-9","reason":"load","duration":"1h"}' >"$BENV_DIR/mix-req.json"
wait "$mix_tok"
tok_n=$(benv_json 'j["requests"]' <"$BENV_DIR/mix-tok.json")
tok_err=$(benv_json 'j["errors"]' <"$BENV_DIR/mix-tok.json")
req_err=$(benv_json 'j["errors"]' <"$BENV_DIR/mix-req.json")
check "tokens and other writes at once: all answered ($tok_n tokens, $tok_err + $req_err errors)" \
    test "${tok_n:-0}" -gt 100 -a "${tok_err:-1}" -eq 0 -a "${req_err:-1}" -eq 0
benv_stop
check "SIGTERM: clean exit 0" test "$BENV_EXIT" -eq 0
tap_done
