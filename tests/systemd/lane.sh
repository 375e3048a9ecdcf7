# The systemd lane (source it after tests/support/tap.sh): a Debian 12 host booted with systemd
# as PID 1 in a systemd-nspawn container, lockbox's own .deb packages installed in it with apt,
# and the broker and the host set up exactly as docs/install.md tells an administrator. Every
# tests/systemd/t_*.sh script boots one throwaway container and drives it with nsenter (as root
# inside) and SSH over 127.0.0.1 (as the engineer).
#
#   sd_setup              the cached root, the packages, a booted container with
#                         docs/install.md's installation done (a failure ends the script with
#                         a TAP failure)
#   sd_exec CMD...        CMD as root inside the container (its namespaces, a clean environment)
#   sd_sh 'SCRIPT'        the same through sh -c
#   sd_user NAME [support] an account inside, logging in with the lane's key
#   sd_ssh USER ARGS...   the libssh client (build/tests/e2e/ssh_client) against the container's sshd
#   sd_ctl WHO ARGS...    the installed lockboxctl as admin, eng-LOGIN or appr (their ctl.conf)
#   sd_grant LOGIN DUR    a request by LOGIN's engineer, approved: SD_REQ, SD_GRANT_EXP (epoch s)
#                         (the steps apart: sd_request, sd_approve, sd_grant_exp)
#   sd_revoke             the approver revokes SD_REQ
#   sd_procs USER         live (non-zombie) processes of USER inside the container
#   sd_wait_gone USER SECS  waits until USER has no process; prints the ms epoch it saw that at
#   sd_markers_running USER / sd_wait_markers USER SECS MARKER... / sd_markers_all
#                         which "sleep 10NN" markers (tests/systemd/escape.sh) run for USER /
#                         wait until all of them do / "USER MARKER" lines for every account
#   /opt/lane/gone        (inside; tests/systemd/gone.c) the teardown lag of several accounts
#   sd_audit ACTION       the broker's audit events of ACTION (JSON lines) through lockboxctl
#
# Nothing is left behind: the container's root is an overlay (mounted in a private mount
# namespace, so it cannot outlive systemd-nspawn) over a root cached in build/systemd-lane,
# systemd-nspawn is stopped by pid, the cgroups made for it are removed, its directory too.
# What a machine needs: root, systemd-nspawn (systemd-container), debootstrap, overlayfs,
# cgroup2 mounted (pure v2, or hybrid beside v1), and deb.debian.org the first time.

BUILD=${BUILD:-build}
SD_TOP=$(pwd)
. tests/support/ports.sh
BUILD_ABS=$(cd "$BUILD" && pwd)
SD_CACHE=$BUILD_ABS/systemd-lane
SD_SSH_CLIENT=$BUILD_ABS/tests/e2e/ssh_client
SD_GONE=$BUILD_ABS/tests/systemd/gone
# How long before exp the host ends a grant (LBX_END_LEAD_MS): an end that early is not early.
SD_END_LEAD_MS=$(sed -n 's/^#define LBX_END_LEAD_MS \([0-9]*\)$/\1/p' "$SD_TOP/lib/host/grant_end.h")

# The root's recipe: its hash names the cached root, so any change here builds a new one.
SD_SUITE=bookworm
SD_MIRROR=http://deb.debian.org/debian
# systemd and logind with user managers, dbus (system and user bus), polkit (what decides
# `loginctl enable-linger`), sshd, cron, at, the multiplexers, and every runtime library the
# lockbox packages depend on (packaging/debian/control), so `apt install ./lockbox-*.deb` needs
# no network. openssl makes the administrator's CA.
SD_PACKAGES="systemd systemd-sysv dbus dbus-user-session libpam-systemd polkitd openssh-server
cron at tmux screen procps psmisc iproute2 ca-certificates openssl adduser libpam-modules
libpam-runtime libssl3 libjansson4 libevent-2.1-7 libevent-openssl-2.1-7 libsqlite3-0 libpq5"
# Units that have no place in a container with a passive console.
SD_MASK="console-getty.service getty@tty1.service e2scrub_reap.service"
SD_RECIPE_VERSION=1

sd_skip_all() { ok "# SKIP $*"; tap_done; exit 0; }
sd_bail() { fail "$*"; tap_done; exit 1; }
sd_now_ms() { echo $(($(date +%s%N) / 1000000)); }
sd_rand() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }

