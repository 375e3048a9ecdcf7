#!/bin/sh
# Install the Debian 12 packages lockbox needs to build, test and demo.
# Quiet and quick when everything is present; apt-get only for what is missing.
set -eu

PACKAGES="build-essential pkg-config libpam0g-dev libssl-dev openssl libjwt-dev libjansson-dev
libssh-dev libsqlite3-dev sqlite3 libpq-dev libevent-dev libcmocka-dev
openssh-server openssh-client libpam-wrapper libpam-modules procps psmisc iproute2 passwd
valgrind curl tmux screen python3 postgresql debhelper devscripts lintian fakeroot clang libclang-rt-14-dev
pamtester groff-base chromium chromium-driver python3-selenium python3-cryptography glewlwyd"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ] && [ "${1:-}" != "--force" ]; then
    exit 0
fi
if [ -z "$missing" ]; then
    echo "deps: all packages present"
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
