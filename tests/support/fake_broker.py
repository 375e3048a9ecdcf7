#!/usr/bin/python3
"""A FAKE lockbox broker for the host-gate tests that need a hostile or broken broker.

Everything else talks to the real lockboxd. This one speaks the host endpoints of broker/API.md
over mTLS and answers whatever the test put in its state directory:

  DIR/token      "STATUS\\nBODY" for POST /v1/host/token (body sent verbatim, may be hostile)
  DIR/grant      "STATUS\\nBODY" for GET /v1/host/grants/ID (default: 200 active)
  DIR/delay      seconds to sleep before answering anything (a broker slower than the deadline)
  DIR/close      present: every answer closes its connection (Connection: close)
  DIR/requests   log, one line per request: METHOD PATH CLIENT-CN BODY
  DIR/connections  log, one line per request: CLIENT-PORT METHOD PATH (which connection)
  DIR/port       written once listening

usage: fake_broker.py DIR CERT KEY CLIENT-CA [PORT]
"""
import http.server
import json
import os
import sys
import threading

import tls_server
import time

STATE, CERT, KEY, CLIENT_CA = sys.argv[1:5]
PORT = int(sys.argv[5]) if len(sys.argv) > 5 else 0
LOCK = threading.Lock()


def read_state(name, default=None):
    try:
        with open(os.path.join(STATE, name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def client_cn(self):
        cert = self.connection.getpeercert() or {}
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return "-"

    def answer(self, raw, default_status=200):
        delay = read_state("delay")
        if delay:
            time.sleep(float(delay))
        status, _, body = raw.partition(b"\n")
        status = int(status or default_status)
        self.send_response(status)
        if read_state("close") is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def record(self, body):
        with LOCK, open(os.path.join(STATE, "requests"), "ab") as f:
            f.write(b"%s %s %s %s\n" % (self.command.encode(), self.path.encode(),
                                        self.client_cn().encode(), body.replace(b"\n", b" ")))
            with open(os.path.join(STATE, "connections"), "ab") as c:
                c.write(b"%d %s %s\n" % (self.client_address[1], self.command.encode(),
                                         self.path.split("?")[0].encode()))

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        body = self.body()
        self.record(body)
        if self.path == "/v1/host/token":
            self.answer(read_state("token", b'403\n{"error":"no_request","message":"no request"}'))
        elif self.path == "/v1/host/sessions":
            self.answer(read_state("sessions", b"204\n"))
        else:
            self.answer(b'404\n{"error":"not_found","message":"no such endpoint"}')

    def do_GET(self):
        self.record(b"")
        if self.path.startswith("/v1/host/grants/"):
            gid = self.path[len("/v1/host/grants/"):].split("?")[0]
            default = json.dumps({"grant_id": gid, "status": "active",
                                  "access_end": int(time.time()) + 3600}).encode()
            self.answer(read_state("grant", b"200\n" + default))
        else:
            self.answer(b'404\n{"error":"not_found","message":"no such endpoint"}')


def main():
    tls_server.serve(Handler, STATE, CERT, KEY, client_ca=CLIENT_CA, port=PORT, threaded=True)


if __name__ == "__main__":
    main()
