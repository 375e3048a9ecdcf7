#!/usr/bin/env python3
"""A real HTTPS webhook receiver on 127.0.0.1 for lockbox's notification tests.

usage: webhook_receiver.py CERT KEY OUTDIR [FAIL_FIRST]
Listens on a free port (written to OUTDIR/port once ready), appends each POSTed body as one
line to OUTDIR/received, and answers 500 to the first FAIL_FIRST requests (then 204). Every
request, failed or not, is counted in OUTDIR/attempts with its arrival time."""
import http.server
import os
import sys
import time

import tls_server

cert, key, outdir = sys.argv[1:4]
fail_first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        seen += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(outdir, "attempts"), "a") as f:
            f.write("%.3f\n" % time.time())
        if seen <= fail_first:
            self.send_response(500)
            self.end_headers()
            return
        with open(os.path.join(outdir, "received"), "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


tls_server.serve(Handler, outdir, cert, key)
