# Host-gate test environment (source it after tap.sh). Everything lives in one temp dir $HG,
# every name carries a random suffix, and tap_cleanup undoes all of it: users, groups, the PAM
# service file, sshd, brokers, cgroups.
#
#   hg_setup                 PKI, broker signing key, groups, dirs, setgid hook copy (its
#                            configuration file, compiled in, is $HG/host.conf)
#   hg_fake_broker_start     the FAKE broker (tests/support/fake_broker.py) -> HG_BROKER_URL
#   hg_config [key=value...] writes $HG/host.conf for the module, reaper and hook (another
#                            broker: HG_CA_FILE, HG_CERT_FILE, HG_KEY_FILE, HG_HOST_ID,
#                            HG_ISSUER, HG_TRUSTED_KEYS)
#   hg_user NAME [support]   a real account with our key and password "pw-NAME"
#   hg_mint SUB TTL [args]   a grant token signed with the broker key (lockboxctl token mint)
#   hg_grant SUB TTL [JTI]   makes the fake broker hand out a valid token for SUB
#   hg_sshd_start            a real sshd on a free 127.0.0.1 port with its own PAM service
#                            (HG_SSHD_EXTRA: global sshd_config lines, e.g. "MaxStartups 64";
#                            HG_SSHD_ENV: VAR=value words for its environment)
#   hg_ssh USER ARGS...      the libssh client against that sshd with the user's key
#   hg_uid_procs UID         live (non-zombie) processes of UID
#   hg_group_fill GROUP N    N more member names (not accounts) in GROUP's /etc/group entry
#   hg_nss_preload           LD_PRELOAD value for the NSS shim (tests/pam_lockbox/nss_shim.c)
. tests/support/pki.sh
. tests/support/ports.sh
. tests/support/sshd.sh

BUILD=${BUILD:-build}
TOP=$(pwd)
BUILD_ABS=$(cd "$BUILD" && pwd)
CTL=$BUILD_ABS/lockboxctl
SSH_CLIENT=$BUILD_ABS/tests/e2e/ssh_client
PYTHON=/usr/bin/python3
# make asan: the module is built with AddressSanitizer, so the stock sshd that loads it needs the
# ASan runtime preloaded (its own leaks are not ours: leak checking stays with pam_driver).
HG_ASAN=""
# How long before exp the host ends a grant (LBX_END_LEAD_MS): an end that early is not early.
HG_END_LEAD_MS=$(sed -n 's/^#define LBX_END_LEAD_MS \([0-9]*\)$/\1/p' "$TOP/lib/host/grant_end.h")
if nm -D "$BUILD_ABS/pam_lockbox.so" 2>/dev/null | grep -q __asan_init; then
    HG_ASAN="LD_PRELOAD=$(cc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0"
fi

hg_rand() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }

hg_setup() {
    HG_ID=$(hg_rand)
    HG=$(mktemp -d "/tmp/lbx-hg.$HG_ID.XXXXXX")
    chmod 0755 "$HG" # users must traverse to the run dir and the hook
    tap_cleanup "hg_teardown"
    HG_HOST=node-$HG_ID
    HG_SUPPORT=lbxe2e${HG_ID}sup
    HG_RECGROUP=lbxe2e${HG_ID}rec
    HG_USERS=""
    groupadd "$HG_SUPPORT" && groupadd "$HG_RECGROUP" || return 1
    mkdir -p "$HG/pki" "$HG/run" "$HG/spool" "$HG/rec" "$HG/bin" "$HG/broker"
    chgrp "$HG_RECGROUP" "$HG/rec" && chmod 2770 "$HG/rec"
    pki_ca "$HG/pki" ca && pki_cert "$HG/pki" ca broker localhost server &&
        pki_cert "$HG/pki" ca host "$HG_HOST" client &&
        pki_cert "$HG/pki" ca expired "$HG_HOST" client expired || return 1
    pki_ca "$HG/pki" other && pki_cert "$HG/pki" other other-broker localhost server || return 1
    $CTL key generate --out "$HG/keys" >/dev/null || return 1
    # The hook takes no arguments: this host's copy has $HG/host.conf compiled in. (A build
    # without the hook's objects, such as t_demo's stand-in hook, is copied as it is.)
    if [ -f "$BUILD_ABS/sshd_hook/session/lockbox-session.o" ]; then
        make -s --no-print-directory -C "$TOP" BUILD="$BUILD_ABS" ${HG_ASAN:+SAN=1} hook-copy \
            HOOK_COPY="$HG/bin/lockbox-session" HOOK_CONFIG="$HG/host.conf" || return 1
    else
        cp "$BUILD_ABS/lockbox-session" "$HG/bin/lockbox-session"
    fi
    chgrp "$HG_RECGROUP" "$HG/bin/lockbox-session" && chmod 2755 "$HG/bin/lockbox-session"
    ssh-keygen -q -t ed25519 -N '' -f "$HG/id_user" && chmod 0600 "$HG/id_user"
}

