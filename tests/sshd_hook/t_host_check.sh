#!/bin/sh
# lockbox-host-check, the C side of `lockbox-host-setup check`, against a real broker over real
# TLS: a working host passes with only "ok:" lines; each way a host can be broken gives exit 1
# and exactly one "problem:" line that says what is wrong. The confinement is tried for real
# (a cgroup made, a process in it killed, the cgroup removed) and broken in a private mount
# namespace only, so nothing outside the test sees it.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
BUILD_ABS=$(cd "$BENV_BUILD" && pwd)
CHECK=$BUILD_ABS/lockbox-host-check

skip_all() { ok "# SKIP $*"; tap_done; exit 0; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
[ -x "$CHECK" ] || skip_all "lockbox-host-check is not built"

benv_init
benv_start || { fail "lockboxd starts"; tap_done; exit 1; }
benv_admin
benv_api admin POST /v1/tenants '{"id":"contoso"}' >/dev/null
benv_api admin POST /v1/hosts '{"id":"node-7","tenant":"contoso"}' >/dev/null
benv_host_cert node-7
benv_host_cert node-unknown # from the right CA, but not in the broker's directory
benv_ca otherca "another CA"
benv__sign node-7-other node-7 "extendedKeyUsage=clientAuth" otherca

H=$BENV_DIR/host
mkdir -p "$H/keys" "$H/nokeys" "$H/otherkeys" "$H/run"
chmod 700 "$H/run"
cp "$BENV_DIR/signing/signing.pub" "$H/keys/broker.pub"
"$BENV_BUILD/lockboxctl" key generate --out "$H/other" >/dev/null
cp "$H/other/signing.pub" "$H/otherkeys/other.pub"
CG=lbxchk$$
for root in $(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); o = $(i + 3) } }
    t == "cgroup2" || (t == "cgroup" && o ~ /(^|,)freezer(,|$)/) { print $5 }' /proc/self/mountinfo); do
    tap_cleanup "rmdir '$root/$CG' 2>/dev/null"
done
V2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") t = $(i + 1) } t == "cgroup2" { print $5; exit }' \
    /proc/self/mountinfo)
FREEZER=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); o = $(i + 3) } }
    t == "cgroup" && o ~ /(^|,)freezer(,|$)/ { print $5; exit }' /proc/self/mountinfo)

# conf [KEY=VALUE...]: $H/host.conf, a working host's, with the given keys replaced ("KEY=" drops
# KEY); a key not in the base is added.
conf() {
    cat >"$H/host.conf" <<CONF
# node-7, as lockboxctl host enroll and the package leave it
broker_url = $BENV_URL
ca_file = $BENV_DIR/certs/ca.crt
cert_file = $BENV_DIR/certs/node-7.crt
key_file = $BENV_DIR/certs/node-7.key
host_id = node-7
issuer = lockbox-test
trusted_keys = $H/keys
reaper_path = $BUILD_ABS/lockbox-reaper
cgroup_name = $CG
cgroup_mode = v2
run_dir = $H/run
CONF
    for kv in "$@"; do
        k=${kv%%=*}
        grep -v "^$k =" "$H/host.conf" >"$H/host.conf.new"
        [ -n "${kv#*=}" ] && echo "$k = ${kv#*=}" >>"$H/host.conf.new"
        mv "$H/host.conf.new" "$H/host.conf"
    done
    chmod 644 "$H/host.conf"
}

# run_check [ARG...]: output in $H/out, exit status in RC.
run_check() { "$CHECK" config="$H/host.conf" "$@" >"$H/out" 2>"$H/err"; RC=$?; }
problems() { grep -c '^problem: ' "$H/out"; }
show() { sed 's/^/#   /' "$H/out" "$H/err"; }

# passes DESCRIPTION: exit 0, only "ok:" lines, nothing on stderr.
passes() {
    if [ $RC -eq 0 ] && [ "$(problems)" -eq 0 ] && ! grep -qv '^ok: ' "$H/out" && [ ! -s "$H/err" ]
    then ok "$1"; else fail "$1 (exit $RC)"; show; fi
}
# one_problem DESCRIPTION PATTERN: exit 1 and exactly one problem line, matching PATTERN (ERE).
one_problem() {
    if [ $RC -eq 1 ] && [ "$(problems)" -eq 1 ] && grep -E "^problem: .*$2" "$H/out" >/dev/null
    then ok "$1: $(grep '^problem: ' "$H/out" | cut -c1-150)"; else fail "$1 (exit $RC)"; show; fi
}

