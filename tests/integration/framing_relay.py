"""An HTTP relay between ./jarvis and the fake Telegram for the transport
tests: it forwards each request upstream and writes the answer back in the
framing under test (chunked, HTTP/1.0 to the close, Connection: close, a
kept-alive connection closed behind the client's back...), and counts
connections and requests. In "proxy" mode it is a forward proxy that only
takes absolute-form requests, as an HTTP proxy does. 127.0.0.1 only."""
import http.client
import random
import socket
import threading
import urllib.parse

MODES = ("length", "chunked", "http10", "close", "idle_close", "stale", "interim", "proxy", "cut")


class FramingRelay:
    def __init__(self, upstream_base, mode):
        assert mode in MODES, mode
        upstream = urllib.parse.urlsplit(upstream_base)
        self.upstream = (upstream.hostname, upstream.port)
        self.mode = mode
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0       # forwarded upstream
        self.dropped = 0        # read, then the connection closed unanswered
        self.origin_form = 0
        self.absolute_form = 0
        self.after_close = 0    # requests sent after the server said "close"
        self.cut = False        # "cut" mode: the one answer broken off happened
        self.methods = {}
        self.random = random.Random(5)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closing = True
        self.listener.close()

    def counters(self):
        with self.lock:
            return {"connections": self.connections, "requests": self.requests,
                    "dropped": self.dropped, "origin_form": self.origin_form,
                    "absolute_form": self.absolute_form, "after_close": self.after_close,
                    "methods": dict(self.methods)}

    def _accept(self):
        while not self.closing:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        upstream = http.client.HTTPConnection(*self.upstream, timeout=120)
        reader = connection.makefile("rb")
        answered = 0
        try:
            while True:
                request = read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                if not self._forwardable(connection, target):
                    continue
                target = urllib.parse.urlsplit(target)._replace(scheme="", netloc="").geturl()
                if self.mode == "stale" and answered > 0:
                    # the server gave up on the idle connection just as the
                    # request came: it is read, never answered
                    with self.lock:
                        self.dropped += 1
                    return
                upstream.request(method, target, body,
                                 {"Content-Type": headers.get("content-type", "")})
                answer = upstream.getresponse()
                data = answer.read()
                with self.lock:
                    self.requests += 1
                    name = target.rsplit("/", 1)[-1]
                    self.methods[name] = self.methods.get(name, 0) + 1
                if self._cut_here(answered, name):
                    # delivered upstream, the answer broken off after its
                    # first bytes: the client must not send it again itself
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
                    return
                self._answer(connection, answer.status, answer.reason, data)
                answered += 1
                if self.mode == "close":
                    self._expect_the_close(connection)
                if self.mode in ("http10", "close", "idle_close"):
                    return
        except (OSError, http.client.HTTPException):
            return
        finally:
            upstream.close()
            reader.close()
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def _cut_here(self, answered, method):
        """In "cut" mode, the first sendMessage on a kept-alive connection."""
        with self.lock:
            if self.mode != "cut" or self.cut or answered == 0 or method != "sendMessage":
                return False
            self.cut = True
            return True

    def _expect_the_close(self, connection):
        """After "Connection: close" the client must close too: a request
        sent on the connection anyway is counted (and not answered)."""
        connection.settimeout(5)
        try:
            if connection.recv(1):
                with self.lock:
                    self.after_close += 1
        except OSError:
            pass

    def _forwardable(self, connection, target):
        """Counts the request's form; a proxy refuses the origin form."""
        absolute = target.startswith("http://")
        with self.lock:
            if absolute:
                self.absolute_form += 1
            else:
                self.origin_form += 1
        if self.mode == "proxy" and not absolute:
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        return True

    def _answer(self, connection, status, reason, data):
        if self.mode == "chunked":
            self._answer_chunked(connection, status, reason, data)
            return
        if self.mode == "http10":
            head = f"HTTP/1.0 {status} {reason}\r\nContent-Type: application/json\r\n\r\n"
        elif self.mode == "close":
            head = (f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(data)}\r\n"
                    "Connection: close\r\n\r\n")
        else:
            head = f"HTTP/1.1 {status} {reason}\r\ncontent-length: {len(data)}\r\n\r\n"
            if self.mode == "interim":
                head = "HTTP/1.1 100 Continue\r\n\r\n" + head
        connection.sendall(head.encode() + data)

    def _answer_chunked(self, connection, status, reason, data):
        """Small chunks, some with extensions, each its own write, then a trailer."""
        connection.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n".encode())
        at = 0
        count = 0
        while at < len(data):
            size = self.random.randint(1, 40)
            piece = data[at:at + size]
            extension = ';note="a;b"' if count % 3 == 0 else ""
            connection.sendall(b"%x%s\r\n%s\r\n" % (len(piece), extension.encode(), piece))
            at += len(piece)
            count += 1
        connection.sendall(b"0\r\nX-Checksum: none\r\n\r\n")


def read_request(reader):
    """(method, target, {lower-case name: value}, body) or None at the end."""
    line = reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        field = reader.readline()
        if field in (b"\r\n", b"\n", b""):
            break
        name, _, value = field.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return method, target, headers, body
