#!/usr/bin/python3
"""Local TLS peers for tests/integration/test_webhook_tls.c.

  tls_peers.py sink PORT_FILE LOG CERT KEY CA
      An HTTPS server that REQUIRES a client certificate issued by CA. Each
      request is answered 200 and logged as "<method> <path> cn=<client CN>
      id=<webhook-id>"; refused handshakes as "handshake-refused <reason>".
  tls_peers.py proxy PORT_FILE LOG
      An HTTP proxy: CONNECT host:port tunnels (logged "CONNECT host:port"),
      an absolute-URI request is forwarded (logged "FORWARD <url>").

Each writes the port it listens on (127.0.0.1, chosen by the OS) to
PORT_FILE once ready, and runs until killed."""

import http.server
import os
import select
import socket
import socketserver
import ssl
import sys
import threading
import urllib.request

LOCK = threading.Lock()


def log(path, line):
    with LOCK, open(path, "a") as f:
        f.write(line + "\n")


def ready(port_file, port):
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, port_file)


def run_sink(port_file, log_path, cert, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client may try to reuse the connection

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            peer = self.connection.getpeercert() or {}
            cn = ""
            for rdn in peer.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
            log(log_path, "POST %s cn=%s id=%s conn=%x" % (self.path, cn, self.headers.get("webhook-id"),
                                                          id(self.connection)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def get_request(self):
            sock, addr = self.socket.accept()
            try:
                return ctx.wrap_socket(sock, server_side=True), addr
            except (ssl.SSLError, OSError) as e:
                log(log_path, "handshake-refused %s" % getattr(e, "reason", e))
                sock.close()
                raise

    srv = Server(("127.0.0.1", 0), Handler)
    ready(port_file, srv.server_address[1])
    srv.serve_forever()


def pipe(a, b):
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def run_proxy(port_file, log_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_CONNECT(self):
            log(log_path, "CONNECT %s" % self.path)
            host, _, port = self.path.rpartition(":")
            try:
                up = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except OSError as e:
                self.send_error(502, str(e))
                return
            self.send_response(200, "Connection Established")
            self.end_headers()
            self.wfile.flush()
            pipe(self.connection, up)
            self.close_connection = True

        def forward(self):
            log(log_path, "FORWARD %s" % self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
            req = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(req, timeout=10) as r:
                    data, status = r.read(), r.status
            except urllib.error.HTTPError as e:
                data, status = e.read(), e.code
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = forward

        def log_message(self, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    ready(port_file, srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        run_sink(*sys.argv[2:7])
    else:
        run_proxy(*sys.argv[2:4])
