#!/bin/sh
# make demo: lockbox end to end on this machine, in about a minute, as root.
#
# A throwaway CA, the broker (lockboxd) on its SQLite store, a real sshd on a free 127.0.0.1
# port with pam_lockbox.so and the lockbox-session hook, a support engineer and an approver;
# then a request walked from refusal to teardown, and the audit log exported and verified.
# Every step is checked: the first one that misbehaves stops the demo with a non-zero exit.
# Everything it made (accounts, groups, PAM service, sshd, broker, cgroups, files) is removed
# on exit, also on Ctrl-C. It reuses the tests' harnesses: tests/support/broker_env.sh and
# tests/support/hostgate_env.sh.

BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates accounts and an sshd)" >&2; exit 1; }
for p in lockboxd lockboxctl pam_lockbox.so lockbox-session lockbox-reaper tests/e2e/ssh_client; do
    [ -x "$BUILD/$p" ] || [ -f "$BUILD/$p" ] ||
        { echo "demo: $BUILD/$p is not built (run 'make demo')" >&2; exit 1; }
done

. tests/support/tap.sh # its traps run the cleanups on exit, Ctrl-C and TERM
. tests/support/hostgate_env.sh
. tests/support/broker_env.sh
BENV_BUILD=$BUILD_ABS
trap 'printf "\ndemo: interrupted; removing everything it made\n" >&2; tap_run_cleanups; exit 130' INT TERM
GRANT_SECONDS=${DEMO_GRANT_SECONDS:-25}

N=0
step() { N=$((N + 1)); printf '\n==> %d. %s\n' "$N" "$*"; }
say() { printf '    %s\n' "$*"; }
# show CMD-TEXT: prints "$ CMD-TEXT" and the indented output of the last command (in $out)
show() {
    printf '    $ %s\n' "$1"
    if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/      /'; else say "  (nothing)"; fi
}
# Terminal output without its escape sequences (bracketed paste, window titles).
plain() { sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1b\][^\x07]*\x07//g' | tr -d '\r'; }
die() { printf '\ndemo: FAILED at step %d: %s\n' "$N" "$*" >&2; exit 1; }
expect() { # DESCRIPTION CMD...: the step's check
    _what=$1; shift
    if "$@"; then say "ok: $_what"; else die "$_what"; fi
}
has() { printf '%s\n' "$out" | grep -q "$1"; }
ctl() { # WHO ARGS...: lockboxctl as an identity of the broker
    _who=$1; shift
    LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt \
        LOCKBOX_TOKEN=$(eval echo "\${TOK_$_who}") "$BUILD_ABS/lockboxctl" "$@" 2>&1
}

printf 'lockbox demo: consent-gated support access, end to end on this machine\n'

# ------------------------------------------------------------------------------------------
step "A throwaway CA, and the broker on its embedded SQLite store"
benv_init >/dev/null 2>&1 && benv_config && benv_start >/dev/null || die "lockboxd did not start"
benv_admin || die "no admin token"
TOK_admin=$BENV_TOKEN_admin
say "CA:      $BENV_DIR/certs/ca.crt (made with openssl for this demo)"
say "broker:  lockboxd on $BENV_URL, store $BENV_DIR/lockbox.db, pid $BENV_PID"

step "A host, an sshd on 127.0.0.1 with pam_lockbox and the hook, an engineer and an approver"
hg_setup >/dev/null 2>&1 || die "host setup (groups, directories) failed"
# A reaper whose session just closed may still be reporting the end: give it a moment, then
# stop it (its command line names this demo's own host.conf, so it is one of ours).
reapers_gone() {
    for _i in $(seq 50); do pgrep -f "config=$HG/host.conf" >/dev/null || return 0; sleep 0.1; done
    for _p in $(pgrep -f "config=$HG/host.conf"); do kill -KILL "$_p" 2>/dev/null; done
}
tap_cleanup reapers_gone
ENG=lbxe2e${HG_ID}alice
out=$(ctl admin tenant create contoso && ctl admin subscription create prod --tenant contoso &&
    ctl admin host create "$HG_HOST" --tenant contoso --subscription prod &&
    ctl admin identity create alice --login "$ENG" && ctl admin role assign alice engineer global &&
    ctl admin identity create carol && ctl admin role assign carol owner subscription:prod) ||
    die "directory: $out"
TOK_alice=$(ctl admin api-token create alice | tail -1)
TOK_carol=$(ctl admin api-token create carol | tail -1)
say "directory: tenant contoso / subscription prod / host $HG_HOST"
say "alice: support engineer, logs in as $ENG;  carol: owner of subscription prod (approver)"
mkdir -p "$HG/enroll"
out=$("$BUILD_ABS/lockboxctl" host enroll --ca-cert "$BENV_DIR/certs/ca.crt" \
    --ca-key "$BENV_DIR/certs/ca.key" --host "$HG_HOST" --out "$HG/enroll" \
    --broker-keys "$BENV_DIR/signing/signing.pub" 2>&1) || die "host enroll: $out"
