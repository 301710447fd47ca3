"""The HTTPS transport: a threaded HTTP/1.1 server that hands each exchange to the Gateway.

Kept deliberately dull: keep-alive with exact Content-Length framing (SDK clients pool
connections), the TLS handshake done in the connection's own thread (a slow client must not
stall the accept loop), read timeouts, bounded bodies, headers and connection counts, and
every answer written in a single send. Errors never leak a traceback to the client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import struct
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_azure.gateway import Gateway
from local_azure.kernel import ArmError, Request, Response

log = logging.getLogger("local_azure")

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
READ_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 512
_NO_BODY_STATUSES = frozenset({204, 304})
_QUIET_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, BrokenPipeError, OSError)


def encode_json(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _clean(value: str) -> str:
    """Header values never carry line breaks (no response splitting from stored data)."""
    return value.replace("\r", " ").replace("\n", " ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "identity-reconciler-emulator"
    sys_version = ""
    timeout = READ_TIMEOUT_S
    disable_nagle_algorithm = True
    server: _HttpsServer

    # ------------------------------------------------------------------ connection

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        super().setup()
        self.server.track(self, busy=False)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self)
            with contextlib.suppress(OSError):
                self.connection.close()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            self.server.track(self, busy=False)
            if self.server.stopping:
                self.close_connection = True

    def parse_request(self) -> bool:
        self.server.track(self, busy=True)
        if not super().parse_request():
            return False
        size = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if size > MAX_HEADER_BYTES:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            return False
        return True

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs stay off: request lines may carry selectors and clients are noisy."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    # ------------------------------------------------------------------ requests

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_PATCH = do_POST = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        encoding = self.headers.get("Transfer-Encoding")
        if encoding and encoding.strip().lower() != "identity":
            self._error(411, "LengthRequired", "Send the request body with a Content-Length.")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self._error(400, "InvalidRequest", "The Content-Length header is invalid.")
            return
        if length > MAX_BODY_BYTES:
            self._error(
                413,
                "RequestEntityTooLarge",
                f"The request content is {length} bytes; the limit is {MAX_BODY_BYTES} bytes.",
            )
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return
        target = self.path
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, raw_query = target.partition("?")
        raw_query = raw_query.partition("#")[0]
        req = Request(
            method=self.command,
            path=unquote(raw_path),
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=self.server.base_url,
        )
        outcome = self.server.gateway.handle(req)
        if outcome.response is None:
            self._drop()
            return
        self._write(outcome.response)

    # ------------------------------------------------------------------ answers

    def _write(self, response: Response) -> None:
        status = response.status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        payload = b"" if response.body is None else encode_json(response.body)
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
            "Cache-Control: no-cache",
        ]
        custom = {k.lower() for k in response.headers}
        if payload and "content-type" not in custom:
            lines.append("Content-Type: application/json; charset=utf-8")
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "connection"):
                lines.append(f"{_clean(key)}: {_clean(str(value))}")
        if status in _NO_BODY_STATUSES:
            payload = b""
        else:
            if self.command == "HEAD":
                payload = b""
            lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection or self.server.stopping:
            self.close_connection = True
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + payload)

    def _error(self, status: int, code: str, message: str) -> None:
        """An ARM-envelope error after which the connection is not reused."""
        self.close_connection = True
        self._write(ArmError(status, code, message).response())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by the base class (bad request line, huge headers) as JSON."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        if not getattr(self, "command", ""):
            self.command = "GET"
        self._error(code, phrase.replace(" ", ""), message or explain or phrase)

    def _drop(self) -> None:
        """Close without answering, with a TCP reset, as a failing front end would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _HttpsServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        gateway: Gateway,
        ssl_context: ssl.SSLContext,
        family: socket.AddressFamily,
    ) -> None:
        self.address_family = family
        super().__init__(address, _Handler)
        self.gateway = gateway
        self.ssl_context = ssl_context
        self.base_url = ""
        self.stopping = False
        self._conns: dict[_Handler, bool] = {}
        self._cond = threading.Condition()
        # Connections accepted and not yet closed, counted from accept: one still in its TLS
        # handshake holds a thread too, and is not in _conns until the handshake is done.
        self._open = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._cond:
            refuse = self._open >= MAX_CONNECTIONS or self.stopping
            if not refuse:
                self._open += 1
        if refuse:
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._cond:
                self._open -= 1

    def track(self, handler: _Handler, *, busy: bool) -> None:
        with self._cond:
            if handler in self._conns or not self.stopping:
                self._conns[handler] = busy
            if self.stopping and not busy:
                self._close_quietly(handler)

    def untrack(self, handler: _Handler) -> None:
        with self._cond:
            self._conns.pop(handler, None)
            self._cond.notify_all()

    @staticmethod
    def _close_quietly(handler: _Handler) -> None:
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    def close_connections(self, timeout: float) -> None:
        """Close idle keep-alive connections; let busy ones finish their answer."""
        with self._cond:
            self.stopping = True
            for handler, busy in list(self._conns.items()):
                if not busy:
                    self._close_quietly(handler)
            self._cond.wait_for(lambda: not self._conns, timeout=timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, _QUIET_ERRORS):
            log.debug("connection from %s ended: %s", client_address, exc)
            return
        log.exception("connection from %s failed", client_address)


class HttpsServer:
    """Owns the listening socket and the thread that accepts connections."""

    def __init__(self, gateway: Gateway, ssl_context: ssl.SSLContext, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _HttpsServer((host, port), gateway, ssl_context, family)
        self.port = int(self._server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"https://{shown}:{self.port}"
        self._server.base_url = self.base_url
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close idle connections, wait for answers in flight."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout)
            self._thread = None
        self._server.server_close()
        self._server.close_connections(timeout)
