#!/bin/sh
# make deb: builds lockbox-broker, lockbox-host and lockbox-client with debhelper.
# The source tree's top layout is fixed, so the debian/ directory lives in packaging/debian and
# is copied into a staged copy of the tree under $BUILD/deb; the .debs land there too.
# Then runs lintian (overrides with reasons in packaging/debian/*.lintian-overrides).
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/$BUILD/deb"
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
if ! dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
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
