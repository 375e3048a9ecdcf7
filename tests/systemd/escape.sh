#!/bin/sh
# Run by a support session inside the lane's container: every way of outliving the session we
# know, each process marked by its own "sleep 10NN" so a test can tell which one is left.
# Prints "escaped" once all are planted.
nohup sleep 1001 >/dev/null 2>&1 &
setsid sleep 1002 >/dev/null 2>&1 </dev/null &
(sleep 1003 >/dev/null 2>&1 &) &
tmux -L lane new-session -d 'sleep 1004' 2>/dev/null
screen -dmS lane sleep 1005
# The user manager (user@UID.service), outside every session scope: a transient service and a
# transient scope, and a service the user's D-Bus starts on demand.
systemd-run --user --quiet --unit="lane-svc-$$" sleep 1006 >/dev/null 2>&1
setsid systemd-run --user --quiet --scope sleep 1007 >/dev/null 2>&1 </dev/null &
mkdir -p ~/.local/share/dbus-1/services
printf '[D-BUS Service]\nName=org.lockbox.Lane\nExec=/bin/sleep 1008\n' \
    >~/.local/share/dbus-1/services/org.lockbox.Lane.service
setsid dbus-send --session --print-reply --dest=org.lockbox.Lane / org.lockbox.Lane.Ping \
    >/dev/null 2>&1 </dev/null &
# A stopped process (SIGKILL still reaches it; SIGTERM alone would not).
sleep 1009 >/dev/null 2>&1 &
stopped=$!
sleep 0.2 # exec first: a child stopped before it execs would be a stopped shell
kill -STOP "$stopped"
# A fork loop: new processes keep appearing while the end is under way.
setsid sh -c 'while :; do (sleep 1010 >/dev/null 2>&1 &); sleep 0.1; done' >/dev/null 2>&1 </dev/null &
sleep 0.5
echo escaped
