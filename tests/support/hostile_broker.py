#!/usr/bin/python3
"""A HOSTILE broker for lockboxctl's output tests: answers every request over TLS with the
status and JSON body the test wrote (DIR/answer: "STATUS\\nBODY", sent verbatim, may carry
escape sequences in values and member names). Everything else in the tests talks to the real
lockboxd; this one stands for a broker an attacker controls.

usage: hostile_broker.py DIR CERT KEY   (writes DIR/port once listening on 127.0.0.1)
"""
import http.server
import os
import sys

import tls_server

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(os.path.join(DIR, "answer"), "rb") as f:
            status, body = f.read().split(b"\n", 1)
        self.send_response(int(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args):
        pass


def main():
    cert, key = sys.argv[2:4]
    tls_server.serve(Handler, DIR, cert, key)


main()