show "lockboxctl host enroll --ca-cert ca.crt --ca-key ca.key --host $HG_HOST --out ... --broker-keys signing.pub"
HG_BROKER_URL=$BENV_URL HG_CA=$HG/enroll/ca.pem HG_CERT=$HG/enroll/host.crt
HG_KEY=$HG/enroll/host.key HG_KEYS=$HG/enroll/keys HG_ISSUER=lockbox-test
hg_config poll_interval=1s
hg_user "$ENG" support >/dev/null 2>&1 || die "could not create $ENG"
hg_sshd_start || die "sshd did not start"
say "sshd: 127.0.0.1:$HG_PORT, PAM service $HG_SERVICE, Match Group $HG_SUPPORT -> ForceCommand lockbox-session"

# ------------------------------------------------------------------------------------------
step "alice asks for access"
out=$(ctl alice request create --host "$HG_HOST" --ticket T-4711 \
    --reason "customer reports a full disk on $HG_HOST" --duration "${GRANT_SECONDS}s")
REQ=$(printf '%s\n' "$out" | awk 'NR == 1 { print $1 }')
show "lockboxctl request create --host $HG_HOST --ticket T-4711 --reason '...' --duration ${GRANT_SECONDS}s"
expect "request $REQ is pending, carol is asked" has "pending"

step "alice tries to log in before anyone approved: refused, and told why"
out=$(hg_ssh "$ENG" 'echo should-not-run' 2>&1 </dev/null)
show "ssh $ENG@127.0.0.1 -p $HG_PORT 'echo should-not-run'"
expect "login refused" has "auth: denied"
expect "the banner names the request and who must approve it" has "request $REQ awaits approval"

step "carol sees the request and approves it"
out=$(ctl carol list)
show "lockboxctl list"
out=$(ctl carol approve "$REQ" --comment "go ahead, ticket T-4711")
show "lockboxctl approve $REQ --comment 'go ahead, ticket T-4711'"
out=$(ctl alice request status "$REQ")
show "lockboxctl request status $REQ"
expect "approved: a grant of ${GRANT_SECONDS}s" has "approved"

step "alice logs in: a command runs"
out=$(hg_ssh "$ENG" 'echo "hello from $(id -un) on $(hostname)"' 2>&1 </dev/null)
show "ssh $ENG@127.0.0.1 -p $HG_PORT 'echo hello from ...'"
expect "the command ran as $ENG" has "hello from $ENG"

step "an interactive session shows the grant"
out=$(printf 'echo typed-$((6 * 7))\nexit\n' | hg_ssh "$ENG" -t 2>&1 | plain |
    grep -E '^lockbox:|^typed-42')
show "ssh -t $ENG@127.0.0.1 -p $HG_PORT   (typing: echo typed-\$((6 * 7)); exit)"
expect "banner: grant, ticket, approver, time left" has "approved by"
expect "the shell ran what was typed" has "typed-42"

step "the grant ends: the session is torn down, with everything it left behind"
# A session that tries to outlive its grant: a daemon (setsid, double fork), a nohup'd job and
# a process that ignores SIGTERM/SIGHUP, plus the interactive shell itself.
printf '%s\n' 'nohup sleep 1001 >/dev/null 2>&1 &' \
    '(setsid sh -c "sleep 1002 & :" >/dev/null 2>&1 &)' \
    "sh -c 'trap \"\" TERM HUP; sleep 1003' >/dev/null 2>&1 &" 'echo planted-$((6 * 7)); sleep 600' |
    hg_ssh "$ENG" -t >"$HG/last-session.out" 2>&1 &
client=$!
hg_wait "grep -q planted-42 '$HG/last-session.out'" 10 || die "the session did not start"
uid=$(id -u "$ENG")
out=$(hg_uid_procs "$uid")
show "ps -u $ENG   (while the grant runs)"
exp=$(ctl alice --json request status "$REQ" | benv_json 'j["access_end"]' 2>/dev/null)
left=$((exp - $(date +%s)))
say "grant ends in ${left}s ..."
hg_wait "hg_gone $client" $((left + 10)) || die "the ssh connection survived the grant"
out=$(plain <"$HG/last-session.out" | grep -i 'lockbox' | tail -2)
show "(the engineer's terminal, last lines)"
# The connection closes as the end begins; the reaper's sweep is still under way then.
hg_wait "[ -z \"\$(hg_uid_procs $uid)\" ]" 2
ended_after=$(($(date +%s%N) / 1000000 - exp * 1000))
out=$(hg_uid_procs "$uid")
show "ps -u $ENG   (${ended_after} ms after the grant's exp; the host ends it $HG_END_LEAD_MS ms before)"
expect "no process of $ENG is left" test -z "$out"
out=$(hg_ssh "$ENG" 'echo should-not-run' 2>&1 </dev/null)
show "ssh $ENG@127.0.0.1 -p $HG_PORT 'echo should-not-run'"
expect "and a new login is refused again" has "auth: denied"
out=$(ls -l "$HG/rec" | tail -n +2 | awk '{ print $1, $3, $4, $NF }')
show "ls -l $HG/rec   (recordings, in a directory only root and the recording group enter)"

step "the auditor exports the record and verifies the hash chain"
out=$(ctl admin audit export --format csv | cut -d, -f1-6 | head -1;
    ctl admin audit export --format csv | cut -d, -f1-6 | grep -E "request_|token_|session_" | tail -12)
show "lockboxctl audit export --format csv   (first columns, the request's events)"
out=$(ctl admin audit verify)
show "lockboxctl audit verify"
expect "the audit chain verifies" has "audit chain OK"

printf '\ndemo: all %d steps behaved; removing everything it made\n' "$N"
exit 0