# --- a working host ---------------------------------------------------------------------
conf
run_check
passes "working host: exit 0, only ok lines"
check "  ... the broker accepted the certificate as node-7" \
    grep -q "^ok: broker $BENV_URL accepts this host's certificate as host node-7$" "$H/out"
check "  ... the broker's signing key is among the trusted keys" \
    grep -q "^ok: trusted_keys $H/keys: 1 key(s), the broker's signing key .* among them$" "$H/out"
check "  ... v2 confinement tried for real" grep -q "^ok: confinement v2: a test cgroup under $V2/$CG was made" "$H/out"
check "  ... and nothing left in the hierarchy" test ! -e "$V2/$CG"
check "  ... a full handshake: no TLS session saved for the module to resume" \
    test ! -e "$H/run/broker.tls-session"
if [ -n "$FREEZER" ]; then
    conf cgroup_mode=freezer
    run_check
    passes "freezer confinement works here"
    check "  ... and nothing left in the freezer hierarchy" test ! -e "$FREEZER/$CG"
fi
conf "cgroup_mode=auto   # a comment after the value" "cgroup_name=\"$CG\""
run_check
passes "auto, quoted values and comments after values"
check "  ... auto picks v2 outside a login session here" grep -q "^ok: confinement v2:" "$H/out"

# --- not enrolled -------------------------------------------------------------------------
"$CHECK" config="$H/none.conf" >"$H/out" 2>"$H/err"; RC=$?
one_problem "no host.conf" "$H/none.conf missing: this host is not enrolled"
printf '# as the package installs it\nreaper_path = %s\ncgroup_name = %s\n' \
    "$BUILD_ABS/lockbox-reaper" "$CG" >"$H/host.conf"
run_check
one_problem "installed, not enrolled (the packaged host.conf)" "this host is not enrolled: no broker_url"
check "  ... the confinement is still checked" grep -q "^ok: confinement" "$H/out"
conf cert_file="$H/gone.crt"
run_check
one_problem "certificate missing" "cert_file $H/gone.crt: No such file or directory"
conf key_file="$H/gone.key"
run_check
one_problem "host key missing" "key_file $H/gone.key: No such file or directory"
conf broker_url=
run_check
one_problem "broker_url missing" "broker_url, ca_file, cert_file and key_file must be set"

# --- the broker ---------------------------------------------------------------------------
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf broker_url="https://127.0.0.1:$closed"
run_check
one_problem "broker unreachable" "broker https://127.0.0.1:$closed: broker unreachable"
check "  ... the trusted keys are still checked" grep -q "^ok: trusted_keys $H/keys: 1 key(s)$" "$H/out"
conf broker_url="https://localhost.invalid:$BENV_PORT" timeout=2s
run_check
one_problem "broker name that does not resolve" "broker https://localhost.invalid:$BENV_PORT: "
conf ca_file="$BENV_DIR/certs/otherca.crt"
run_check
one_problem "wrong CA for the broker" "tls failure: peer certificate refused.*ca_file must be the CA"
conf cert_file="$BENV_DIR/certs/node-7-other.crt" key_file="$BENV_DIR/certs/node-7-other.key"
run_check
one_problem "certificate from another CA: not accepted by the broker" \
    "broker $BENV_URL is up \(its health answers\) but refused this host's certificate"
conf cert_file="$BENV_DIR/certs/node-unknown.crt" key_file="$BENV_DIR/certs/node-unknown.key" \
    host_id=node-unknown
run_check
one_problem "host not in the broker's directory" "403 forbidden: host 'node-unknown' is not in the directory"
conf key_file="$BENV_DIR/certs/node-unknown.key"
run_check
one_problem "key of another certificate" "refused this host's certificate: tls failure: client certificate or key"
conf host_id=node-9
run_check
one_problem "host_id not the certificate's" "host_id is node-9 but the certificate names node-7"
conf issuer=lockbox
run_check
one_problem "issuer not the broker's" "issues tokens as 'lockbox-test', host.conf expects issuer 'lockbox'"
cp "$BENV_DIR/certs/node-7.key" "$H/readable.key" && chmod 640 "$H/readable.key"
conf key_file="$H/readable.key"
run_check
one_problem "host key readable by its group" "key_file $H/readable.key: accessible by group or others"

