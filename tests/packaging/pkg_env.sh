# Helpers for the package tests: a throwaway sshd built from the INSTALLED configuration
# (/etc/ssh/sshd_config with its sshd_config.d snippets, /etc/pam.d/sshd and the common-*
# stack), logins through it, and a byte-for-byte snapshot of everything a package touches so
# the machine is restored exactly, whatever happens. Source it after tests/support/tap.sh.
# Other people's tests use sshd and PAM on this machine at the same time: nothing here kills a
# process it did not start, and the system-wide window (packages installed) is kept short.

. tests/support/ports.sh
. tests/support/sshd.sh
PKG_SSHD=/usr/sbin/sshd
PKG_PAM_FILES="common-account common-auth common-password common-session common-session-noninteractive"
PKG_STATE_PATHS="/etc/lockbox /var/lib/lockbox /var/log/lockbox /var/spool/lockbox /run/lockbox
/etc/ssh/sshd_config.d/lockbox.conf"
PKG_NAMES="lockbox-host lockbox-broker lockbox-client"
# sshd -t (run by the tests and by the packages' own scripts) insists on sshd's
# privilege-separation directory, which a real host has (made for the test if not).
tap_privsep_dir

# quiet CMD...: for check/check_fails, whose own "ok" line must not be redirected away.
quiet() { "$@" >/dev/null 2>&1; }

