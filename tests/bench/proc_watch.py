#!/usr/bin/python3
"""Times the end of sessions for benchmarks 4 and 5: for each line "NAME PID PID ..." of the
input file, holds a pidfd on every PID (readable the instant the process exits, zombie or not)
and prints "NAME MS" once the last of them is gone, MS = wall clock in milliseconds. Exits when
every session ended or after TIMEOUT seconds (sessions still alive are printed as "NAME -1").

usage: proc_watch.py FILE TIMEOUT   (prints "watching" once every pidfd is open)"""
import os
import select
import sys
import time

left = {}
fds = {}
poller = select.poll()
for line in open(sys.argv[1]):
    name, *pids = line.split()
    left[name] = 0
    for pid in pids:
        try:
            fd = os.pidfd_open(int(pid))
        except ProcessLookupError:
            continue  # already gone before we looked: it cannot be the last one
        fds[fd] = name
        left[name] += 1
        poller.register(fd, select.POLLIN)
print("watching", flush=True)
for name in [n for n, c in left.items() if c == 0]:
    print(name, int(time.time() * 1000), flush=True)
    del left[name]
deadline = time.monotonic() + float(sys.argv[2])
while left and time.monotonic() < deadline:
    for fd, _ in poller.poll(100):
        now = int(time.time() * 1000)
        poller.unregister(fd)
        os.close(fd)
        name = fds.pop(fd)
        left[name] -= 1
        if left[name] == 0:
            print(name, now, flush=True)
            del left[name]
for name in left:
    print(name, -1, flush=True)
