"""The HTTPS servers of the tests (fake broker, hostile broker, webhook receiver): one place
that binds 127.0.0.1, wraps the socket in TLS and publishes the port for the shell harness."""
import http.server
import os
import ssl


def serve(handler, state_dir, cert, key, client_ca=None, port=0, threaded=False):
    """Serves handler over TLS on 127.0.0.1:port (0: any free port) and writes the port to
    state_dir/port (renamed into place, so a reader never sees half of it); with client_ca,
    a client certificate signed by it is required. Never returns."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca is not None:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    cls = http.server.ThreadingHTTPServer if threaded else http.server.HTTPServer
    cls.allow_reuse_address = True
    server = cls(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(os.path.join(state_dir, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(os.path.join(state_dir, "port.tmp"), os.path.join(state_dir, "port"))
    server.serve_forever()
