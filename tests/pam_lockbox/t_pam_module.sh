#!/bin/sh
# pam_lockbox.so through real libpam (pam_start_confdir, no /etc/pam.d) against the FAKE broker
# (tests/support/fake_broker.py): who is ignored, what a refusal says, hostile tokens and broken
# brokers refused within the deadline, a session opened and closed, leaks checked by valgrind.
. tests/support/tap.sh
. tests/support/hostgate_env.sh
DRIVER=$BUILD_ABS/tests/pam_lockbox/pam_driver
FORGE=$BUILD_ABS/tests/tools/forge_token

hg_fake_pair || { fail "setup"; tap_done; exit 1; }
hg_pam_service lbx
hg_pam_service fast timeout=1s
pam() { $DRIVER "$HG/pam" "$@" 2>&1 | tee -a "$HG/all.out"; }
# result OUTPUT STEP: the PAM code of a step
result() { echo "$1" | sed -n "s/^$2: \([A-Z_]*\) .*/\1/p" | head -1; }
ms() { echo "$1" | sed -n "s/^$2: [A-Z_]* \([0-9]*\)$/\1/p" | head -1; }
SU=$(id -u "$S")
# handoff: this user's hand-off entries (one per login, named <uid>-<monitor pid>-<start>.json)
handoff() { ls "$HG/run/pending/" 2>/dev/null | grep "^$SU-" | sed "s|^|$HG/run/pending/|"; }

# -- users outside the support group are never touched
hg_fake_broker_stop
out=$(pam lbx "$N" account)
check "non-support user: ignored with the broker stopped" test "$(result "$out" account)" = PAM_SUCCESS
check "non-support user: no message" test -z "$(echo "$out" | grep '^error:')"
chmod 0666 "$HG/host.conf"
out=$(pam lbx "$N" account open close)
check "non-support user: ignored with an unsafe config" test "$(result "$out" account)$(result "$out" open)" = PAM_SUCCESSPAM_SUCCESS
out=$(pam lbx "$S" account)
check "support user: unsafe config refuses" test "$(result "$out" account)" = PAM_PERM_DENIED
check "support user: told it is a configuration error" sh -c "echo '$out' | grep -q 'host configuration error'"
chmod 0644 "$HG/host.conf"
out=$($DRIVER "$HG/pam" lbx nosuchuser-lbx account 2>&1)
check "unknown account: left to sshd" test "$(result "$out" account)" = PAM_SUCCESS
hg_fake_broker_start
hg_config

# -- refusals carry the broker's reason
out=$(pam lbx "$S" account)
check "no request: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
check "no request: reason names user and host" sh -c "echo '$out' | grep -q '^error: lockbox: no approved grant for $S on $HG_HOST'"
hg_answer token 403 '{"error":"pending","message":"awaiting approval","request_id":"LBX-42","awaiting":"subscription owner"}'
out=$(pam lbx "$S" account)
check "pending: reason names request and approver" sh -c "echo '$out' | grep -q 'request LBX-42 awaits approval by the subscription owner'"
hg_answer token 403 '{"error":"denied","message":"denied by carol\u001b[31m"}'
out=$(pam lbx "$S" account)
check "denied: broker message shown" sh -c "echo '$out' | grep -q 'denied by carol?.31m'"
check "denied: escape sequence stripped" sh -c "! echo '$out' | grep -q \"$(printf '\033')\""
check "refusal left no token for the session phase" test -z "$(handoff)"

# -- a good grant
hg_grant "$S" 1h
out=$(pam lbx "$S" account)
check "grant: allowed" test "$(result "$out" account)" = PAM_SUCCESS
check "grant: token kept root-only for the session phase" test "$(stat -c %U:%a $(handoff))" = root:600
check "grant: broker saw this host's certificate and login" grep -q "POST /v1/host/token $HG_HOST {\"host\":\"$HG_HOST\",\"login\":\"$S\"}" "$HG/broker/requests"