# hg_fake_pair: a host against the fake broker with its host.conf, a support user S and an
# ordinary user N (the module tests' common start); 1 when any of it fails.
hg_fake_pair() {
    hg_setup || return 1
    hg_fake_broker_start
    hg_config
    S=lbxe2e${HG_ID}s
    N=lbxe2e${HG_ID}n
    hg_user "$S" support && hg_user "$N"
}

# hg_fake_broker_start [CERT-NAME] [PORT]
hg_fake_broker_start() {
    _cert=${1:-broker}
    rm -f "$HG/broker/port"
    $PYTHON "$TOP/tests/support/fake_broker.py" "$HG/broker" "$HG/pki/$_cert.crt" \
        "$HG/pki/$_cert.key" "$HG/pki/ca.crt" ${2:-} 2>>"$HG/broker/stderr" &
    HG_FAKE_PID=$!
    for _i in $(seq 100); do [ -s "$HG/broker/port" ] && break; sleep 0.05; done
    HG_BROKER_URL="https://127.0.0.1:$(cat "$HG/broker/port")"
}

hg_fake_broker_stop() {
    [ -n "${HG_FAKE_PID:-}" ] && kill "$HG_FAKE_PID" 2>/dev/null && wait "$HG_FAKE_PID" 2>/dev/null
    HG_FAKE_PID=""
}

# hg_config [key=value...]: the test host.conf; a key given here replaces its default line.
hg_config() {
    {
        echo "broker_url = $HG_BROKER_URL"
        echo "ca_file = ${HG_CA_FILE:-${HG_CA:-$HG/pki/ca.crt}}"
        echo "cert_file = ${HG_CERT_FILE:-${HG_CERT:-$HG/pki/host.crt}}"
        echo "key_file = ${HG_KEY_FILE:-${HG_KEY:-$HG/pki/host.key}}"
        echo "host_id = ${HG_HOST_ID:-$HG_HOST}"
        echo "issuer = ${HG_ISSUER:-lockbox}"
        echo "trusted_keys = ${HG_TRUSTED_KEYS:-${HG_KEYS:-$HG/keys/signing.pub}}"
        echo "support_group = $HG_SUPPORT"
        echo "record_group = $HG_RECGROUP"
        echo "run_dir = $HG/run"
        echo "record_dir = $HG/rec"
        echo "spool_dir = $HG/spool"
        echo "reaper_path = $BUILD_ABS/lockbox-reaper"
        echo "cgroup_name = lockbox-test-$HG_ID"
    } >"$HG/host.conf.tmp"
    for _kv in "$@"; do
        _k=${_kv%%=*}
        sed -i "/^$_k = /d" "$HG/host.conf.tmp"
        echo "$_k = ${_kv#*=}" >>"$HG/host.conf.tmp"
    done
    chmod 0644 "$HG/host.conf.tmp" && mv "$HG/host.conf.tmp" "$HG/host.conf"
}

hg_user() {
    _u=$1
    useradd -m -s /bin/bash -K UMASK=022 "$_u" || return 1
    HG_USERS="$HG_USERS $_u"
    [ "${2:-}" = support ] && usermod -aG "$HG_SUPPORT" "$_u"
    echo "$_u:pw-$_u" | chpasswd
    _home=$(getent passwd "$_u" | cut -d: -f6)
    mkdir -p "$_home/.ssh" && cp "$HG/id_user.pub" "$_home/.ssh/authorized_keys"
    chown -R "$_u:" "$_home/.ssh" && chmod 0700 "$_home/.ssh"
}

