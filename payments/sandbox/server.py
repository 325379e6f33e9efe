"""The sandbox gateway's HTTP server (stdlib ``ThreadingHTTPServer``), following docs/payment-gateway-sandbox.md.

``SandboxGateway(host=..., port=...)`` binds at once (port 0 picks a free port); ``serve_forever()`` runs it in
the calling thread (the management command), ``start()`` in a background thread (tests); ``stop()`` shuts it
down, ends any held (slow/timeout) answers and stops the callback sender.
"""

from __future__ import annotations

import datetime as dt
import hmac
import html
import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from .delivery import CallbackDelivery
from .faults import FaultConfigError
from .store import SandboxError, SandboxStore, Transaction, body_fingerprint

logger = logging.getLogger("payments.sandbox")

DEFAULT_SECRET = "sandbox-secret"
DEFAULT_MERCHANT_KEY = "sandbox-merchant-key"
MAX_BODY = 64 * 1024

_TXN = r"(?P<txn>txn_[0-9a-f]+)"
_TOKEN = r"(?P<token>tok_[0-9a-f]+)"
# (method, pattern, route name, kind): kind "merchant" needs the key and is subject to the faults.
ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("POST", re.compile(r"^/v1/transactions$"), "create", "merchant"),
    ("GET", re.compile(rf"^/v1/transactions/{_TXN}$"), "status", "merchant"),
    ("GET", re.compile(r"^/v1/transactions$"), "find", "merchant"),
    ("POST", re.compile(rf"^/v1/transactions/{_TXN}/refunds$"), "refund", "merchant"),
    ("POST", re.compile(r"^/v1/charges$"), "charge", "merchant"),
    ("POST", re.compile(r"^/v1/tokens$"), "tokenize", "merchant"),
    ("GET", re.compile(rf"^/checkout/{_TXN}$"), "checkout_page", "checkout"),
    ("POST", re.compile(rf"^/checkout/{_TXN}/(?P<action>approve|decline|pending)$"), "checkout_decide", "checkout"),
    ("POST", re.compile(r"^/_sandbox/faults$"), "faults", "control"),
    ("GET", re.compile(r"^/_sandbox/faults$"), "faults_read", "control"),
    ("GET", re.compile(r"^/_sandbox/state$"), "state", "control"),
    ("POST", re.compile(r"^/_sandbox/reset$"), "reset", "control"),
    ("POST", re.compile(r"^/_sandbox/callbacks/deliver$"), "deliver", "control"),
    ("POST", re.compile(rf"^/_sandbox/tokens/{_TOKEN}/fund$"), "fund", "control"),
]
MUTATING = {"create", "refund", "charge", "tokenize"}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    gateway: SandboxGateway