# -- hostile tokens: each refused, none kept
$CTL key generate --out "$HG/k2" >/dev/null
kid=$(hg_mint "$S" 1h | cut -d. -f1 | tr '_-' '/+' | base64 -d 2>/dev/null | sed 's/.*"kid":"\([^"]*\)".*/\1/')
now=$(date +%s)
claims() { # claims [aud] [sub] [iat] [exp] [extra]
    echo "{\"iss\":\"lockbox\",\"sub\":\"${2:-$S}\",\"aud\":\"${1:-$HG_HOST}\",\"jti\":\"G-h\",\"iat\":${3:-$now},\"nbf\":${3:-$now},\"exp\":${4:-$((now + 3600))}${5:-}}"
}
serve() { hg_answer token 200 "{\"token\":\"$1\",\"grant_id\":\"${2:-G-h}\",\"access_end\":$((now + 3600))}"; }
refused() { # refused NAME TOKEN [GRANT-ID]
    serve "$2" "${3:-}"
    rm -f $(handoff)
    _o=$(pam fast "$S" account)
    check "hostile token refused: $1" test "$(result "$_o" account)" = PAM_PERM_DENIED -a -z "$(handoff)"
}
es() { $FORGE es256 "$HG/keys/signing.key" "$kid" "${2:-{\}}" "$1"; }
serve "$(es "$(claims)")"
out=$(pam fast "$S" account)
check "control: a correctly forged token passes (so the refusals below mean something)" test "$(result "$out" account)" = PAM_SUCCESS
refused "alg none" "$($FORGE none "$kid" "$(claims)")"
refused "HS256 keyed with the public key" "$($FORGE hs256 "$HG/keys/signing.pub" "$kid" "$(claims)")"
refused "signed by another key" "$($FORGE es256 "$HG/k2/signing.key" "$kid" '{}' "$(claims)")"
refused "wrong audience" "$(es "$(claims other-host)")"
refused "wrong subject" "$(es "$(claims "" "$N")")"
refused "expired" "$(es "$(claims "" "" $((now - 7200)) $((now - 3600)))")"
refused "exp reached, even inside the leeway" "$(es "$(claims "" "" $((now - 60)) $((now - 1)))")"
refused "lifetime over 8 h" "$(es "$(claims "" "" "$now" $((now + 8 * 3600 + 1)))")"
refused "issued in the future" "$(es "$(claims "" "" $((now + 3600)) $((now + 7200)))")"
refused "unknown claim" "$(es "$(claims "" "" "" "" ',"admin":true')")"
refused "extra header member" "$(es "$(claims)" '{"jku":"https://evil"}')"
refused "grant id differs from the token's jti" "$(es "$(claims)")" G-other
refused "garbage" "a.b.c"
hg_answer token 200 '{"token":5,"grant_id":"G-h","access_end":1}'
out=$(pam fast "$S" account)
check "hostile answer refused: token of the wrong type" test "$(result "$out" account)" = PAM_PERM_DENIED
head -c 2000000 /dev/zero | tr '\0' 'a' >"$HG/big"
{ printf '200\n{"token":"'; cat "$HG/big"; printf '"}'; } >"$HG/broker/token"
out=$(pam fast "$S" account)
check "hostile answer refused: 2 MB body" test "$(result "$out" account)" = PAM_PERM_DENIED
hg_answer token 200 'not json at all'
out=$(pam fast "$S" account)
check "hostile answer refused: not JSON" test "$(result "$out" account)" = PAM_PERM_DENIED

# -- broken brokers: refused within the deadline (1 s here) plus half a second
echo 3 >"$HG/broker/delay"
out=$(pam fast "$S" account)
check "slow broker: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
check "slow broker: within deadline + 0.5 s ($(ms "$out" account) ms)" test "$(ms "$out" account)" -lt 1500
check "slow broker: engineer told it timed out" sh -c "echo '$out' | grep -q 'broker timed out'"
rm -f "$HG/broker/delay"
hg_fake_broker_stop
out=$(pam fast "$S" account)
check "broker stopped: refused within the deadline ($(ms "$out" account) ms)" test "$(result "$out" account)" = PAM_PERM_DENIED -a "$(ms "$out" account)" -lt 1500
hg_fake_broker_start other-broker
hg_config
hg_pam_service fast timeout=1s
out=$(pam fast "$S" account)
check "broker certificate from another CA: refused (tls)" sh -c "echo '$out' | grep -q 'tls failure'"
hg_fake_broker_stop
hg_fake_broker_start
hg_config cert_file="$HG/pki/expired.crt" key_file="$HG/pki/expired.key"
sed -i '/^cert_file = .*host.crt/d; /^key_file = .*host.key/d' "$HG/host.conf"
out=$(pam fast "$S" account)
check "expired host certificate: refused ($(ms "$out" account) ms)" test "$(result "$out" account)" = PAM_PERM_DENIED -a "$(ms "$out" account)" -lt 1500
hg_config
hg_pam_service lbx "nosuchoption=1"
out=$(pam lbx "$S" account)
check "unknown module argument: support user refused" test "$(result "$out" account)" = PAM_PERM_DENIED
out=$(pam lbx "$N" account)
check "unknown module argument: others unaffected" test "$(result "$out" account)" = PAM_SUCCESS
hg_pam_service lbx

