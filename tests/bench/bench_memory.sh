#!/bin/sh
# Benchmark 8: memory. RSS of sshd's per-connection monitor ("sshd: USER [priv]", root, where
# PAM runs) during a live session, with pam_lockbox (support user, real broker) and without it
# (plain user, pam_unix only); RSS of the session's lockbox-reaper. Same sshd for both.
. tests/bench/bench_env.sh

be_setup || { be_log "setup failed"; exit 1; }
S=lbxe2e${HG_ID}s
P=lbxe2e${HG_ID}p
hg_user "$S" support && hg_user "$P" || exit 1
be_engineer benchs "$S"
be_grant benchs >/dev/null || exit 1
hg_sshd_start || { be_log "sshd did not start"; exit 1; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# the monitor: a root child of the listening sshd serving USER
monitor_of() {
    for _p in $(ps -o pid= --ppid "$HG_SSHD_PID"); do
        ps -o args= -p "$_p" | grep -q "$1 \[priv\]" && { echo "$_p"; return 0; }
    done
    return 1
}

# live USER STACK: holds a session open, prints "monitor-kb reaper-kb"
live() {
    be_use_pam "$2"
    hg_ssh "$1" 'sleep 2' >/dev/null 2>&1 &
    _c=$!
    hg_wait "monitor_of $1 >/dev/null" 5 && sleep 0.5
    _m=$(monitor_of "$1")
    _r=0
    if [ "$2" = lockbox ]; then
        _rec=$(grep -l "\"user\":\"$1\"" "$HG/run/sessions/"*.json 2>/dev/null | head -1)
        [ -n "$_rec" ] && _r=$(rss_kb "$(be__field "$_rec" reaper_pid)")
    fi
    echo "$(rss_kb "$_m") ${_r:-0}"
    wait "$_c"
}

set -- $(live "$P" none)
none=$1
set -- $(live "$S" lockbox)
with=$1 reaper=$2
echo "{\"name\":\"memory\",\"sshd_monitor_rss_kb_without\":$none,\"sshd_monitor_rss_kb_with\":$with,\"ratio\":$($PYTHON -c "print(round($with / $none, 3))"),\"reaper_rss_kb\":$reaper}"
