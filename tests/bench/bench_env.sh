# bench_env.sh — what the benchmark scripts share (source it from the top of the tree).
# It joins the two test harnesses: the REAL broker of broker_env.sh (seeded directory) and the
# host side of hostgate_env.sh (users, PAM service, sshd, cgroups), with the host configured as
# node-7 against that broker. Everything is undone on exit through tap_cleanup.
#
#   be_setup                 both environments, broker started and seeded, $HG/host.conf written
#   be_host_config [k=v...]  rewrites $HG/host.conf (extra lines last)
#   be_engineer NAME LOGIN   a broker identity (engineer) mapped to host login LOGIN
#   be_grant NAME            NAME asks for node-7 for 4 h, carol approves; prints the request id
#   be_stats FILE            "median p99 max n" of the samples (one number a line) in FILE
#   be_now_ms                wall clock in ms
#   be_log MSG               progress on stderr (stdout carries the JSON results)
#   BENCH_ITER               scales the iteration counts (1 = full run; the smoke test uses less)
. tests/support/tap.sh
. tests/support/hostgate_env.sh
. tests/support/broker_env.sh
BENCH_ITER=${BENCH_ITER:-1}
BENCH=$BUILD_ABS/tests/bench
DRIVER=$BUILD_ABS/tests/pam_lockbox/pam_driver

be_log() { echo "# $*" >&2; }
be_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# be_n FULL [MIN]: FULL scaled by BENCH_ITER (a fraction in the smoke test), at least MIN.
be_n() { $PYTHON -c "import sys; print(max(int(sys.argv[3]), int(float(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$BENCH_ITER" "${2:-1}"; }

be_stats() {
    $PYTHON -c '
import math, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
n = len(v)
pick = lambda q: v[max(0, math.ceil(q * n) - 1)] if n else -1
print("%.3f %.3f %.3f %d" % (pick(0.5), pick(0.99), v[-1] if n else -1, n))' "$1"
}

be_host_config() {
    HG_BROKER_URL=$BENV_URL HG_CA_FILE=$BENV_DIR/certs/ca.crt HG_HOST_ID=node-7
    HG_CERT_FILE=$BENV_DIR/certs/node-7.crt HG_KEY_FILE=$BENV_DIR/certs/node-7.key
    HG_ISSUER=lockbox-test HG_TRUSTED_KEYS=$BENV_DIR/signing/signing.pub
    hg_config "$@"
}

be_setup() {
    hg_setup || return 1
    # The host's run_dir is /run/lockbox, and /run is a tmpfs on Debian 12 (systemd mounts it;
    # so does initscripts without systemd). On a machine whose /run is on disk (a container with
    # no init, like the one these figures were taken on) the benchmark gives its run_dir a tmpfs
    # of its own, as in production: on ext4 the few files a login creates and removes there cost
    # ~0.5 ms of inode allocation each login (skipping recently deleted inodes, perf).
    mount -t tmpfs -o mode=0755,size=16m lbx-bench-run "$HG/run" || return 1
    BENV_LOG_LEVEL=${BENV_LOG_LEVEL:-info}
    benv_init && benv_start && benv_seed || return 1
    chmod 0755 "$BENV_DIR" # the hook (setgid, not root) reads nothing here, but traverses
    be_host_config
}

be_engineer() { benv__person "$1" "$2" "" engineer global; }

be_grant() {
    _id=$(benv_api "$1" POST /v1/requests \
        '{"host":"node-7","ticket":"BENCH-1","reason":"benchmark","duration":"4h"}' | benv_json 'j["id"]')
    benv_api carol POST "/v1/requests/$_id/approve" '{"comment":"bench"}' >/dev/null
    [ "$(benv_status)" = 200 ] || { be_log "approve $_id: $(benv_status) $(cat "$BENV_DIR/body")"; return 1; }
    echo "$_id"
}

# -- sessions through the PAM session phase (benchmarks 4, 5, 8): the PAM driver plays sshd's
# monitor, so the real module makes the real cgroup and starts the real reaper.
#   be_pam_service CONF      $HG/pam/lbx: pam_permit + pam_lockbox (account, session) with CONF
#   be_session USER TAG      starts a monitor; sets MON, SID, CG, RPID (0 when it failed)
#   be_escapees UID          in $CG, as UID: nohup, setsid, double fork, a TERM-ignoring loop,
#                            disown; prints the session's pids except the monitor's; fails
#                            (starting nothing) when the session's cgroup is already gone
#   be_watch FILE SECS OUT   proc_watch.py in the background (BE_WATCH_PID), waits until armed
be_pam_service() {
    mkdir -p "$HG/pam"
    printf 'account required pam_permit.so\naccount required %s config=%s\nsession required pam_permit.so\nsession required %s config=%s\n' \
        "$BUILD_ABS/pam_lockbox.so" "$1" "$BUILD_ABS/pam_lockbox.so" "$1" >"$HG/pam/lbx"
}

be__field() { $PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2" 2>/dev/null; }

be_session() {
    MON=0
    "$DRIVER" "$HG/pam" lbx "$1" account open sleep:120000 close >"$HG/driver.$2" 2>&1 &
    MON=$!
    hg_wait "grep -l '\"monitor_pid\":$MON,' '$HG/run/sessions/'*.json >/dev/null 2>&1" 5 || {
        be_log "session $2 did not start: $(cat "$HG/driver.$2")"; MON=0; return 1; }
    _rec=$(grep -l "\"monitor_pid\":$MON," "$HG/run/sessions/"*.json 2>/dev/null | head -1)
    SID=$(basename "$_rec" .json)
    CG="$(be__field "$_rec" cgroup_mount)$(be__field "$_rec" cgroup_path)"
    RPID=$(be__field "$_rec" reaper_pid)
    hg_wait "grep -q '$SID' /proc/$MON/cgroup" 3
}

be_escapees() {
    sh -c "echo \$\$ >'$CG/cgroup.procs' || exit 1; exec setpriv --reuid=$1 --regid=$1 --init-groups sh -c '
        nohup sleep 1000 >/dev/null 2>&1 &
        setsid sleep 1000 &
        (sleep 1000 &) &
        sh -c \"trap \\\"\\\" HUP TERM; while :; do sleep 1; done\" &
        sleep 1000 & disown 2>/dev/null
        exec sleep 1000'" >/dev/null 2>&1 &
    hg_wait "[ \"\$(grep -cv '^$MON\$' '$CG/cgroup.procs' 2>/dev/null)\" -ge 6 ] 2>/dev/null" 3 || return 1
    grep -v "^$MON\$" "$CG/cgroup.procs" 2>/dev/null | tr '\n' ' '
}

be_watch() {
    $PYTHON "$TOP/tests/bench/proc_watch.py" "$1" "$2" >"$3" &
    BE_WATCH_PID=$!
    hg_wait "grep -q watching '$3'" 5
}

# be_use_pam none|script|lockbox: the PAM stack of hg_sshd_start's service (sshd reads it at
# every connection). script = pam_exec of $HG/broker-call.sh (benchmark 1 writes it).
be_use_pam() {
    case $1 in
    none) acct="" sess="" ;;
    script) acct="account  required pam_exec.so quiet $HG/broker-call.sh" sess="" ;;
    lockbox)
        acct="account  required $BUILD_ABS/pam_lockbox.so config=$HG/host.conf"
        sess="session  required $BUILD_ABS/pam_lockbox.so config=$HG/host.conf" ;;
    esac
    printf '%s\n' "auth     required pam_unix.so" "account  required pam_unix.so" "$acct" \
        "session  required pam_unix.so" "$sess" >"/etc/pam.d/$HG_SERVICE"
}