# -- the broker client is OpenSSL's libssl (next to sshd's own libcrypto), no client library
# with its ~30 dependencies loaded into every sshd. In a process with no network at all (its
# own empty network namespace) a support user is refused with a reason, everyone else unaffected.
check "pam_lockbox.so links libssl, not libcurl" sh -c "ldd '$BUILD_ABS/pam_lockbox.so' | grep -q libssl && ! ldd '$BUILD_ABS/pam_lockbox.so' | grep -q libcurl"
hg_grant "$S" 1h
out=$(unshare -n $DRIVER "$HG/pam" lbx "$S" account 2>&1)
check "no network: support user refused" test "$(result "$out" account)" = PAM_PERM_DENIED
check "no network: one line says why" sh -c "echo '$out' | grep -q '^error: lockbox: access refused for $S on $HG_HOST .* broker unreachable'"
check "no network: no token for the session phase" test -z "$(handoff)"
out=$(unshare -n $DRIVER "$HG/pam" lbx "$N" account open close 2>&1)
check "no network: others unaffected" test "$(result "$out" account)$(result "$out" open)$(result "$out" close)" = PAM_SUCCESSPAM_SUCCESSPAM_SUCCESS
out=$(pam lbx "$S" account)
check "control: the same grant with the network passes" test "$(result "$out" account)" = PAM_SUCCESS
rm -f $(handoff)

# -- session phase
rm -f $(handoff)
out=$(pam lbx "$S" open)
check "open without an accepted account phase: session error" test "$(result "$out" open)" = PAM_SESSION_ERR
# the reaper is started before the token is taken: refused there, it is given no go and leaves
check "open without an accepted account phase: no reaper left" hg_wait "! pgrep -f 'lockbox-reaper.*config=$HG/host.conf' >/dev/null" 2
hg_grant "$S" 2s
out=$(pam lbx "$S" account sleep:2100 open)
check "open after the grant's exp (inside the leeway): session error" test "$(result "$out" open)" = PAM_SESSION_ERR
hg_grant "$S" 1h
# The module reads its trusted keys once per process and keeps them for the session phase; a
# session line naming other trusted keys reads those, and a token they did not sign opens no
# session.
{
    printf 'account required %s config=%s\n' "$BUILD_ABS/pam_lockbox.so" "$HG/host.conf"
    printf 'session required %s config=%s trusted_keys=%s\n' "$BUILD_ABS/pam_lockbox.so" \
        "$HG/host.conf" "$HG/k2/signing.pub"
} >"$HG/pam/otherkeys"
out=$(pam otherkeys "$S" account open close)
check "session line with other trusted keys: account allowed, session refused" \
    test "$(result "$out" account)$(result "$out" open)" = PAM_SUCCESSPAM_SESSION_ERR
out=$(pam lbx "$S" account open close)
check "control: the same keys in both phases open the session" \
    test "$(result "$out" account)$(result "$out" open)$(result "$out" close)" = PAM_SUCCESSPAM_SUCCESSPAM_SUCCESS
 A reaper that exits at
# once (/bin/false) is gone before the module can name it (session error) or never arms; one
# that exits after a while, or hangs, never arms: lockbox-session refuses the session (a hung
# one after 5 s). Either way close leaves nothing behind, and sshd's SIGCHLD is never touched.
printf '#!/bin/sh\nsleep 0.3\nexit 1\n' >"$HG/late-false" && chmod 0755 "$HG/late-false"
printf '#!/bin/sh\nexec sleep 30\n' >"$HG/hung" && chmod 0755 "$HG/hung"
for reaper in /bin/false "$HG/late-false" "$HG/hung"; do
    name=$(basename "$reaper")
    hg_config reaper_path="$reaper"
    # the session lasts longer than the hook may wait
    $DRIVER "$HG/pam" lbx "$S" account open sleep:$([ $name = hung ] && echo 9000 || echo 500) close >"$HG/false.out" 2>&1 &
    dpid=$!
    hg_wait "grep -q '^open:' '$HG/false.out'" 5
    if grep -q '^open: PAM_SUCCESS' "$HG/false.out"; then
        rec=$(grep -l "\"monitor_pid\":$dpid," "$HG/run/sessions/"*.json 2>/dev/null | head -1)
        cg="$($PYTHON -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['cgroup_mount'] + r['cgroup_path'])" "$rec")"
        rpid=$($PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))['reaper_pid'])" "$rec")
        hout=$(sh -c "echo \$\$ >'$cg/cgroup.procs'; exec setpriv --reuid=$(id -u "$S") --regid=$(id -g "$S") --init-groups '$HG/bin/lockbox-session'" 2>&1 </dev/null)
        check "reaper $name never arms: lockbox-session refuses the session" sh -c "echo '$hout' | grep -q 'no reaper guards this session; refusing'"
        kill "$rpid" 2>/dev/null
    else
        check "reaper $name gone before it is named: session error" test "$name" = false
    fi
    wait $dpid
    out=$(cat "$HG/false.out")
    check "reaper $name: no record left" test -z "$(ls "$HG/run/sessions")"
    check "reaper $name: no cgroup left" test -z "$(ls -d /sys/fs/cgroup/unified/lockbox-test-$HG_ID/s-* 2>/dev/null)"
    check "reaper $name: sshd's SIGCHLD handler untouched" sh -c "! echo '$out' | grep -q 'sigchld: lost'"
    [ $name = false ] || check "reaper $name: the end reported as an error (it never armed)" \
        grep -q '"event":"end".*"reason":"error"' "$HG/broker/requests"
    : >"$HG/broker/requests"
