#!/bin/sh
# lockbox-session is setgid to the recording group, and anyone may run it with any arguments
# and environment: outside root it takes no arguments at all and reads only the configuration
# file compiled into it. Each hostile argument is refused before anything is read — a FIFO the
# user names as a file shows whether it was ever opened.
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