sd_recipe() {
    printf '%s\n' "version $SD_RECIPE_VERSION" "suite $SD_SUITE" "mirror $SD_MIRROR" \
        "packages $(echo $SD_PACKAGES)" "masked $SD_MASK"
}

# sd_root: the cached root for this recipe (built once, under an exclusive lock); the script
# keeps a shared lock on it (fd 8) while it runs, so no other run replaces it underneath.
sd_root() {
    mkdir -p "$SD_CACHE" || return 1
    SD_ROOT=$SD_CACHE/root-$(sd_recipe | sha256sum | cut -c1-16)
    exec 8>"$SD_CACHE/root.lock"
    flock -s -w 900 8 || return 1
    [ -f "$SD_ROOT/.lane-complete" ] && return 0
    flock -x -w 900 8 || return 1
    if [ ! -f "$SD_ROOT/.lane-complete" ]; then
        diag "building the lane's Debian root (debootstrap, about 2 minutes, cached after)"
        sd__build_root || { flock -u 8; return 1; }
    fi
    flock -s 8
}

sd__build_root() {
    _tmp=$SD_ROOT.tmp
    # debootstrap mounts /proc and /sys in the target: in a mount namespace of its own they go
    # away with it, even when it is killed midway.
    rm -rf --one-file-system "$_tmp"
    unshare -m --propagation private debootstrap --variant=minbase \
        --include="$(echo $SD_PACKAGES | tr ' ' ,)" "$SD_SUITE" "$_tmp" "$SD_MIRROR" \
        >"$SD_CACHE/debootstrap.log" 2>&1 || {
        tail -5 "$SD_CACHE/debootstrap.log" | sed 's/^/# debootstrap: /'
        return 1
    }
    # shellcheck disable=SC2086
    chroot "$_tmp" systemctl mask $SD_MASK >/dev/null 2>&1 &&
        chroot "$_tmp" apt-get clean && rm -rf "$_tmp"/var/lib/apt/lists/* || return 1
    sd_recipe >"$_tmp/.lane-complete"
    for _old in "$SD_CACHE"/root-*; do
        [ "$_old" = "$SD_ROOT" ] || [ "$_old" = "$_tmp" ] || rm -rf --one-file-system "$_old"
    done
    mv "$_tmp" "$SD_ROOT"
}

# sd_debs: the .debs of this tree (packaging/build-deb.sh --source-id names its sources): the
# ones in $BUILD/deb when they are of this tree (tests/packaging/t_deb_install.sh made them),
# else `make deb`; kept in build/systemd-lane/debs-<id> for the lane's other scripts.
sd_debs() {
    _id=$(sh "$SD_TOP/packaging/build-deb.sh" --source-id)
    [ -n "$_id" ] || _id=untracked-$(date +%s%N)
    SD_DEBS=$SD_CACHE/debs-$_id
    exec 7>"$SD_CACHE/debs.lock"
    flock -w 900 7 || return 1
    if [ ! -f "$SD_DEBS/.complete" ]; then
        if [ "$(cat "$BUILD_ABS/deb/source-id" 2>/dev/null)" != "$_id" ] &&
            ! make --no-print-directory -s deb BUILD="$BUILD" >"$SD_CACHE/deb.log" 2>&1; then
            tail -10 "$SD_CACHE/deb.log" | sed 's/^/# make deb: /'
            flock -u 7
            return 1
        fi
        rm -rf "$SD_CACHE"/debs-*
        mkdir -p "$SD_DEBS" && cp "$BUILD_ABS"/deb/*.deb "$SD_DEBS"/ && touch "$SD_DEBS/.complete"
    fi
    flock -u 7
}

# The cgroup hierarchies systemd-nspawn writes to: every cgroup2 mount and the v1 name=systemd
# one (hybrid hosts). Each gets a cgroup of this container's own, removed at teardown.
sd_cgroup_roots() {
    awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); o = $(i + 3) } }
        t == "cgroup2" || (t == "cgroup" && o ~ /(^|,)name=systemd(,|$)/) { print $5 }' \
        /proc/self/mountinfo
}

# sd_boot: a fresh overlay over the cached root, booted; sets SD_PID1 (the container's PID 1
# as this machine sees it), SD_NSPAWN_PID, SD_SSH_PORT. $SD_RUN/share is the container's
# /opt/lane/share (what a script hands to the programs it runs inside, while they run).
sd_boot() {
    SD_ID=$(sd_rand)
    SD_NAME=lbx-lane-$SD_ID
    SD_RUN=$(mktemp -d "$SD_CACHE/run.XXXXXX") || return 1
    tap_cleanup sd_teardown
    mkdir -p "$SD_RUN/upper" "$SD_RUN/work" "$SD_RUN/merged" "$SD_RUN/upper/opt/lane/debs" \
        "$SD_RUN/upper/etc/ssh/sshd_config.d" "$SD_RUN/share" || return 1
    SD_SSH_PORT=$(free_port)
    # The container shares this machine's network: its sshd on a port of its own, loopback only,
    # and not dropping some of the ten logins a script starts at once (MaxStartups 10:30:100).
    printf 'Port %s\nListenAddress 127.0.0.1\nMaxStartups 50\n' "$SD_SSH_PORT" \
        >"$SD_RUN/upper/etc/ssh/sshd_config.d/00-lane.conf"
    cp "$SD_DEBS"/*.deb "$SD_RUN/upper/opt/lane/debs/"
    ssh-keygen -q -t ed25519 -N '' -f "$SD_RUN/id_user" || return 1
    cp "$SD_RUN/id_user.pub" "$SD_RUN/upper/opt/lane/id_user.pub"
    install -m 0755 "$SD_TOP/tests/systemd/escape.sh" "$SD_GONE" "$SD_RUN/upper/opt/lane/"
    SD_CGROUPS=""
    for _r in $(sd_cgroup_roots); do
        mkdir "$_r/$SD_NAME" && SD_CGROUPS="$SD_CGROUPS $_r/$SD_NAME" || return 1
    done
    # shellcheck disable=SC2016
    setsid unshare -m --propagation private sh -c '
        run=$1; root=$2; name=$3; shift 3
        for cg; do echo $$ >"$cg/cgroup.procs" || exit 1; done
        mount -t overlay overlay -o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work" \
            "$run/merged" || exit 1
        # the name of the lock systemd-nspawn takes on the directory it boots
        stat -c "inode-%d:%i" "$run/merged" >"$run/nspawn-lock"
        exec systemd-nspawn -q -D "$run/merged" -M "$name" -b --register=no --keep-unit \
            --console=passive --bind="$run/share:/opt/lane/share"' sh "$SD_RUN" "$SD_ROOT" "$SD_NAME" $SD_CGROUPS \
        </dev/null >"$SD_RUN/nspawn.log" 2>&1 &
    SD_NSPAWN_PID=$!
    SD_PID1=""
    _i=0
    while [ -z "$SD_PID1" ] && [ $_i -lt 200 ]; do
        kill -0 "$SD_NSPAWN_PID" 2>/dev/null || break
        SD_PID1=$(cat /proc/"$SD_NSPAWN_PID"/task/*/children 2>/dev/null | awk '{ print $1 }')
        [ -n "$SD_PID1" ] && [ "$(cat /proc/"$SD_PID1"/comm 2>/dev/null)" = systemd ] || SD_PID1=""
        sleep 0.05
        _i=$((_i + 1))
    done
    if [ -z "$SD_PID1" ]; then
        tail -5 "$SD_RUN/nspawn.log" | sed 's/^/# nspawn: /'
        return 1
    fi
    # systemctl answers once PID 1 has its private socket; --wait then waits for the boot.
    _end=$(($(date +%s) + 90))
    while :; do
        _state=$(timeout 90 nsenter -t "$SD_PID1" -a systemctl is-system-running --wait 2>&1)
        case "$_state" in *"Failed to connect"*) ;; *) break ;; esac
        [ "$(date +%s)" -lt $_end ] || break
        sleep 0.1
    done
    SD_BOOT_STATE=$_state
    case "$_state" in
        running | degraded) ;;
        *) diag "container state: $_state"; return 1 ;;
    esac
}