done
# a reaper that cannot even be executed (posix_spawn itself fails: not a program): the same
printf 'not a program\n' >"$HG/not-a-program" && chmod 0755 "$HG/not-a-program"
hg_config reaper_path="$HG/not-a-program"
out=$(pam lbx "$S" account open)
check "reaper not executable: session error, sshd's SIGCHLD handler put back" \
    sh -c "echo '$out' | grep -q '^open: PAM_SESSION_ERR' && ! echo '$out' | grep -q 'sigchld: lost'"
hg_config
: >"$HG/broker/requests"
: >"$HG/broker/connections"
$DRIVER "$HG/pam" lbx "$S" account open sleep:3000 close >"$HG/open.out" 2>&1 &
dpid=$!
sleep 0.8
sid=$(ls "$HG/run/sessions" | sed -n 's/\.json$//p' | head -1)
check "open: session record written" test -n "$sid"
check "open: record root 0600, view 0640 for the recording group" test "$(stat -c %U:%a "$HG/run/sessions/$sid.json") $(stat -c %U:%G:%a "$HG/run/sessions/$sid.view")" = "root:600 root:$HG_RECGROUP:640"
check "open: the view holds no token" sh -c "! grep -q token '$HG/run/sessions/$sid.view'"
rpid=$($PYTHON -c "import json; print(json.load(open('$HG/run/sessions/$sid.json'))['reaper_pid'])")
check "open: reaper runs as root, detached (not sshd's child, not its session)" test "$(ps -o user=,ppid= -p "$rpid" | awk '{print $1, ($2 != '"$dpid"')}') $(ps -o sid= -p "$rpid" | tr -d ' ')" = "root 1 $(ps -o sid= -p "$rpid" | tr -d ' ')" -a "$(ps -o sid= -p "$rpid")" != "$(ps -o sid= -p "$dpid")"
# Its own: 0-2 (/dev/null), timerfd, signalfd, the watcher's pipe, syslog, and its kept broker
# connection. None may be one of sshd's (the driver's).
fd_targets() { ls -l "/proc/$1/fd" | awk '/->/ { print $NF }' | grep -vx /dev/null | sort -u; }
reaper_fds_own() { [ "$(ls /proc/$rpid/fd | wc -l)" -le 11 ] && ! { fd_targets $rpid; fd_targets $dpid; } | sort | uniq -d | grep -q .; }
check "open: reaper holds no inherited descriptor" reaper_fds_own
# It starts up at a lower priority (the start report's TLS handshake) and must be back at the normal
# one, watcher thread included, once it watches the session.
check "open: reaper and its watcher back at priority 0 once running" test "$(ps -L -o ni= -p "$rpid" | tr -d ' ' | sort -u)" = 0
check "open: the 'sshd' (driver) is in the session cgroup" grep -q "0::/lockbox-test-$HG_ID/$sid" /proc/$dpid/cgroup
wait $dpid
out=$(cat "$HG/open.out")
check "open then close: success" test "$(result "$out" open)$(result "$out" close)" = PAM_SUCCESSPAM_SUCCESS
check "close: record removed" test ! -e "$HG/run/sessions/$sid.json"
check "close: cgroup removed" test ! -d "/sys/fs/cgroup/unified/lockbox-test-$HG_ID/$sid"
check "close: reaper gone within 2 s" hg_wait "hg_gone $rpid" 2
check "broker told: session start and end (exited)" sh -c "grep -q '\"event\":\"start\".*\"session\":\"$sid\"' '$HG/broker/requests' && grep -q '\"event\":\"end\".*\"reason\":\"exited\".*\"session\":\"$sid\"' '$HG/broker/requests'"
# The reaper keeps one connection for its start report and its grant polls (a TLS handshake
# less per session); a broker that closes connections gets a fresh one for every call.
port_of() { awk -v m="$1" -v p="$2" '$2 == m && index($3, p) == 1 { print $1; exit }' "$HG/broker/connections"; }
check "reaper: start report and first grant poll on one kept connection" sh -c \
    "[ -n '$(port_of POST /v1/host/sessions)' ] && [ '$(port_of POST /v1/host/sessions)' = '$(port_of GET /v1/host/grants/)' ]"