# hg_group_fill GROUP N: appends N member names to GROUP's line in /etc/group (gpasswd and
# groupmod accept existing accounts only), under shadow's own lock (/etc/group.lock, made by
# link() as useradd makes it), so other tests' useradd and groupdel on this machine wait.
hg_group_fill() {
    $PYTHON - "$1" "$2" "lbxe2e${HG_ID}m" <<'PY'
import os, sys, time
group, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tmp = "/etc/group.%d" % os.getpid()
with open(tmp, "w") as f:
    f.write("%d" % os.getpid())
for _ in range(400):
    try:
        os.link(tmp, "/etc/group.lock")
        break
    except FileExistsError:
        time.sleep(0.05)
else:
    os.unlink(tmp)
    sys.exit("/etc/group.lock is held")
try:
    lines = open("/etc/group").read().split("\n")
    for i, line in enumerate(lines):
        f = line.split(":")
        if f[0] == group and len(f) == 4:
            names = [n for n in f[3].split(",") if n]
            f[3] = ",".join(["%s%05d" % (prefix, n) for n in range(count)] + names)
            lines[i] = ":".join(f)
            break
    else:
        sys.exit("no group " + group)
    st = os.stat("/etc/group")
    with open("/etc/group+", "w") as f:
        f.write("\n".join(lines))
    os.chmod("/etc/group+", st.st_mode & 0o7777)
    os.rename("/etc/group+", "/etc/group")
finally:
    os.unlink("/etc/group.lock")
    os.unlink(tmp)
PY
}

hg_nss_preload() {
    _shim=$BUILD_ABS/tests/pam_lockbox/nss_shim.so
    if [ -n "$HG_ASAN" ]; then echo "$(cc -print-file-name=libasan.so):$_shim"; else echo "$_shim"; fi
}

hg_mint() {
    _sub=$1 _ttl=$2
    shift 2
    $CTL token mint --key "$HG/keys/signing.key" --iss lockbox --aud "$HG_HOST" --sub "$_sub" \
        --ttl "$_ttl" --req LBX-7 --ticket T-123 "$@"
}

# hg_answer FILE STATUS BODY: the fake broker's next answers for one endpoint.
hg_answer() { printf '%s\n%s' "$2" "$3" >"$HG/broker/$1"; }

hg_grant() {
    _sub=$1 _ttl=$2 _jti=${3:-G-$HG_ID}
    _tok=$(hg_mint "$_sub" "$_ttl" --jti "$_jti") || return 1
    _exp=$($CTL token verify --keys "$HG/keys" --iss lockbox --aud "$HG_HOST" --sub "$_sub" "$_tok" |
        $PYTHON -c 'import json,sys; print(json.load(sys.stdin)["exp"])')
    hg_answer token 200 "{\"token\":\"$_tok\",\"grant_id\":\"$_jti\",\"request_id\":\"LBX-7\",\"ticket\":\"T-123\",\"approved_by\":\"carol\",\"access_end\":$_exp}"
}

# hg_pam_service NAME MODULE-ARGS...: $HG/pam/NAME, a PAM service (for pam_driver's private
# PAM directory) whose account and session phases are pam_permit and pam_lockbox.so with
# this host's host.conf and MODULE-ARGS.
hg_pam_service() {
    _n=$1
    shift
    mkdir -p "$HG/pam"
    printf 'account required pam_permit.so\naccount required %s config=%s %s\n' \
        "$BUILD_ABS/pam_lockbox.so" "$HG/host.conf" "$*" >"$HG/pam/$_n"
    printf 'session required pam_permit.so\nsession required %s config=%s %s\n' \
        "$BUILD_ABS/pam_lockbox.so" "$HG/host.conf" "$*" >>"$HG/pam/$_n"
}

# hg_sshd_start: this host's sshd (its own port, PAM service and Match block) listening;
# HG_PORT, HG_SSHD_PID. A port taken between the probe and the bind is retried.
hg_sshd_start() {
    HG_SERVICE=sshd-lbx-$HG_ID
    ssh-keygen -q -t ed25519 -N '' -f "$HG/ssh_host_key"
    tap_privsep_dir
    ln -s /usr/sbin/sshd "$HG/$HG_SERVICE"
    cat >"/etc/pam.d/$HG_SERVICE" <<EOF
auth     required pam_unix.so
account  required pam_unix.so
account  required $BUILD_ABS/pam_lockbox.so config=$HG/host.conf ${HG_PAM_ARGS:-}
session  required pam_unix.so
session  required pam_env.so user_readenv=1
session  required $BUILD_ABS/pam_lockbox.so config=$HG/host.conf ${HG_PAM_ARGS:-}
EOF
    for _try in 1 2 3 4 5; do
        HG_PORT=$(free_port)
        hg__sshd_config
        # shellcheck disable=SC2086
        sshd_start "$HG/sshd.log" env $HG_ASAN ${HG_SSHD_ENV:-} "$HG/$HG_SERVICE" -D \
            -f "$HG/sshd_config" -E "$HG/sshd.log"
        case $? in
            0) HG_SSHD_PID=$SSHD_PID; return 0 ;;
            2) continue ;;
            *) return 1 ;;
        esac
    done
    return 1
}

