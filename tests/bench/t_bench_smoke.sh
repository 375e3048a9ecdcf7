#!/bin/sh
# Every benchmark of `make bench`, with the smallest iteration counts, so none can rot: each
# must run, print its figures and leave valid JSON. One figure is held to a bound here, the
# one a regression already broke once: a keep-alive token call took 44 ms (Nagle against the
# client's delayed ACK) until the broker set TCP_NODELAY; it takes well under 5 ms.
. tests/support/tap.sh
BUILD=${BUILD:-build}
OUT=$(mktemp /tmp/lbx-bench-smoke.XXXXXX)
tap_cleanup "rm -f '$OUT' '$OUT.log'"
make -s BUILD="$BUILD" $(for s in tests/bench/bench_*.c; do b=${s%.c}; echo "$BUILD/$b"; done) >/dev/null 2>&1

BENCH_FAVORDYNMODS=found BENCH_ITER=0.02 BENCH_SCALE=0.0005 BENCH_OUT=$OUT sh scripts/bench.sh >"$OUT.log" 2>&1
rc=$?
check "make bench ran every benchmark without a failure" test "$rc" -eq 0
# On a failure, the lines that say what failed first (the table at the end says only what ran).
[ "$rc" -eq 0 ] || grep -n -i -E 'fail|error|not ok|traceback|timed? ?out|refused' "$OUT.log" |
    head -30 | sed 's/^/# /'
[ "$rc" -eq 0 ] || sed 's/^/# /' "$OUT.log" | tail -20
has() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; sys.exit(0 if any(eval(sys.argv[2]) for x in r) else 1)' "$OUT" "$1"; }
check "bench.json is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT"
for n in verify login issue-keepalive issue-fresh-tls teardown revocation scale audit-verify refusal refusal-sshd memory console-api console-page; do
    check "figures for $n" has "x['name'] == '$n'"
done
check "logins with and without the module and with the script all succeeded" \
    has "x['name'] == 'login' and x['stack'] == 'lockbox' and x['logins'] > 0"
check "a bystander's logins (the module loaded, not a support user) measured" \
    has "x['name'] == 'login' and x['stack'] == 'bystander' and x['mode'] == 'seq' and x['logins'] > 0"
check "the support and plain users matched on sshd's own per-user delay" \
    has "x['name'] == 'login' and x['stack'] == 'lockbox' and 5 <= x['user_pad_ms'] < 9.3"
check "16 concurrent logins: the machine's CPU per login measured for each stack" \
    has "x['name'] == 'login' and x['mode'] == 'c16' and x['stack'] == 'lockbox' and x['cpu_ms_per_login'] > 0"
check "keep-alive token call p50 under 5 ms (TCP_NODELAY)" \
    has "x['name'] == 'issue-keepalive' and x['clients'] == 1 and 0 < x['p50_ms'] < 5"
check "audit verify passed over the generated chain" has "x['name'] == 'audit-verify' and x['verify_ok']"
check "the console's Pending and Recent calls and lockboxctl's measured" \
    has "x['name'] == 'console-api' and x['mode'] == 'recent' and x['p95_ms'] > 0 and x['ctl_command_p95_ms'] > 0"
check "the Pending page became interactive in Chromium, its request cards shown" \
    has "x['name'] == 'console-page' and x['loads'] > 0 and x['cards'] > 0 and x['p95_ms'] > 0"
check "a table was printed" grep -q '^benchmark' "$OUT.log"
tap_done
