#!/bin/sh
# Install the Debian 12 packages lockbox needs: to build (default), or to build and test
# (--test: make check, make demo, make deb, make bench). Quiet and quick when everything is
# present; apt-get only for what is missing. --force reports even when nothing is missing.
# Usage: scripts/deps.sh [--test] [--force]
set -eu

# Compilers, headers and libraries of the programs themselves.
BUILD_PACKAGES="build-essential pkg-config libpam0g-dev libssl-dev openssl libjansson-dev
libsqlite3-dev libpq-dev libevent-dev libsystemd-dev"
# What the tests, the demo and the packages drive: cmocka and libjwt (unit tests), libssh (the
# SSH client), a real sshd and PAM, PostgreSQL, valgrind, clang (fuzzing, format check), the
# Debian packaging tools, the systemd lane's container tools, a browser with its driver and an
# OpenID provider (the web console's tests).
TEST_PACKAGES="libjwt-dev libcmocka-dev libssh-dev sqlite3 openssh-server openssh-client
libpam-wrapper libpam-modules procps psmisc iproute2 passwd valgrind curl tmux screen python3
postgresql debhelper devscripts lintian fakeroot clang clang-format libclang-rt-14-dev pamtester
groff-base systemd-container debootstrap chromium chromium-driver python3-selenium
python3-cryptography glewlwyd"

PACKAGES=$BUILD_PACKAGES
force=""
for arg in "$@"; do
    case "$arg" in
        --test) PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES" ;;
        --force) force=1 ;;
        *) echo "usage: scripts/deps.sh [--test] [--force]" >&2; exit 2 ;;
    esac
done

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    [ -n "$force" ] && echo "deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run 'make deps' as root (apt-get) or install them yourself" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# glewlwyd (the console tests' OpenID provider) must not configure a system instance: its
# "Personalized" default needs a database server. The tests run their own.
echo "glewlwyd glewlwyd/config_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The PostgreSQL package starts a cluster on Debian; tests start their own server when needed.