# --- trusted keys -------------------------------------------------------------------------
conf trusted_keys="$H/missing-keys"
run_check
one_problem "trusted keys missing" "trusted_keys $H/missing-keys: "
conf trusted_keys="$H/nokeys"
run_check
one_problem "trusted keys empty" "trusted_keys $H/nokeys: .*no trusted keys .*every grant token would be refused"
conf trusted_keys="$H/otherkeys"
run_check
one_problem "trusted keys without the broker's" "trusted_keys $H/otherkeys: the broker signs with key [A-Za-z0-9_-]{43}, not among its 1 key"
chmod 666 "$H/otherkeys/other.pub"
run_check
one_problem "a world-writable trusted key" "trusted_keys $H/otherkeys: .*writable by group or others"

# --- confinement --------------------------------------------------------------------------
conf
# A read-only view of the hierarchy, in a mount namespace of the check's own.
unshare -m sh -c "mount -o remount,bind,ro '$V2' '$V2' && exec '$CHECK' config='$H/host.conf'" \
    >"$H/out" 2>"$H/err"; RC=$?
one_problem "v2 hierarchy read-only" "confinement v2 does not work here: mkdir $V2/$CG.*Read-only file system"
check "  ... the real hierarchy untouched" test ! -e "$V2/$CG"
unshare -m sh -c "umount '$V2' && exec '$CHECK' config='$H/host.conf'" >"$H/out" 2>"$H/err"; RC=$?
one_problem "no cgroup2 hierarchy for cgroup_mode v2" "confinement \\(cgroup_mode v2\\): cgroup mode 'v2' unavailable"
check "  ... still mounted outside" grep -q " $V2 cgroup2 " /proc/mounts
if [ -n "$FREEZER" ]; then
    conf cgroup_mode=freezer
    unshare -m sh -c "umount '$FREEZER' && exec '$CHECK' config='$H/host.conf'" >"$H/out" 2>"$H/err"; RC=$?
    one_problem "no freezer hierarchy for cgroup_mode freezer" "cgroup mode 'freezer' unavailable"
fi
conf reaper_path="$H/no-reaper"
run_check
one_problem "reaper missing" "reaper_path $H/no-reaper: not an executable file"

# --- the configuration --------------------------------------------------------------------
conf colour=blue
run_check
one_problem "unknown key" "$H/host.conf:13: unknown key 'colour'"
conf timeout=99s
run_check
one_problem "value out of range" "$H/host.conf:13: timeout must be a duration between 1s and 30s"
conf "cgroup_mode=v3"
run_check
one_problem "unknown cgroup_mode" "cgroup_mode must be auto, v2 or freezer"
conf "broker_url=$BENV_URL#x"
run_check
one_problem "a '#' glued to a value is part of it" "broker $BENV_URL#x: "
conf "cgroup_mode=\"v2 # not a comment\""
run_check
one_problem "a quoted '#' is part of the value" "cgroup_mode must be auto, v2 or freezer"
conf "cgroup_mode=# later"
run_check
one_problem "a value that is only a comment" "host.conf:12: cgroup_mode: no value"
printf 'broker_url = %s\r\nbogus\r\n' "$BENV_URL" >"$H/host.conf"
run_check
one_problem "CRLF file with a bad line: the line named" "host.conf:2: expected 'key = value'"
conf
chmod 666 "$H/host.conf"
run_check
one_problem "host.conf writable by others" "host.conf: writable by group or others"
conf
printf 'issuer = a\000b\n' >>"$H/host.conf"
run_check
one_problem "NUL byte in host.conf" "NUL byte in file"

# --- usage --------------------------------------------------------------------------------
conf
"$CHECK" --help >/dev/null 2>&1
check "an argument that is not key=value: usage, exit 2" test $? -eq 2
runuser -u nobody -- "$CHECK" config="$H/host.conf" >/dev/null 2>&1
check "not root: exit 2" test $? -eq 2

benv_stop
tap_done