class SandboxGateway:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8089,
        secret: str = DEFAULT_SECRET,
        merchant_key: str = DEFAULT_MERCHANT_KEY,
        public_url: str = "",
        callback_timeout: float = 5.0,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.secret = secret
        self.merchant_key = merchant_key
        self.public_url = public_url.rstrip("/")
        self.store = SandboxStore(now=now) if now else SandboxStore()
        self.delivery = CallbackDelivery(store=self.store, secret=secret, timeout=callback_timeout)
        self.stopping = threading.Event()  # ends held answers at shutdown
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.gateway = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``shutdown()`` (or KeyboardInterrupt, which the caller handles)."""
        self.delivery.start()
        self.httpd.serve_forever(poll_interval=0.05)

    def start(self) -> SandboxGateway:
        self._thread = threading.Thread(target=self.serve_forever, name="sandbox-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
        self.httpd.server_close()
        self.delivery.stop()

    def __enter__(self) -> SandboxGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    _body_read = False
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stalls)
    server_version = "SandboxGateway/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- plumbing -----------------------------------------------------------------------------------------

    @property
    def gateway(self) -> SandboxGateway:
        return self.server.gateway

    def _base_url(self) -> str:
        return self.gateway.public_url or f"http://{self.headers.get('Host') or self.gateway.url[7:]}"

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if not self._body_read:
            self.send_header("Connection", "close")  # the request body was not read: this connection is done
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _error(self, error: SandboxError) -> None:
        self._json(error.status, error.as_json())

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise SandboxError(400, "invalid_request", "bad Content-Length") from exc
        if length < 0 or length > MAX_BODY:
            raise SandboxError(413, "too_large", f"bodies are limited to {MAX_BODY} bytes")
        body = self.rfile.read(length) if length else b""
        self._body_read = True
        return body

    def _dispatch(self, method: str) -> None:
        self._body_read = False
        split = urlsplit(self.path)
        found = _route(method, split.path)
        if found is None:
            allowed = any(pattern.match(split.path) for _, pattern, _, _ in ROUTES)
            self._json(405 if allowed else 404, {"error": {"code": "not_found", "message": f"{method} {split.path}"}})
            return
        name, kind, args = found
        try:
            raw = self._read_body()
            if kind == "merchant":
                self._merchant(name, args, parse_qs(split.query), raw)
            elif kind == "checkout":
                self._checkout(name, args)
            else:
                self._control(name, args, raw)
        except SandboxError as error:
            self._error(error)

    # -- merchant API ------------------------------------------------------------------------------------------

    def _merchant(self, name: str, args: dict[str, str], query: dict[str, list[str]], raw: bytes) -> None:
        expected = f"Bearer {self.gateway.merchant_key}".encode()
        given = (self.headers.get("Authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            raise SandboxError(401, "unauthorized", "missing or wrong merchant key")
        payload = _json_body(raw) if self.command == "POST" else {}
        key = self.headers.get("Idempotency-Key") or ""
        store = self.gateway.store
        strikes = store.strikes(f"{self.command} {name}")
        if strikes["error"]:
            self._json(503, {"error": {"code": "unavailable", "message": "injected: service unavailable"}})
            return
        status, body = self._merchant_work(name, args, query, payload, key)
        if strikes["timeout"]:
            self.gateway.stopping.wait(store.faults.slow_seconds)
            self.close_connection = True  # no answer at all: the client times out or sees the connection close
            return
        if strikes["error_after"]:
            self._json(502, {"error": {"code": "bad_gateway", "message": "injected: answer lost after the work"}})
            return
        if strikes["slow"]:
            self.gateway.stopping.wait(store.faults.slow_seconds)
        self._json(status, body)

    def _merchant_work(
        self, name: str, args: dict[str, str], query: dict[str, list[str]], payload: dict[str, Any], key: str
    ) -> tuple[int, dict[str, Any]]:
        store = self.gateway.store
        fingerprint = body_fingerprint(payload)
        route = f"{name} {args.get('txn', '')}"
        if name not in MUTATING or not key:
            return self._work(name, args, query, payload)
        with store.key_lock(route, key):
            seen = store.remembered(route, key, fingerprint)
            if seen is not None:
                return seen
            status, body = self._work(name, args, query, payload)
            store.remember(route, key, fingerprint, status, body)
            return status, body

    def _work(
        self, name: str, args: dict[str, str], query: dict[str, list[str]], payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        store = self.gateway.store
        try:
            if name == "create":
                return 201, store.create_transaction(payload, base_url=self._base_url())
            if name == "status":
                return 200, store.transaction(args["txn"]).as_json()
            if name == "find":
                references = query.get("merchant_reference") or []
                if len(references) != 1 or not references[0]:
                    raise SandboxError(400, "invalid_request", "give exactly one merchant_reference")
                return 200, store.find(references[0])
            if name == "refund":
                return 201, store.refund(args["txn"], payload)
            if name == "charge":
                return 201, store.charge(payload)
            return 201, store.tokenize(payload)
        except SandboxError as error:
            return error.status, error.as_json()

    # -- checkout (the payer's browser) ----------------------------------------------------------------------

    def _checkout(self, name: str, args: dict[str, str]) -> None:
        store = self.gateway.store
        if name == "checkout_page":
            txn = store.transaction(args["txn"])
            self._send(200, _checkout_page(txn).encode("utf-8"), "text/html; charset=utf-8")
            return
        txn = store.decide(args["txn"], args["action"])
        if not txn.return_url:
            self._json(200, {"transaction": txn.as_json()})
            return
        self._send(303, b"", "text/plain", {"Location": _return_location(txn)})

    # -- control ---------------------------------------------------------------------------------------------

    def _control(self, name: str, args: dict[str, str], raw: bytes) -> None:
        gateway = self.gateway
        if name == "faults":
            try:
                config = gateway.store.configure(_json_body(raw))
            except FaultConfigError as exc:
                raise SandboxError(400, "invalid_faults", str(exc)) from exc
            self._json(200, config.as_json())
        elif name == "faults_read":
            self._json(200, gateway.store.faults.as_json())
        elif name == "state":
            self._json(200, gateway.store.state())
        elif name == "reset":
            gateway.store.reset()
            self._json(200, {"reset": True, "faults": gateway.store.faults.as_json()})
        elif name == "deliver":
            self._json(200, gateway.delivery.deliver_now())
        else:
            self._json(200, gateway.store.fund(args["token"]))


def _route(method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    """(route name, kind, path arguments) of the route answering ``method path``."""
    for route_method, pattern, name, kind in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return name, kind, match.groupdict()
    return None


def _json_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SandboxError(400, "invalid_json", "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise SandboxError(400, "invalid_json", "the body must be a JSON object")
    return payload


def _return_location(txn: Transaction) -> str:
    parts = urlsplit(txn.return_url)
    extra = urlencode({"merchant_reference": txn.merchant_reference, "status": txn.status})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _checkout_page(txn: Transaction) -> str:
    esc = html.escape
    decided = txn.status in ("SUCCESS", "FAILURE")
    buttons = (
        f"<p>This payment is {esc(txn.status)}.</p>"
        if decided
        else (
            f'<form method="post" action="/checkout/{esc(txn.id)}/approve"><button type="submit">Pay</button></form>'
            f'<form method="post" action="/checkout/{esc(txn.id)}/decline"><button type="submit">Decline</button>'
            "</form>"
        )
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sandbox checkout</title></head><body>"
        "<h1>Sandbox payment gateway</h1>"
        f"<p>Merchant reference: <strong>{esc(txn.merchant_reference)}</strong></p>"
        f"<p>{esc(txn.description)}</p>"
        f"<p>Amount: <strong>{esc(txn.currency)} {esc(str(txn.amount))}</strong></p>"
        f"<p>Status: {esc(txn.status)}</p>"
        f"{buttons}</body></html>"
    )


__all__ = ["DEFAULT_MERCHANT_KEY", "DEFAULT_SECRET", "SandboxGateway"]
