#!/bin/sh
# Benchmark 9: the web console on a big store. The real lockboxd with the console on, a real
# OpenID provider (glewlwyd) and headless Chromium (tests/support/console_env.sh); the SQLite
# file grown by bench_scale_gen to 1 M requests of which 10 000 pending (BENCH_SCALE scales both;
# default 1). Then:
#  - the API calls behind the Pending page (status=pending, limit=100) and the Recent page
#    (status=all, the last 28 days, limit=50), p95 over one keep-alive client, each beside the
#    call `lockboxctl list` makes for the same list (limit=500 pages) measured the same way,
#    and beside the whole `lockboxctl list` / `lockboxctl list --all` command;
#  - the Pending page in Chromium, signed in as an approver: navigation start to the first
#    enabled Approve button, over repeated full page loads (console_interactive.py).
# Goals: p95 of each console call <= 50 ms, the page interactive <= 1 s.
. tests/bench/bench_env.sh
. tests/support/console_env.sh

SCALE=${BENCH_SCALE:-1}
REQS=$($PYTHON -c "print(max(100, int(1000000 * $SCALE)))")
PENDING=$($PYTHON -c "print(max(2, int(10000 * $SCALE)))")
N=$(be_n 300 5)
RUNS=$(be_n 10 2)
LOADS=$(be_n 20 3)
BENV_LOG_LEVEL=${BENV_LOG_LEVEL:-info}
W=$(mktemp -d /tmp/lbx-bench-console.XXXXXX)
tap_cleanup "rm -rf '$W'"

# The harness's progress lines ("ok - glewlwyd runs ...") go to stderr: stdout is the figures.
cenv_boot 30m carol:pw-carol-1:carol@example.test >&2
benv_stop
t0=$(be_now_ms)
"$BENCH/bench_scale_gen" "$BENV_DIR/lockbox.db" "$REQS" 0 "$PENDING" || { be_log "generation failed"; exit 1; }
be_log "generated $REQS requests ($PENDING pending) in $(($(be_now_ms) - t0)) ms"
benv_start >&2 || exit 1

p95() { $PYTHON -c 'import math,sys; v=sorted(float(x) for x in open(sys.argv[1]) if x.strip()); print(round(v[max(0, math.ceil(0.95 * len(v)) - 1)], 3) if v else -1)' "$1"; }

call_p95() { # call_p95 LABEL QUERY: p95 ms of N keep-alive GET /v1/requests?QUERY as carol
    rm -f "$W/$1"
    "$BENCH/bench_http" --ca "$BENV_DIR/certs/ca.crt" -c 1 -n "$N" --name "$1" -X GET \
        --bearer "$BENV_TOKEN_carol" --url "$BENV_URL/v1/requests?$2" --samples "$W/$1" >"$W/$1.json" ||
        { be_log "$1: $(cat "$W/$1.json")"; echo -1; return; }
    p95 "$W/$1"
}

ctl_p95() { # ctl_p95 LABEL ARGS...: p95 ms of RUNS whole `lockboxctl ARGS` commands as carol
    _l=$1
    shift
    : >"$W/$_l"
    for _r in $(seq "$RUNS"); do
        _t=$(date +%s%N)
        benv_ctl carol "$@" >"$W/$_l.out" 2>&1 || { be_log "lockboxctl $*: $(tail -1 "$W/$_l.out")"; echo -1; return; }
        echo "$((($(date +%s%N) - _t) / 1000))" | awk '{ print $1 / 1000 }' >>"$W/$_l"
    done
    p95 "$W/$_l"
}

since=$(($(date +%s) - 28 * 86400))
pending=$(call_p95 pending "status=pending&limit=100")
recent=$(call_p95 recent "status=all&since=$since&limit=50")
ctl_pending=$(call_p95 ctl-pending "status=pending&limit=500")
ctl_recent=$(call_p95 ctl-recent "status=all&limit=500")
list=$(ctl_p95 list list)
list_rows=$(($(wc -l <"$W/list.out") - 1))
list_all=$(ctl_p95 list-all list --all)
list_all_rows=$(($(wc -l <"$W/list-all.out") - 1))

row() { # row MODE P95 CTL_CALL CTL_CMD ROWS
    echo "{\"name\":\"console-api\",\"mode\":\"$1\",\"requests\":$REQS,\"pending\":$PENDING,\"samples\":$N,\"p95_ms\":$2,\"ctl_call_p95_ms\":$3,\"ctl_command_p95_ms\":$4,\"ctl_command_rows\":$5,\"goal_p95_ms\":50}"
}
row pending "$pending" "$ctl_pending" "$list" "$list_rows"
row recent "$recent" "$ctl_recent" "$list_all" "$list_all_rows"

/usr/bin/python3 "$TOP/tests/bench/console_interactive.py" "$CONSOLE" carol pw-carol-1 "$LOADS" \
    >"$W/page.out" 2>"$W/page.err"
prc=$?
page=$(grep '^{' "$W/page.out" | tail -1)
if [ $prc -ne 0 ] || [ -z "$page" ]; then
    be_log "the Pending page in Chromium: $(tail -3 "$W/page.err" "$W/page.out")"
    exit 1
fi
echo "$page" | $PYTHON -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps(dict({"name": "console-page", "mode": "pending", "requests": int(sys.argv[1]), "pending": int(sys.argv[2])}, **j, goal_ms=1000)))' "$REQS" "$PENDING"
for f in "$pending" "$recent" "$ctl_pending" "$ctl_recent" "$list" "$list_all"; do
    [ "$f" != -1 ] || exit 1
done
