#!/bin/sh
# Benchmark 6: the real broker on a big SQLite store. p99 of token issue (host, mTLS), pending
# list (approver) and request create (engineer), one keep-alive client, first on the freshly
# seeded store (the baseline), then after bench_scale_gen grew the same file to 1 M requests and
# 10 M audit events (BENCH_SCALE scales both; default 0.2 = 200 k requests and 2 M events, as
# the full size alone takes about 6 minutes on 2 cores, most of it in audit verify); then `lockboxctl audit verify --db` over the
# whole chain, in events per second. The store lives in the benchmark's temp dir and goes
# with it.
. tests/bench/bench_env.sh

SCALE=${BENCH_SCALE:-0.2}
REQS=$($PYTHON -c "print(int(1000000 * $SCALE))")
EVENTS=$($PYTHON -c "print(int(10000000 * $SCALE))")
N=$(be_n 300 5)
be_setup || { be_log "setup failed"; exit 1; }
be_engineer benchs lbxbench-s
be_grant benchs >/dev/null || exit 1

http() { # http NAME ARGS...: N requests, one client, keep-alive
    _n=$1
    shift
    "$BENCH/bench_http" --ca "$BENV_DIR/certs/ca.crt" -c 1 -n "$N" --name "$_n" "$@"
}
# The pending list is an approver's first page (the API's default of 100) and, as a second
# figure, the largest page the API serves (500).
measure() { # measure LABEL: prints "issue-p99 pending-p99 create-p99 pending500-p99"
    _i=$(http issue --url "$BENV_URL/v1/host/token" --cert "$BENV_DIR/certs/node-7.crt" \
        --key "$BENV_DIR/certs/node-7.key" -d '{"host":"node-7","login":"lbxbench-s"}')
    _p=$(http pending --url "$BENV_URL/v1/requests?status=pending" -X GET --bearer "$BENV_TOKEN_carol")
    _p5=$(http pending --url "$BENV_URL/v1/requests?status=pending&limit=500" -X GET --bearer "$BENV_TOKEN_carol")
    _c=$(http create --url "$BENV_URL/v1/requests" --bearer "$BENV_TOKEN_alice" --expect 201 \
        -d '{"host":"node-7","ticket":"S-1","reason":"scale benchmark","duration":"1h"}')
    for _j in "$_i" "$_p" "$_c" "$_p5"; do
        echo "$_j" | $PYTHON -c 'import json,sys; j=json.load(sys.stdin); print(j["p99_ms"] if j["errors"] == 0 else -1, end=" ")'
    done
}

set -- $(measure)
b_issue=$1 b_pending=$2 b_create=$3 b_pending500=$4
benv_stop
t0=$(be_now_ms)
"$BENCH/bench_scale_gen" "$BENV_DIR/lockbox.db" "$REQS" "$EVENTS" || { be_log "generation failed"; exit 1; }
gen_s=$(($(be_now_ms) - t0))
be_log "generated $REQS requests, $EVENTS events in $gen_s ms ($(du -m "$BENV_DIR/lockbox.db" | cut -f1) MB)"
benv_start || exit 1
set -- $(measure)
issue=$1 pending=$2 create=$3 pending500=$4
benv_stop
t0=$(be_now_ms)
out=$("$BUILD_ABS/lockboxctl" audit verify --db "$BENV_DIR/lockbox.db" 2>&1)
vrc=$?
ms=$(($(be_now_ms) - t0))
total=$(benv_sql "SELECT count(*) FROM audit")
be_log "audit verify: rc=$vrc $out"
echo "{\"name\":\"scale\",\"requests\":$(benv_sql 'SELECT count(*) FROM requests'),\"audit_events\":$total,\"generate_ms\":$gen_s,\"samples\":$N,\"issue_p99_ms\":$issue,\"pending_p99_ms\":$pending,\"pending500_p99_ms\":$pending500,\"create_p99_ms\":$create,\"empty_issue_p99_ms\":$b_issue,\"empty_pending_p99_ms\":$b_pending,\"empty_pending500_p99_ms\":$b_pending500,\"empty_create_p99_ms\":$b_create,\"goal_p99_ms\":5}"
echo "{\"name\":\"audit-verify\",\"events\":$total,\"verify_ok\":$([ $vrc -eq 0 ] && echo true || echo false),\"seconds\":$($PYTHON -c "print($ms / 1000)"),\"events_per_s\":$($PYTHON -c "print(int($total / max($ms, 1) * 1000))")}"
[ $vrc -eq 0 ]
