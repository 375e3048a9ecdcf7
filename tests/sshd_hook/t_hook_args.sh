#!/bin/sh
# lockbox-session is setgid to the recording group, and anyone may run it with any arguments
# and environment: outside root it takes no arguments but the one form sshd gives a login shell
# (`-c` and the hook's own installed path, compiled in, which must be the program running), and
# reads only the configuration file compiled into it. Each hostile argument is refused before
# anything is read — a FIFO the user names as a file shows whether it was ever opened.
. tests/support/tap.sh
. tests/support/hostgate_env.sh

hg_setup || { fail "setup"; tap_done; exit 1; }
# No broker is asked here; the configuration still needs one (an empty value is refused).
HG_BROKER_URL=https://127.0.0.1:9
hg_config
N=lbxe2e${HG_ID}n
hg_user "$N"
NU=$(id -u "$N")
NG=$(id -g "$N")
# The product build and this host's copy, both setgid to the recording group as installed.
cp "$BUILD_ABS/lockbox-session" "$HG/bin/product-session"
chgrp "$HG_RECGROUP" "$HG/bin/product-session" && chmod 2755 "$HG/bin/product-session"
ud=$HG/user
mkdir -m 0700 "$ud" && chown "$N" "$ud"
as_user() { setpriv --reuid="$NU" --regid="$NG" --init-groups "$@" </dev/null 2>&1; }

# never_opened FIFO CMD...: runs CMD while a writer waits on FIFO; true if no reader came.
never_opened() {
    _fifo=$1
    shift
    rm -f "$_fifo" "$HG/opened"
    mkfifo -m 0666 "$_fifo" && chown "$N" "$_fifo"
    (exec 3>"$_fifo" && echo yes >"$HG/opened") &
    _w=$!
    "$@" >"$HG/hook.out"
    sleep 0.2
    kill "$_w" 2>/dev/null
    wait "$_w" 2>/dev/null
    [ ! -e "$HG/opened" ]
}

check "the product hook has /etc/lockbox/host.conf compiled in" grep -q /etc/lockbox/host.conf "$BUILD_ABS/lockbox-session"
mkfifo "$ud/probe" && chown "$N" "$ud/probe"
(exec 3>"$ud/probe" && echo yes >"$HG/opened") &
w=$!
cat "$ud/probe" >/dev/null
wait "$w"
check "control: the FIFO probe sees a reader" test -e "$HG/opened"
rm -f "$ud/probe" "$HG/opened"

for hook in product-session lockbox-session; do
    for arg in "config=$ud/conf" "run_dir=$ud" "record_dir=$ud" "allow_file_transfer=yes" \
        "allow_file_transfer=no" "support_group=$N" "debug=yes" "x" "--help" ""; do
        never_opened "$ud/conf" as_user "$HG/bin/$hook" "$arg"
        opened=$?
        rc=$(as_user "$HG/bin/$hook" "$arg" >/dev/null; echo $?)
        check "$hook '$arg' as a user: refused, nothing it names opened" sh -c \
            "[ $opened -eq 0 ] && grep -q 'takes no arguments' '$HG/hook.out' && [ $rc -ne 0 ]"
    done
    never_opened "$ud/conf" as_user "$HG/bin/$hook" "config=$ud/conf" "run_dir=$ud" "record_dir=$ud"
    check "$hook with three arguments: refused, nothing opened" sh -c "[ $? -eq 0 ] && grep -q 'takes no arguments' '$HG/hook.out'"
done

