#!/bin/sh
# The systemd lane, `lockbox-host-setup check` on a host installed and set up as docs/install.md says
# (tests/systemd/lane.sh; docs/install.md's own steps already ran it once): every line "ok" from a
# root shell outside any session and from a root ssh login, where the logind kind is planned and
# the login's own scope is what is checked; one problem line when the host is installed but not
# enrolled, and when the broker's unit is stopped.
. tests/support/tap.sh
. tests/systemd/lane.sh
sd_setup

# passes NAME FILE: exit status in FILE's last line "rc=N"; only ok lines before it.
passes() {
    if tail -1 "$2" | grep -qx 'rc=0' && ! sed '$d' "$2" | grep -qv '^ok: '; then ok "$1"
    else fail "$1"; sed 's/^/#   /' "$2"; fi
}
# one_problem NAME FILE PATTERN: rc=1 and exactly one problem line, matching PATTERN (ERE).
one_problem() {
    if tail -1 "$2" | grep -qx 'rc=1' && [ "$(grep -c '^problem: ' "$2")" -eq 1 ] &&
        grep -Eq "^problem: .*$3" "$2"; then ok "$1: $(grep '^problem: ' "$2" | cut -c1-140)"
    else fail "$1"; sed 's/^/#   /' "$2"; fi
}
host_check() { sd_sh 'lockbox-host-setup check 2>&1; echo rc=$?' >"$SD_RUN/check.out"; }

host_check
passes "root outside a session: check passes" "$SD_RUN/check.out"
check "  ... the broker reached with the enrolled certificate" \
    grep -q "^ok: broker https://127.0.0.1:$SD_BROKER_PORT accepts this host's certificate as host $SD_HOST$" "$SD_RUN/check.out"
check "  ... the broker's signing key trusted" \
    grep -q "^ok: trusted_keys /etc/lockbox/host/keys: 1 key(s), the broker's signing key .* among them$" "$SD_RUN/check.out"
check "  ... sshd's Match tried with docs/install.md's support user" \
    grep -q "^ok: sshd: support user support-alice gets ForceCommand /usr/libexec/lockbox/lockbox-session, forwarding off$" "$SD_RUN/check.out"
check "  ... our own cgroup tried outside a session (auto)" \
    grep -Eq "^ok: confinement v2: a test cgroup under /sys/fs/cgroup(/unified)?/lockbox was made" \
    "$SD_RUN/check.out" || grep confinement "$SD_RUN/check.out" | sed 's/^/#   /'
check "  ... and ssh sessions said to get their logind scope" \
    grep -q "^ok: confinement: systemd runs here: ssh sessions opened by pam_systemd get the logind kind" "$SD_RUN/check.out"
check "  ... no test cgroup left" sd_sh '! ls -d /sys/fs/cgroup/lockbox/check-* /sys/fs/cgroup/unified/lockbox/check-* 2>/dev/null'

# From a root ssh login: pam_systemd put the shell in a session scope, so the plan is logind.
sd_sh 'install -d -m 0700 /root/.ssh && install -m 0600 /opt/lane/id_user.pub /root/.ssh/authorized_keys'
sd_ssh root 'lockbox-host-setup check 2>&1; echo rc=$?' </dev/null 2>&1 | grep -v '^banner: \|^auth: ' \
    >"$SD_RUN/check.out"
passes "root in an ssh session: check passes" "$SD_RUN/check.out"
check "  ... logind planned, its session scope readable with cgroup.kill" \
    grep -Eq "^ok: confinement logind: this session's scope /user.slice/user-0.slice/session-[0-9]+.scope is readable and has cgroup.kill$" \
    "$SD_RUN/check.out"

# Installed, not enrolled: the host.conf the package ships.
sd_sh 'cp -p /etc/lockbox/host.conf /root/host.conf.lane &&
    dpkg-deb --fsys-tarfile /opt/lane/debs/lockbox-host_*.deb | tar -xO ./etc/lockbox/host.conf \
        >/etc/lockbox/host.conf'
host_check
one_problem "installed, not enrolled" "$SD_RUN/check.out" "/etc/lockbox/host.conf: this host is not enrolled"
sd_sh 'cp -p /root/host.conf.lane /etc/lockbox/host.conf'

# The broker's unit stopped.
sd_exec systemctl stop lockboxd.service
host_check
one_problem "broker stopped" "$SD_RUN/check.out" "broker https://127.0.0.1:$SD_BROKER_PORT: broker unreachable"
sd_exec systemctl start lockboxd.service
sleep 1
host_check
passes "broker started again: check passes" "$SD_RUN/check.out"
tap_done
