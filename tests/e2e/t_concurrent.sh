#!/bin/sh
# Many logins of one support user at the same moment, through a real sshd and the real broker:
# 16 publickey logins and 4 keyboard-interactive ones (whose account phase sshd runs in a
# forked [pam] child of the monitor). Every login must get a guarded session, each with its
# own record holding a token that verifies for this user and grant. (The hand-off from the
# account to the session phase was once per uid: 3 of 64 concurrent logins failed.)
. tests/support/tap.sh
. tests/support/hostgate_env.sh
. tests/support/grants.sh

hg_setup || { fail "setup"; tap_done; exit 1; }
S=lbxe2e${HG_ID}c
grants_start "$S" || { fail "broker"; tap_done; exit 1; }
hg_config
hg_user "$S" support
HG_SSHD_EXTRA="MaxStartups 100:30:200"
hg_sshd_start || { fail "sshd did not start"; tap_done; exit 1; }
grant_approve "$S" 1h
N_KEY=16
N_KBD=4
N=$((N_KEY + N_KBD))
field() { $PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# Each session prints its cgroup (its session id) and stays until the test has seen every record.
cmd="cat /proc/self/cgroup; while [ ! -e $HG/go ]; do sleep 0.1; done; echo done"
pids=""
i=0
while [ $i -lt $N ]; do
    if [ $i -lt $N_KEY ]; then
        hg_ssh "$S" "$cmd" >"$HG/c.$i" 2>&1 </dev/null &
    else
        "$SSH_CLIENT" -p "$HG_PORT" -k "pw-$S" "$S" "$cmd" >"$HG/c.$i" 2>&1 </dev/null &
    fi
    pids="$pids $!"
    i=$((i + 1))
done
hg_wait "[ \$(ls '$HG/run/sessions/' 2>/dev/null | grep -c '\\.json\$') -ge $N ]" 30
recs=$(ls "$HG/run/sessions/"*.json 2>/dev/null)
check "all $N sessions opened with a record ($(echo "$recs" | grep -c .) seen)" test "$(echo "$recs" | grep -c .)" -eq $N
keys=$(sed -n 's/^trusted_keys = //p' "$HG/host.conf")
kopt=--key
iss=$(sed -n 's/^issuer = //p' "$HG/host.conf")
[ -d "$keys" ] && kopt=--keys
bad=0
monitors=""
for r in $recs; do
    tok=$(field "$r" token)
    monitors="$monitors $(field "$r" monitor_pid)"
    jti=$($CTL token verify $kopt "$keys" --iss "$iss" --aud "$HG_HOST" --sub "$S" "$tok" 2>/dev/null |
        $PYTHON -c 'import json,sys; print(json.load(sys.stdin)["jti"])' 2>/dev/null)
    [ "$jti" = "$GRANT_ID" ] && [ "$(field "$r" grant_id)" = "$GRANT_ID" ] || bad=$((bad + 1))
done
check "every record holds a token that verifies for $S and grant $GRANT_ID ($bad bad)" test $bad -eq 0 -a -n "$recs"
check "every record belongs to its own sshd monitor" test "$(echo $monitors | tr ' ' '\n' | sort -u | grep -c .)" -eq $N
check "no hand-off left over once every session opened" test -z "$(ls "$HG/run/pending/" | grep "^$(id -u "$S")-" | while read -r f; do
    p=$(echo "$f" | cut -d- -f2); [ -d /proc/"$p" ] && echo "$f"; done)"
touch "$HG/go"
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
check "all $N logins ran their command ($fails failed)" test $fails -eq 0
ok_out=0
sids=""
i=0
while [ $i -lt $N ]; do
    grep -qx done "$HG/c.$i" && ok_out=$((ok_out + 1))
    sids="$sids $(sed -n 's|^0::.*/\([^/]*\)$|\1|p' "$HG/c.$i" | head -1)"
    i=$((i + 1))
done
check "all $N sessions finished their command ($ok_out)" test $ok_out -eq $N
check "keyboard-interactive logins went through the [pam] child and got sessions" test "$(cat "$HG"/c.1[6-9] | grep -c '^done$')" -eq $N_KBD
check "each login ran in its own session cgroup" test "$(echo $sids | tr ' ' '\n' | sort -u | grep -c .)" -eq $N
nrec=$(echo "$recs" | grep -c .)
check "every session closed: no record left" hg_wait "[ $nrec -gt 0 ] && [ -z \"\$(ls '$HG/run/sessions/')\" ]" 10
tap_done
