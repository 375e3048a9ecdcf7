#!/bin/sh
# make deb: builds lockbox-broker, lockbox-host and lockbox-client with debhelper.
# The source tree's top layout is fixed, so the debian/ directory lives in packaging/debian and
# is copied into a staged copy of the tree under $BUILD/deb; the .debs land there too.
# Then runs lintian (overrides with reasons in packaging/debian/*.lintian-overrides).
#
# build-deb.sh --source-id prints what names the packages' sources (a hash of every tracked and
# new file but tests and Markdown), or nothing outside git; a build writes it to
# $BUILD/deb/source-id, so that a caller can tell whether the .debs there are of this tree.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/$BUILD/deb"

source_id() {
    git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
    git ls-files -z --cached --others --exclude-standard -- . ':!tests' ':!*.md' |
        xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
        xargs -0 sha256sum | sha256sum | cut -c1-16
}
if [ "${1:-}" = --source-id ]; then
    source_id
    exit 0
fi
id=$(source_id)
version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
stage="$out/lockbox-$version"

rm -rf "$out"
mkdir -p "$stage"
# The working tree as it is (tracked and new files, not ignored ones): what you build is what
# you test, committed or not.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
        tar --null -T - -cf - | tar -xf - -C "$stage"
else
    tar --exclude="./$BUILD" --exclude=./build --exclude=./build-asan -cf - . | tar -xf - -C "$stage"
fi
cp -a packaging/debian "$stage/debian"

cd "$stage"
echo "deb: building in $stage"
# A clean build whatever called us: `make asan` or `make BUILD=...` must not leak into the
# packages through the environment (an ASan-instrumented pam_lockbox.so aborts every process
# that loads it — libpam loads the whole stack up front, so that would lock everyone out).
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u SAN -u BUILD -u OPT \
    DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
    tail -30 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed; full log in $out/build.log" >&2
    exit 1
fi
cd "$out"
ls -1 ./*.deb
changes=$(ls ./*.changes)
if command -v lintian >/dev/null 2>&1; then
    # Errors fail the build; warnings and below are shown (each has an override or a fix).
    lintian --fail-on error --info --display-info "$changes" | tee lintian.log
fi
[ -z "$id" ] || echo "$id" >source-id
