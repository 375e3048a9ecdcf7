#!/bin/sh
# A flood of refused authentication does not grow the audit table without bound: per source
# and window the first audit_refusals_max refusals are audited in full, the rest counted into
# one access_refused_suppressed event; other sources keep their own budget; the table of
# sources is bounded; real callers are unaffected; the chain stays intact.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_init
benv_config "audit_refusals_max = 5" "audit_refusals_window = 4s"
benv_start || { echo "not ok - lockboxd starts"; tap_done; exit 1; }
benv_seed
full() { benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND json_extract(body,'\$.detail.source')='$1' AND json_extract(body,'\$.detail.reason')='unknown or revoked API token'"; }
suppressed() { benv_sql "SELECT coalesce(sum(json_extract(body,'\$.detail.suppressed')),0) FROM audit WHERE action='access_refused_suppressed' AND json_extract(body,'\$.detail.source')='$1'"; }
# flood N [CURL-ARGS...]: N requests with bad bearer tokens over one keep-alive connection
flood() {
    n=$1; shift
    i=0; : >"$BENV_DIR/urls"
    while [ $i -lt "$n" ]; do echo "url = \"$BENV_URL/v1/whoami\""; echo "output = /dev/null"; i=$((i + 1)); done >"$BENV_DIR/urls"
    curl -s --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: Bearer lbx_bad$n" "$@" \
        -w '%{http_code}\n' -K "$BENV_DIR/urls" | sort | uniq -c | awk '{print $2 ":" $1}'
}
before=$(benv_sql "SELECT count(*) FROM audit")
start=$(date +%s)
out=$(flood 300)
took=$(( $(date +%s) - start ))
check "300 bad tokens are all refused (401)" test "$out" = "401:300"
benv_api alice GET /v1/whoami >/dev/null
check "a real token still works during the flood" test "$(benv_status)" = 200
f=$(full 127.0.0.1)
windows=$((took / 4 + 2))
diag "flood took ${took}s (<= $windows windows of 4 s): $f audited in full"
check "at most 5 per window are audited in full" test "$f" -ge 5 -a "$f" -le $((5 * windows))
other=$(flood 8 --interface 127.0.0.2)
check "another source meanwhile has its own budget of 5" test "$(full 127.0.0.2)" -eq 5
sleep 5 # the window ends; the next timer tick writes the summaries
s=$(suppressed 127.0.0.1)
check "the summaries count the rest: audited + suppressed = 300 ($f + $s)" test $((f + s)) -eq 300
check "the other source's summary counts its 3" test "$(suppressed 127.0.0.2)" -eq 3
check "a summary names its window" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused_suppressed' AND json_extract(body,'\$.detail.window_end') - json_extract(body,'\$.detail.window_start') = 4")" -ge 2
added=$(( $(benv_sql "SELECT count(*) FROM audit") - before ))
check "308 refusals added $added audit events: bounded by time, not by requests" test "$added" -le $((6 * windows + 6))

# The same source after its window: a fresh budget; the summary of the last window is
# written at shutdown.
flood 7 >/dev/null
check "a new window audits again (5 more)" test "$(full 127.0.0.1)" -eq $((f + 5))
benv_stop
check "clean stop" test "$BENV_EXIT" -eq 0
check "the 2 refusals over the budget were summarised at shutdown" test "$(suppressed 127.0.0.1)" -eq $((s + 2))

# Many sources: the table of sources is bounded (255 + one overflow entry shared by the rest).
benv_config "audit_refusals_max = 5" "audit_refusals_window = 1m"
benv_start
seq 2 301 | awk '{printf "127.1.%d.%d\n", int($1/256), $1%256}' >"$BENV_DIR/sources"
xargs -P 4 -I{} curl -s -o /dev/null --interface {} --cacert "$BENV_DIR/certs/ca.crt" \
    -H "Authorization: Bearer lbx_many" "$BENV_URL/v1/whoami" <"$BENV_DIR/sources"
benv_stop
many=$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND json_extract(body,'\$.detail.source') LIKE '127.1.%'")
check "300 one-shot sources: 255 with their own entry + 5 from the overflow entry audited ($many)" test "$many" -eq 260
check "the overflow entry's summary counts the other 40" test "$(suppressed '(other sources)')" -eq 40
out=$($BENV_BUILD/lockboxctl audit verify --db "$BENV_DIR/lockbox.db")
check "the audit chain verifies" test "${out#audit chain OK}" != "$out"
tap_done