# sd__tree PID: PID's descendants, children first
sd__tree() {
    for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        sd__tree "$_c"
        echo "$_c"
    done
}

sd_teardown() {
    # The script's background work still running (a script stopped midway): its watchers and
    # their nsenter, which stays stopped for good once a command it runs was stopped by the
    # container's poweroff. By pid, the lane's own processes only.
    if [ -n "${SD_RUN:-}" ] && jobs -p >"$SD_RUN/jobs" 2>/dev/null; then
        for _j in $(cat "$SD_RUN/jobs"); do
            [ "$_j" = "${SD_NSPAWN_PID:-}" ] && continue # the container: powered off below
            # shellcheck disable=SC2046
            kill -KILL $(sd__tree "$_j") "$_j" 2>/dev/null
        done
    fi
    if [ -n "${SD_NSPAWN_PID:-}" ]; then
        # SIGTERM: systemd-nspawn asks the container's systemd to power off (about 2 s; more
        # with many sessions on a loaded machine).
        kill -TERM "$SD_NSPAWN_PID" 2>/dev/null
        _i=0
        while kill -0 "$SD_NSPAWN_PID" 2>/dev/null && [ $_i -lt 300 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        if kill -0 "$SD_NSPAWN_PID" 2>/dev/null; then
            [ -n "${SD_PID1:-}" ] && kill -KILL "$SD_PID1" 2>/dev/null
            kill -KILL "$SD_NSPAWN_PID" 2>/dev/null
        fi
        wait "$SD_NSPAWN_PID" 2>/dev/null
        SD_NSPAWN_PID=""
        # What systemd-nspawn removes itself when it can end normally; not a lock someone holds.
        rmdir "/run/systemd/nspawn/propagate/$SD_NAME" 2>/dev/null
        _lock=/run/systemd/nspawn/locks/$(cat "$SD_RUN/nspawn-lock" 2>/dev/null)
        [ -f "$_lock" ] && flock -n -x "$_lock" rm -f "$_lock"
    fi
    for _cg in ${SD_CGROUPS:-}; do
        [ -d "$_cg" ] && find "$_cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if [ -n "${SD_RUN:-}" ]; then
        # The overlay lived in a private mount namespace; anything still mounted below the run
        # directory would be a bug, and rm must never descend into it.
        awk -v d="$SD_RUN" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
            sort -r | while read -r _m; do umount -l "$_m"; done
        rm -rf --one-file-system "$SD_RUN"
        SD_RUN=""
    fi
}

sd_exec() {
    nsenter -t "$SD_PID1" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 "$@"
}
sd_sh() { sd_exec sh -c "$1"; }

sd_ssh() {
    _u=$1
    shift
    # A login that hangs is a failure of its own, not a test run that never ends.
    timeout "${SD_SSH_TIMEOUT:-60}" "$SD_SSH_CLIENT" -p "$SD_SSH_PORT" -i "$SD_RUN/id_user" "$_u" "$@"
}

# sd_user NAME [support]: an account as an administrator makes one (adduser), with the lane's
# key; "support" puts it in lockbox-support.
sd_user() {
    sd_sh "adduser --disabled-password --gecos '' --shell /bin/bash '$1' >/dev/null &&
        install -d -o '$1' -g '$1' -m 0700 /home/'$1'/.ssh &&
        install -o '$1' -g '$1' -m 0600 /opt/lane/id_user.pub /home/'$1'/.ssh/authorized_keys" ||
        return 1
    [ "${2:-}" = support ] || return 0
    sd_exec adduser --quiet "$1" lockbox-support
}

sd_ctl() {
    _who=$1
    shift
    sd_exec lockboxctl --config "/root/lane/$_who.conf" "$@"
}

sd_uid() { sd_exec id -u "$1"; }

sd_procs() { sd_exec ps -u "$1" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/'; }

# sd_wait_gone USER SECS: polls inside the container; prints the ms epoch of the first poll
# that found no live process of USER (empty and non-zero when SECS pass first).
sd_wait_gone() {
    sd_exec sh -c 'end=$(($(date +%s) + $2))
        while [ "$(date +%s)" -le $end ]; do
            if [ -z "$(ps -u "$1" -o stat= | grep -v "^Z")" ]; then
                echo $(($(date +%s%N) / 1000000)); exit 0; fi
            sleep 0.02
        done
        exit 1' sh "$1" "$2"
}

# sd_grant LOGIN DURATION: the engineer of LOGIN asks, the approver approves.
sd_grant() { sd_request "$1" "$2" && sd_approve && SD_GRANT_EXP=$(sd_grant_exp "$SD_REQ"); }
# sd_request LOGIN DURATION: the request alone (SD_REQ); its grant's clock starts at sd_approve.
sd_request() {
    SD_REQ=$(sd_ctl "eng-$1" request create --host "$SD_HOST" --ticket "T-$SD_ID" \
        --reason "systemd lane" --duration "$2" | awk 'NR == 1 { print $1 }')
    [ -n "$SD_REQ" ]
}
sd_approve() { sd_ctl appr approve "$SD_REQ" >/dev/null; }
# sd_grant_exp REQ: the end of REQ's approved grant (epoch s)
sd_grant_exp() {
    sd_ctl appr --json show "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r.get("access_expiry") or r.get("access_end") or r["expires"])' 2>/dev/null | grep .
}

# SD_ESCAPES: the markers of tests/systemd/escape.sh (nohup, setsid, double fork, tmux, screen,
# systemd-run --user service and scope, D-Bus activation, a stopped process, a fork loop).
SD_ESCAPES="1001 1002 1003 1004 1005 1006 1007 1008 1009 1010"
# sd_markers_running USER: the markers ("sleep 10NN", whichever path started sleep) of USER's
# processes now running, sorted, on one line.
sd_markers_running() {
    sd_procs "$1" | awk '$3 ~ /(^|\/)sleep$/ && $4 ~ /^10[0-9][0-9]$/ { print $4 }' |
        sort -u | tr '\n' ' ' | sed 's/ $//'
}
# sd_markers_all: "USER MARKER" for each marker running, every account at once (one ps).
sd_markers_all() {
    sd_exec ps -e -o user:32=,stat=,args= 2>/dev/null |
        awk '$2 !~ /^Z/ && $3 ~ /(^|\/)sleep$/ && $4 ~ /^10[0-9][0-9]$/ { print $1, $4 }' | sort -u
}
# sd_wait_markers USER SECS MARKER...: waits until every MARKER runs for USER (1 when SECS pass).
sd_wait_markers() {
    _u=$1
    _end=$(($(date +%s) + $2))
    shift 2
    while :; do
        _run=" $(sd_markers_running "$_u") "
        _missing=""
        for _m; do case "$_run" in *" $_m "*) ;; *) _missing="$_missing $_m" ;; esac; done
        [ -z "$_missing" ] && return 0
        [ "$(date +%s)" -lt "$_end" ] || { diag "$_u: not running:$_missing"; return 1; }
        sleep 0.2
    done
}