: >"$HG/broker/connections"
touch "$HG/broker/close"
hg_config poll_interval=1
$DRIVER "$HG/pam" lbx "$S" account open sleep:2500 close >"$HG/open.out" 2>&1
rm -f "$HG/broker/close"
hg_config
check "broker closing every connection: session opened and closed" test "$(result "$(cat "$HG/open.out")" open)$(result "$(cat "$HG/open.out")" close)" = PAM_SUCCESSPAM_SUCCESS
check "broker closing every connection: start report and grant polls on fresh connections" sh -c \
    "[ \$(awk '\$2 == \"GET\"' '$HG/broker/connections' | wc -l) -ge 2 ] && [ \$(awk '{ print \$1 }' '$HG/broker/connections' | sort -u | wc -l) -eq \$(wc -l <'$HG/broker/connections') ]"

# -- two logins of one user interleaved: account A, account B, open A, open B. Each session
# must open with the token its own account phase accepted (a per-user hand-off gave A B's).
hg_grant "$S" 1h G-first
$DRIVER "$HG/pam" lbx "$S" account sleep:1500 open sleep:1500 close >"$HG/a.out" 2>&1 &
apid=$!
hg_wait "grep -q '^account:' '$HG/a.out' 2>/dev/null" 5
hg_grant "$S" 1h G-second
$DRIVER "$HG/pam" lbx "$S" account sleep:1000 open sleep:1500 close >"$HG/b.out" 2>&1 &
bpid=$!
hg_wait "grep -q '^account:' '$HG/b.out' 2>/dev/null" 5
check "interleaved: two accepted entries wait, one per login" test "$(handoff | wc -l)" -ge 2
grant_of() { # grant_of MONITOR-PID: grant id in the session record of that monitor
    _r=$(grep -l "\"monitor_pid\":$1," "$HG/run/sessions/"*.json 2>/dev/null | head -1)
    [ -n "$_r" ] && $PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))['grant_id'])" "$_r"
}
hg_wait "[ -n \"\$(grant_of $apid)\" ] && [ -n \"\$(grant_of $bpid)\" ]" 5
ga=$(grant_of $apid)
gb=$(grant_of $bpid)
check "interleaved: first login's session has its own token ($ga)" test "$ga" = G-first
check "interleaved: second login's session has its own token ($gb)" test "$gb" = G-second
wait $apid $bpid
check "interleaved: both open and close" test "$(grep -c 'PAM_SUCCESS' "$HG/a.out" "$HG/b.out" | cut -d: -f2 | tr '\n' ' ')" = "3 3 "
check "interleaved: every opened login's hand-off is consumed" test -z "$(handoff | grep -e "-$apid-" -e "-$bpid-")"
out=$(pam lbx "$S" account)
check "hand-offs of logins whose process is gone are swept" test "$(handoff | wc -l)" -eq 1

# -- valgrind: a refusal, an allowed login and a whole session, in one process
if [ -n "$HG_ASAN" ]; then
    hg_grant "$S" 1h
    pam lbx "$S" account open close >/dev/null
    check "ASan/LSan: no report from any driver run" sh -c "! grep -q 'Sanitizer\|runtime error' '$HG/all.out'"
elif command -v valgrind >/dev/null; then
    hg_grant "$S" 1h
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
        --child-silent-after-fork=yes "$DRIVER" "$HG/pam" lbx "$S" account open close \
        >"$HG/vg.out" 2>&1
    rc=$?
    check "valgrind: account+open+close clean (definite leaks, errors)" test $rc -eq 0
    [ $rc -eq 0 ] || sed 's/^/# /' "$HG/vg.out" | head -30
    hg_answer token 403 '{"error":"pending","message":"m","request_id":"LBX-1","awaiting":"owner"}'
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
        "$DRIVER" "$HG/pam" lbx "$S" account account account >"$HG/vg.out" 2>&1
    check "valgrind: repeated refusals clean" test $? -eq 0
fi
tap_done