# pkg_snapshot DIR: what the packages may change, saved before they are installed.
pkg_snapshot() {
    mkdir -p "$1/pam.d" "$1/varlibpam"
    for f in $PKG_PAM_FILES; do cp -p "/etc/pam.d/$f" "$1/pam.d/$f"; done
    cp -p /var/lib/pam/* "$1/varlibpam/"
    ls /etc/ssh/sshd_config.d >"$1/snippets"
    : >"$1/absent"
    getent passwd lockbox >/dev/null || echo "user lockbox" >>"$1/absent"
    for g in lockbox-support lockbox-rec lockbox; do
        getent group "$g" >/dev/null || echo "group $g" >>"$1/absent"
    done
    for p in $PKG_STATE_PATHS; do [ -e "$p" ] || echo "$p" >>"$1/absent"; done
    dpkg-statoverride --list >"$1/statoverride"
}

# pkg_pam_unchanged DIR: the PAM stack is byte-for-byte what it was.
pkg_pam_unchanged() {
    for f in $PKG_PAM_FILES; do cmp -s "$1/pam.d/$f" "/etc/pam.d/$f" || return 1; done
    return 0
}

# pkg_restore DIR: purge the packages, put back whatever the snapshot says was not there, and
# the PAM files byte-for-byte. Safe to run more than once.
pkg_restore() {
    for p in $PKG_NAMES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed' &&
            dpkg --purge --force-remove-reinstreq "$p" >/dev/null 2>&1
    done
    [ -f "$1/absent" ] || return 0
    if ! pkg_pam_unchanged "$1"; then
        for f in $PKG_PAM_FILES; do cp -p "$1/pam.d/$f" "/etc/pam.d/$f"; done
        cp -p "$1"/varlibpam/* /var/lib/pam/
    fi
    while read -r what name; do
        case "$what" in
            user) getent passwd "$name" >/dev/null && userdel "$name" ;;
            group) getent group "$name" >/dev/null && groupdel "$name" ;;
            /*) rm -rf "$what" ;;
        esac
    done <"$1/absent"
}

# pkg_sshd_start WORK: an sshd on a free 127.0.0.1 port reading the installed configuration,
# with its own host key, pid file and authorized keys (WORK/keys/<user>). Sets PKG_PORT and
# PKG_SSHD_PID; returns non-zero when sshd does not come up. Other tests bind ports on this
# machine at the same time: a port taken between the probe and the bind is retried.
pkg_sshd_start() {
    [ -f "$1/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$1/hostkey"
    for _try in 1 2 3 4 5; do
        pkg__sshd_try "$1"
        case $? in
            0) return 0 ;;
            2) continue ;;
            *) return 1 ;;
        esac
    done
    return 1
}

pkg__sshd_try() {
    PKG_PORT=$(free_port)
    cat >"$1/sshd_config" <<EOF
Port $PKG_PORT
ListenAddress 127.0.0.1
HostKey $1/hostkey
PidFile $1/sshd.pid
AuthorizedKeysFile $1/keys/%u
Include /etc/ssh/sshd_config
EOF
    sshd_start "$1/sshd.log" $PKG_SSHD -D -f "$1/sshd_config" -E "$1/sshd.log"
    _rc=$?
    PKG_SSHD_PID=$SSHD_PID
    return $_rc
}

pkg_sshd_stop() {
    [ -n "${PKG_SSHD_PID:-}" ] || return 0
    kill "$PKG_SSHD_PID" 2>/dev/null
    wait "$PKG_SSHD_PID" 2>/dev/null
    PKG_SSHD_PID=
}

# pkg_user_key WORK USER: a key pair WORK/id_USER whose public half USER may log in with.
pkg_user_key() {
    mkdir -p "$1/keys"
    chmod 755 "$1" "$1/keys"
    [ -f "$1/id_$2" ] || ssh-keygen -q -t ed25519 -N '' -f "$1/id_$2"
    cp "$1/id_$2.pub" "$1/keys/$2"
    chmod 644 "$1/keys/$2"
}

# pkg_ssh WORK USER CMD...: logs in with the user's key; output in WORK/ssh.out (banner too).
# The e2e tests' libssh client when it is built (it prints the PAM banner as "banner: ..."
# even after a refusal), else OpenSSH's client.
pkg_ssh() {
    for _try in 1 2 3; do
        pkg__ssh "$@" && return 0
        # A refused connection (not a refused login) is retried: sshd may be restarting.
        grep -q "Connection refused" "$1/ssh.out" || return 1
        sleep 0.3
    done
    return 1
}

pkg__ssh() {
    w=$1; u=$2; shift 2
    if [ -x "${BUILD:-build}/tests/e2e/ssh_client" ]; then
        timeout 20 "${BUILD:-build}/tests/e2e/ssh_client" -p "$PKG_PORT" -i "$w/id_$u" "$u" "$*" \
            >"$w/ssh.out" 2>&1
    else
        timeout 20 ssh -F /dev/null -p "$PKG_PORT" -i "$w/id_$u" -o BatchMode=yes \
            -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
            -o LogLevel=INFO "$u@127.0.0.1" "$@" >"$w/ssh.out" 2>&1
    fi
}

# pkg_logs_in WORK USER: the user gets a shell command run (not just a connection).
pkg_logs_in() {
    pkg_ssh "$1" "$2" echo lbx-login-ok && grep -qx lbx-login-ok "$1/ssh.out"
}

# --- the broker, run the way the installed unit runs it -------------------------------------
# pkg_broker_setup WORK: what lockboxd(8) tells an administrator to do after installing
# lockbox-broker: a server certificate from the customer's CA (WORK/pki/ca.*), a signing key
# made by the service user, a configuration listening on 127.0.0.1.
pkg_broker_setup() {
    . tests/support/pki.sh
    mkdir -p "$1/pki"
    pki_ca "$1/pki" ca && chmod 600 "$1/pki/ca.key" &&
        pki_cert "$1/pki" ca broker localhost server || return 1
    install -m 0644 "$1/pki/broker.crt" /etc/lockbox/broker.crt
    install -m 0600 -o lockbox -g lockbox "$1/pki/broker.key" /etc/lockbox/broker.key
    install -m 0644 "$1/pki/ca.crt" /etc/lockbox/ca.pem
    install -d -o lockbox -g lockbox -m 0700 /var/lib/lockbox/keys
    runuser -u lockbox -- lockboxctl key generate --out /var/lib/lockbox/keys >/dev/null || return 1
    sed -i -e 's|^listen = .*|listen = 127.0.0.1:0|' \
        -e 's|^#ready_file =.*|ready_file = /var/lib/lockbox/port|' /etc/lockbox/lockboxd.conf
}

# pkg_broker_start WORK: the unit's ExecStartPre and ExecStart lines, as its User= and UMask=.
# Sets PKG_BROKER_PID and PKG_BROKER_URL.
pkg_broker_start() {
    unit=/lib/systemd/system/lockboxd.service
    pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
    cmd=$(sed -n 's/^ExecStart=//p' "$unit")
    rm -f /var/lib/lockbox/port
    # shellcheck disable=SC2086
    setpriv --reuid=lockbox --regid=lockbox --init-groups $pre >>"$1/lockboxd.log" 2>&1 || return 1
    # shellcheck disable=SC2086
    (umask 077 && exec setpriv --reuid=lockbox --regid=lockbox --init-groups $cmd) \
        >>"$1/lockboxd.log" 2>&1 &
    PKG_BROKER_PID=$!
    i=0
    while [ ! -s /var/lib/lockbox/port ] && [ $i -lt 100 ]; do
        kill -0 "$PKG_BROKER_PID" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    [ -s /var/lib/lockbox/port ] || return 1
    PKG_BROKER_URL="https://127.0.0.1:$(cat /var/lib/lockbox/port)"
}

pkg_broker_stop() {
    [ -n "${PKG_BROKER_PID:-}" ] || return 0
    kill -TERM "$PKG_BROKER_PID" 2>/dev/null
    wait "$PKG_BROKER_PID" 2>/dev/null
    PKG_BROKER_PID=
}

# pkg_ctl TOKEN ARGS...: the installed lockboxctl against the running broker.
pkg_ctl() {
    _tok=$1; shift
    LOCKBOX_URL=$PKG_BROKER_URL LOCKBOX_CA=/etc/lockbox/ca.pem LOCKBOX_TOKEN=$_tok lockboxctl "$@"
}