sd_revoke() { sd_ctl appr revoke "$SD_REQ" --comment "systemd lane" >/dev/null; }

sd_audit() { sd_ctl admin --json audit export --action "$1"; }

# sd_preflight: why this machine cannot run the lane's container (nothing when it can): not
# root, a tool missing, no cgroup2, no overlayfs in a mount namespace, no cgroup of our own.
sd_preflight() {
    [ "$(id -u)" -eq 0 ] || { echo "needs root"; return; }
    for _c in debootstrap systemd-nspawn nsenter unshare flock; do
        command -v "$_c" >/dev/null || { echo "$_c missing (make deps-test installs it)"; return; }
    done
    [ -n "$(sd_cgroup_roots)" ] || { echo "no cgroup2 mounted"; return; }
    mkdir -p "$SD_CACHE" && _d=$(mktemp -d "$SD_CACHE/preflight.XXXXXX") ||
        { echo "cannot write $SD_CACHE"; return; }
    _why=""
    mkdir "$_d/l" "$_d/u" "$_d/w" "$_d/m"
    # The mount lives in unshare's namespace and goes with it.
    unshare -m --propagation private mount -t overlay overlay \
        -o "lowerdir=$_d/l,upperdir=$_d/u,workdir=$_d/w" "$_d/m" 2>/dev/null ||
        _why="no overlayfs in a mount namespace of its own"
    for _r in $(sd_cgroup_roots); do
        mkdir "$_r/lbx-lane-preflight-$$" 2>/dev/null && rmdir "$_r/lbx-lane-preflight-$$" ||
            _why="${_why:-cannot make a cgroup in $_r}"
    done
    rm -rf --one-file-system "$_d"
    echo "$_why"
}

