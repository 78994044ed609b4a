"""An https upstream for the API proxy's test (domino_proxy.rs): answers
every GET with what it saw (path, Authorization) as JSON, status 207, over
TLS with the certificate and key given as arguments. Prints
"listening on 127.0.0.1:PORT" on stderr once it accepts connections."""

import http.server
import json
import ssl
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps(
            {"path": self.path, "authorization": self.headers.get("authorization")}
        ).encode()
        self.send_response(207)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


cert, key = sys.argv[1], sys.argv[2]
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening on 127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
server.serve_forever()
