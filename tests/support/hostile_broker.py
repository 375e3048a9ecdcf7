#!/usr/bin/python3
"""A HOSTILE broker for lockboxctl's output tests: answers every request over TLS with the
status and JSON body the test wrote (DIR/answer: "STATUS\\nBODY", sent verbatim, may carry
escape sequences in values and member names). Everything else in the tests talks to the real
lockboxd; this one stands for a broker an attacker controls.

usage: hostile_broker.py DIR CERT KEY   (writes DIR/port once listening on 127.0.0.1)
"""
import http.server
import os
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(os.path.join(self.server.dir, "answer"), "rb") as f:
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
    d, cert, key = sys.argv[1:4]
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.dir = d
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()


main()
