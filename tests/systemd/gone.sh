#!/bin/sh
# Run as root inside the lane's container: gone.sh SECS UID:AT ... watches several accounts'
# ends at once with one look at the process table per round (one ps per account would compete
# with the teardowns it measures on a small machine). AT is the moment the end is due, in ms
# since the epoch, or the path of a file that will hold it (written when the end is asked for).
# Looks start half a second before the first AT. For each UID it prints one line:
#   UID LAG   the ms from AT to the end of the first look after AT that found no live
#             (non-zombie) process of UID: an upper bound of the lag
#   UID early nothing of UID was running any more in a look before AT
#   UID never something of UID was still running SECS seconds after AT
#   UID none  AT was "none": that end never came (the test could not start the session)
secs=$1
shift
pending="$*"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
due_ms() { # UID:AT -> AT in ms, empty while its file is not written
    case "${1#*:}" in
        /*) cat "${1#*:}" 2>/dev/null ;;
        *) echo "${1#*:}" ;;
    esac
}
while [ -n "$pending" ]; do
    first=""
    left=""
    for p in $pending; do
        at=$(due_ms "$p")
        if [ "$at" = none ]; then echo "${p%%:*} none"; else left="$left $p"; fi
    done
    pending=$left
    for p in $pending; do
        at=$(due_ms "$p")
        [ -n "$at" ] && { [ -z "$first" ] || [ "$at" -lt "$first" ]; } && first=$at
    done
    if [ -z "$first" ] || [ "$(now_ms)" -lt $((first - 500)) ]; then
        sleep 0.05
        continue
    fi
    alive=" $(ps -e -o uid=,stat= | awk '$2 !~ /^Z/ { print $1 }' | sort -u | tr '\n' ' ') "
    t=$(now_ms)
    left=""
    for p in $pending; do
        uid=${p%%:*}
        at=$(due_ms "$p")
        case "$alive" in *" $uid "*) running=1 ;; *) running=0 ;; esac
        if [ -z "$at" ] || [ "$t" -lt "$at" ]; then
            if [ $running -eq 1 ] || [ -z "$at" ]; then left="$left $p"; else echo "$uid early"; fi
        elif [ $running -eq 0 ]; then
            echo "$uid $((t - at))"
        elif [ "$t" -gt $((at + secs * 1000)) ]; then
            echo "$uid never"
        else
            left="$left $p"
        fi
    done
    pending=$left
    sleep 0.02
done