hg__sshd_config() {
    cat >"$HG/sshd_config" <<EOF
Port $HG_PORT
ListenAddress 127.0.0.1
HostKey $HG/ssh_host_key
PidFile $HG/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication yes
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers lbxe2e$HG_ID*
PermitUserEnvironment no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
${HG_SSHD_EXTRA:-}
Match Group $HG_SUPPORT
    ForceCommand $HG/bin/lockbox-session
    DisableForwarding yes
    PermitTunnel no
    AllowTcpForwarding no
    AllowStreamLocalForwarding no
    X11Forwarding no
    AllowAgentForwarding no
    PermitUserRC no
    ClientAliveInterval 15
    ClientAliveCountMax 3
EOF
}

# hg_wait_port PORT: up to 5 s for something to accept connections on 127.0.0.1:PORT.
hg_wait_port() {
    for _i in $(seq 100); do
        $PYTHON -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" \
            2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

hg_ssh() {
    _u=$1
    shift
    "$SSH_CLIENT" -p "$HG_PORT" -i "$HG/id_user" "$_u" "$@"
}

hg_uid_procs() {
    ps -u "$1" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/'
}

hg_no_procs() { [ -z "$(hg_uid_procs "$1")" ]; }

# A process is gone once it is a zombie (PID 1 here may take its time to reap orphans).
hg_gone() { [ -z "$(ps -o stat= -p "$1" 2>/dev/null | grep -v '^Z')" ]; }

# Waits up to $2 seconds (default 5) for a condition command to succeed.
hg_wait() {
    _cmd=$1 _t=${2:-5}
    _end=$(($(date +%s%N) / 1000000 + _t * 1000))
    while [ $(($(date +%s%N) / 1000000)) -lt $_end ]; do
        eval "$_cmd" && return 0
        sleep 0.05
    done
    return 1
}

# Kills, by pid, every process of a test account (only accounts this script created).
hg_kill_uid() {
    for _p in $(ps -u "$1" -o pid= 2>/dev/null); do kill -KILL "$_p" 2>/dev/null; done
}

# hg_remove_user NAME: deletes a test account, killing what still runs as it first. userdel
# refuses an account with a live process, and a killed process can take a while to exit on a
# busy machine: it retries for up to 5 s, then says on stderr that the account is left.
hg_remove_user() {
    _tries=0
    while id -u "$1" >/dev/null 2>&1; do
        hg_kill_uid "$(id -u "$1")"
        userdel -r "$1" >/dev/null 2>&1 && return 0
        _tries=$((_tries + 1))
        if [ "$_tries" -ge 50 ]; then
            echo "hg_teardown: account $1 left behind: $(userdel -r "$1" 2>&1 | head -1)" >&2
            return 1
        fi
        sleep 0.1
    done
}

hg_teardown() {
    [ -n "${HG_SSHD_PID:-}" ] && kill "$HG_SSHD_PID" 2>/dev/null && wait "$HG_SSHD_PID" 2>/dev/null
    hg_fake_broker_stop
    for _u in $HG_USERS; do
        _uid=$(id -u "$_u" 2>/dev/null) && hg_kill_uid "$_uid"
    done
    for _u in $HG_USERS; do hg_remove_user "$_u"; done
    for _r in $(ls "$HG/run/sessions" 2>/dev/null | sed -n 's/\.json$//p'); do
        _p=$($PYTHON -c "import json; print(json.load(open('$HG/run/sessions/$_r.json'))['reaper_pid'])" 2>/dev/null)
        [ -n "$_p" ] && [ "$_p" -gt 1 ] && kill -KILL "$_p" 2>/dev/null
    done
    for _m in /sys/fs/cgroup/unified /sys/fs/cgroup/freezer /sys/fs/cgroup; do
        [ -d "$_m/lockbox-test-$HG_ID" ] || continue
        find "$_m/lockbox-test-$HG_ID" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
        rmdir "$_m/lockbox-test-$HG_ID" 2>/dev/null
    done
    [ -n "${HG_SERVICE:-}" ] && rm -f "/etc/pam.d/$HG_SERVICE"
    groupdel "$HG_SUPPORT" 2>/dev/null
    groupdel "$HG_RECGROUP" 2>/dev/null
    mountpoint -q "$HG/run" && umount "$HG/run" # the benchmark's tmpfs
    rm -rf "$HG"
}