# -- the login-shell form: sshd starts a login shell as `NAME -c COMMAND`, and with the hook as
# the login shell and ForceCommand naming it, COMMAND is the hook's own path. That form passes
# the argument check (it then meets the session check); everything near it is refused.
SELF=$HG/bin/lockbox-session
past_args() { ! grep -q 'takes no arguments' "$HG/hook.out" && grep -q 'not guarded by lockbox' "$HG/hook.out"; }
as_user "$SELF" -c "$SELF" >"$HG/hook.out"
check "-c <its own path>: past the argument check, refused for want of a session" past_args
as_user bash -c 'exec -a -lockbox-session "$0" -c "$0"' "$SELF" >"$HG/hook.out"
check "argv[0] '-lockbox-session' (login) with -c <its own path>: past the argument check" past_args
as_user bash -c 'exec -a -lockbox-session "$0"' "$SELF" >"$HG/hook.out"
check "argv[0] '-lockbox-session' alone (a login shell without ForceCommand): past it too" past_args
ln -s "$SELF" "$ud/link"
as_user "$ud/link" -c "$SELF" >"$HG/hook.out"
check "started through a symlink, -c <its installed path>: it is the same program, accepted" past_args
# refused WHAT ARGS...: the host's copy run as the user with ARGS refuses them as arguments
refused() {
    _what=$1
    shift
    as_user "$SELF" "$@" >"$HG/hook.out"
    _rc=$?
    check "$_what: refused" sh -c "[ $_rc -ne 0 ] && grep -q 'takes no arguments' '$HG/hook.out' && ! grep -q 'not guarded' '$HG/hook.out'"
}
long=$(head -c 100000 /dev/zero | tr '\0' a)
refused "-c other" -c other
refused "-c alone" -c
refused "-c ''" -c ""
refused "-c X -c Y" -c "$SELF" -c "$SELF"
refused "-c <path> extra" -c "$SELF" extra
refused "<path> -c" "$SELF" -c
refused "-lc <path>" -lc "$SELF"
refused "-l -c <path>" -l -c "$SELF"
refused "--c <path>" --c "$SELF"
refused "-c <path>/" -c "$SELF/"
refused "-c '<path> '" -c "$SELF "
refused "-c //<path>" -c "/$SELF"
refused "-c <path> less its last byte" -c "${SELF%?}"
refused "-c <path> plus a newline and more" -c "$(printf '%s\nid' "$SELF")"
refused "-c <path> plus a control byte" -c "$(printf '%s\001' "$SELF")"
refused "-c <path> plus an overlong UTF-8 NUL" -c "$(printf '%s\300\200' "$SELF")"
refused "-c '<path>; id'" -c "$SELF; id"
refused "-c <path> plus 100 kB" -c "$SELF$long"
refused "-c 100 kB" -c "$long"
refused "-c /proc/self/exe (the same program by another name)" -c /proc/self/exe
refused "-c lockbox-session (relative)" -c lockbox-session
as_user "$ud/link" -c "$ud/link" >"$HG/hook.out"
check "started through a symlink, -c <the symlink>: refused (not the installed path)" grep -q 'takes no arguments' "$HG/hook.out"
never_opened "$ud/conf" as_user "$SELF" -c "$ud/conf"
check "-c FILE: refused, FILE never opened" sh -c "[ $? -eq 0 ] && grep -q 'takes no arguments' '$HG/hook.out'"
never_opened "$ud/conf" as_user "$SELF" -c "$SELF" "config=$ud/conf"
check "-c <path> config=FILE: refused, FILE never opened" sh -c "[ $? -eq 0 ] && grep -q 'takes no arguments' '$HG/hook.out'"
# The product build has its installed path compiled in; a copy run from elsewhere is not the
# program sshd would start there, so even that path is refused.
product_path=$(grep -ao '/[[:alnum:]/_.-]*/libexec/lockbox/lockbox-session' "$BUILD_ABS/lockbox-session" | head -1)
check "the product hook has its installed path compiled in ($product_path)" test -n "$product_path"
never_opened "$ud/conf" as_user "$HG/bin/product-session" -c "$product_path"
check "product hook copied elsewhere, -c <its installed path>: refused, nothing read" sh -c "[ $? -eq 0 ] && grep -q 'takes no arguments' '$HG/hook.out'"

# The environment names nothing either (~/.pam_environment and AcceptEnv can set it).
never_opened "$ud/conf" as_user env LOCKBOX_CONFIG="$ud/conf" LBX_CONFIG="$ud/conf" \
    CONFIG="$ud/conf" HOST_CONF="$ud/conf" TMPDIR="$ud" LOCPATH="$ud" TZ="$ud/conf" \
    "$HG/bin/lockbox-session"
check "hostile environment: nothing it names opened" test $? -eq 0
check "  ... the hook still refuses (no session here)" grep -q 'not guarded by lockbox' "$HG/hook.out"

# This host's copy reads exactly its compiled-in file: a bad line there is reported by name.
echo "no_such_key = 1" >>"$HG/host.conf"
out=$(as_user "$HG/bin/lockbox-session")
check "the compiled-in file is the one read (its bad line named)" sh -c "echo '$out' | grep -q '$HG/host.conf:[0-9]*: unknown key'"
hg_config
chown "$N" "$HG/host.conf"
out=$(as_user "$HG/bin/lockbox-session")
check "the compiled-in file owned by the user: refused" sh -c "echo '$out' | grep -q 'configuration error'"
chown root "$HG/host.conf"

# Root may still give arguments (a diagnosis by hand): the uid, not the arguments, decides.
printf 'run_dir = %s\nbroken line\n' "$HG/run" >"$HG/root.conf"
out=$("$HG/bin/lockbox-session" "config=$HG/root.conf" 2>&1 </dev/null)
check "root: arguments accepted (the file it names is read)" sh -c "echo '$out' | grep -q '$HG/root.conf:2'"
tap_done