# sd_finish: the container stopped now rather than at exit, a last test that nothing of it is
# left on this machine (processes, mounts, cgroups, systemd-nspawn's runtime files, its
# directory), then the TAP plan.
sd_finish() {
    _name=$SD_NAME _run=$SD_RUN _cgs=$SD_CGROUPS _pid=$SD_NSPAWN_PID
    sd_teardown
    _left=""
    kill -0 "$_pid" 2>/dev/null && _left="$_left systemd-nspawn($_pid)"
    for _p in /proc/[0-9]*; do
        case "$(readlink "$_p/root" 2>/dev/null)" in "$_run"*) _left="$_left process(${_p#/proc/})" ;; esac
    done
    for _cg in $_cgs; do [ -d "$_cg" ] && _left="$_left $_cg"; done
    grep -q " $_run" /proc/self/mountinfo && _left="$_left mounts-under-$_run"
    [ -e "$_run" ] && _left="$_left $_run"
    for _f in /run/systemd/nspawn/*/"$_name"*; do [ -e "$_f" ] && _left="$_left $_f"; done
    check "nothing of the container left on this machine (${_left:-none})" test -z "$_left"
    tap_done
}

# sd_setup: everything a lane script starts from, or a TAP failure and the end of the script.
sd_setup() {
    _why=$(sd_preflight)
    [ -z "$_why" ] || sd_skip_all "systemd lane: $_why"
    for _p in "$SD_SSH_CLIENT" "$SD_GONE"; do [ -x "$_p" ] || sd_bail "$_p not built"; done
    sd_root || sd_bail "the lane's Debian root (debootstrap from $SD_MIRROR)"
    sd_debs || sd_bail "make deb"
    _t0=$(sd_now_ms)
    sd_boot || sd_bail "the container boots with systemd"
    ok "container booted to '$SD_BOOT_STATE' in $(($(sd_now_ms) - _t0)) ms"
    _t0=$(sd_now_ms)
    if sd_install >"$SD_RUN/install.log" 2>&1; then
        ok "installed and set up as docs/install.md says ($(($(sd_now_ms) - _t0)) ms)"
    else
        tail -15 "$SD_RUN/install.log" | sed 's/^/# install: /'
        sd_bail "installed and set up as docs/install.md says"
    fi
}

# sd_readme_steps: the shell blocks of docs/install.md's "From an empty machine to a granted login"
# up to the activation, with the lane's address and port put in for the example broker's, the
# staged packages for "./", and apt made non-interactive. Nothing else is changed: when the
# document is wrong, the lane fails.
sd_readme_steps() {
    awk '/^## From an empty machine to a granted login/ { on = 1; next }
        on && /^## / { exit }
        on && /^Then alice asks/ { exit }
        on && /^```sh$/ { code = 1; next }
        on && /^```$/ { code = 0; next }
        on && code' "$SD_TOP/docs/install.md" |
        sed -e "s|DNS:broker\.example\.net|IP:127.0.0.1|g" \
            -e "s|broker\.example\.net:8443|127.0.0.1:$SD_BROKER_PORT|g" \
            -e "s|0\.0\.0\.0:8443|127.0.0.1:$SD_BROKER_PORT|g" \
            -e "s|broker\.example\.net|127.0.0.1|g" \
            -e "s|\./lockbox-|/opt/lane/debs/lockbox-|g" \
            -e "s|^apt install |DEBIAN_FRONTEND=noninteractive apt-get install -y -q |"
}

# sd_install: docs/install.md's steps as root inside the container, then the lane's own people:
# SD_LOGINS support accounts (support-alice is the document's), each with an engineer
# eng-LOGIN, and the document's approver carol (appr); their lockboxctl settings in /root/lane.
sd_install() {
    SD_BROKER_PORT=$(free_port)
    SD_HOST=node-7
    sd_readme_steps >"$SD_RUN/readme-steps.sh"
    [ -s "$SD_RUN/readme-steps.sh" ] || return 1
    sd_sh 'mkdir -p /opt/lane && cat >/opt/lane/readme-steps.sh' <"$SD_RUN/readme-steps.sh" &&
        sd_sh 'install -d -m 0700 /root/lockbox-ca /root/lane &&
            cp /opt/lane/id_user.pub /root/lockbox-ca/alice.pub' || return 1
    echo "--- docs/install.md steps"
    cat "$SD_RUN/readme-steps.sh"
    sd_exec sh -eux -c 'cd /root && . /opt/lane/readme-steps.sh' || return 1
    echo "--- the lane's people"
    sd_sh 'cp /root/.config/lockbox/ctl.conf /root/lane/admin.conf' || return 1
    sd_person appr carol || return 1
    sd_person eng-support-alice alice || return 1
    for _l in ${SD_LOGINS:-}; do
        sd_user "$_l" support && sd_ctl admin identity create "eng-$_l" --login "$_l" &&
            sd_ctl admin role assign "eng-$_l" engineer global &&
            sd_person "eng-$_l" "eng-$_l" || return 1
    done
}

# sd_person CONF IDENTITY: an API token for IDENTITY in /root/lane/CONF.conf.
sd_person() {
    _tok=$(sd_ctl admin api-token create "$2" | tail -1)
    [ -n "$_tok" ] || return 1
    sd_sh "sed 's|^token = .*|token = $_tok|' /root/lane/admin.conf >/root/lane/$1.conf &&
        chmod 0600 /root/lane/$1.conf"
}
