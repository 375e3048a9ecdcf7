#!/bin/sh
# The man pages: each one renders without a single groff warning, every installed program has
# one, and each page names what its program really accepts (taken from the program itself or
# from the packaged configuration files, not from a list kept here).
. tests/support/tap.sh
BUILD=${BUILD:-build}
MAN=packaging/man

work=$(mktemp -d /tmp/lbxpkg-man.XXXXXX)
tap_cleanup "rm -rf $work"

for page in "$MAN"/*.[1-8]; do
    name=${page##*/}
    LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>"$work/warn"
    check "$name renders without warnings" test ! -s "$work/warn"
    sed 's/^/#   /' "$work/warn" | head -5
    check "$name opens with man -l" sh -c "MANPAGER=cat man -l '$page' >/dev/null 2>&1"
    check "$name has NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" sh -c "grep -q '^\.SH NAME' '$page' &&
        grep -q '^\.SH SYNOPSIS' '$page' && grep -q '^\.SH DESCRIPTION' '$page' &&
        grep -q '^\.SH \"SEE ALSO\"' '$page'"
done

# Every program the packages install has its page.
for prog in lockboxctl:1 lockboxd:8 pam_lockbox:8 lockbox-session:8 lockbox-reaper:8 \
    lockbox-host-setup:8 lockbox-host-check:8; do
    check "man page for ${prog%:*}" test -f "$MAN/${prog%:*}.${prog#*:}"
done
check "man page for the configuration files" test -f "$MAN/lockbox.conf.5"

# rendered PAGE: plain text, hyphenation and adjustment off, so words can be searched.
rendered() { LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -rHY=0 -dAD=l "$1" 2>/dev/null |
    col -bx | tr -s ' '; }

# Every key of the packaged configuration files is documented in lockbox.conf(5).
rendered "$MAN/lockbox.conf.5" >"$work/conf.txt"
for conf in "$BUILD"/packaging/etc/*.conf; do
    for key in $(sed -n 's/^#\{0,1\}\([a-z_]*\) = .*/\1/p' "$conf" | sort -u); do
        check "lockbox.conf(5) documents ${conf##*/} key '$key'" grep -q "\\b$key\\b" "$work/conf.txt"
    done
done

# Every lockboxctl command group its --help lists is in lockboxctl(1).
if [ -x "$BUILD/lockboxctl" ] && [ -f "$MAN/lockboxctl.1" ]; then
    rendered "$MAN/lockboxctl.1" >"$work/ctl.txt"
    for group in $(timeout 5 "$BUILD/lockboxctl" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p' | sort -u); do
        check "lockboxctl(1) documents '$group'" grep -q "lockboxctl $group" "$work/ctl.txt"
    done
fi

# Every option lockboxd's usage line names is in lockboxd(8).
if [ -x "$BUILD/lockboxd" ] && [ -f "$MAN/lockboxd.8" ]; then
    rendered "$MAN/lockboxd.8" >"$work/d.txt"
    for opt in $(timeout 5 "$BUILD/lockboxd" --help 2>&1 | grep 'lockboxd --' | grep -o -- '--[a-z-]*' | sort -u); do
        check "lockboxd(8) documents $opt" grep -q -- "$opt" "$work/d.txt"
    done
fi

tap_done
