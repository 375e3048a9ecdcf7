#!/bin/sh
# Benchmark 2: the real broker's token issue rate over mTLS (POST /v1/host/token as node-7 for
# an approved grant): keep-alive at 1, 16 and 64 clients, and a fresh TCP + TLS connection per
# request (as pam_lockbox does), against `openssl speed ecdsap256` signing on one core in the
# same run: every issued token costs one ES256 signature, so that is the ceiling. The broker runs
# with `workers = 2` (BENCH_WORKERS to change it; 1 is the single-process broker).
. tests/bench/bench_env.sh

BENV_WORKERS=${BENCH_WORKERS:-2}
be_setup || { be_log "setup failed"; exit 1; }
be_log "lockboxd with workers = $BENV_WORKERS"
be_engineer benchs lbxbench-s
be_grant benchs >/dev/null || exit 1
SECS=$(be_n 5 1)

# openssl speed prints "sign verify sign/s verify/s" for 256 bits (nistp256) on its last line
sign_rate() {
    openssl speed -seconds "$SECS" ecdsap256 2>/dev/null |
        awk '/256 bits ecdsa/ {print $(NF-1)}' | tail -1
}

issue() { # issue NAME CLIENTS [--fresh]
    _n=$1 _c=$2
    shift 2
    "$BENCH/bench_http" --url "$BENV_URL/v1/host/token" --ca "$BENV_DIR/certs/ca.crt" \
        --cert "$BENV_DIR/certs/node-7.crt" --key "$BENV_DIR/certs/node-7.key" \
        -d '{"host":"node-7","login":"lbxbench-s"}' --expect-text '"token":"ey' \
        -c "$_c" -t "$SECS" --name "$_n" "$@"
}

sign1=$(sign_rate)
be_log "openssl speed ecdsap256: $sign1 sign/s on one core"
for c in 1 16 64; do
    r=$(issue issue-keepalive "$c") || be_log "keep-alive x$c: some requests failed"
    echo "$r" | $PYTHON -c "import json,sys; j=json.load(sys.stdin); j['sign_per_s']=$sign1; j['ratio_vs_sign']=round(j['rps']/$sign1,3); j['workers']=$BENV_WORKERS; print(json.dumps(j))"
done
for c in 1 16; do
    r=$(issue issue-fresh-tls "$c" --fresh) || be_log "fresh x$c: some requests failed"
    echo "$r" | $PYTHON -c "import json,sys; j=json.load(sys.stdin); j['sign_per_s']=$sign1; j['ratio_vs_sign']=round(j['rps']/$sign1,3); j['workers']=$BENV_WORKERS; print(json.dumps(j))"
done
