"""The sandbox gateway as a real local HTTP server for tests: ``running_sandbox_gateway()`` and the fixture.

    from tests.sandbox_gateway import sandbox_gateway  # noqa: F401  (a pytest fixture)

    def test_something(sandbox_gateway):
        sandbox_gateway.faults(error_rate=0.3, seed=7, callback_mode="manual")
        ...
        sandbox_gateway.approve(txn_id)
        sandbox_gateway.deliver_callbacks()

The server runs in a thread of the test process on a free port of 127.0.0.1; every helper talks to it over
HTTP (httpx), exactly as our adapter does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_project import clock
from payments.sandbox import SandboxGateway

SECRET = "test-sandbox-secret"
DELIVER_TIMEOUT_SECONDS = 120.0
MERCHANT_KEY = "test-sandbox-merchant-key"


class RunningSandbox:
    """A started sandbox gateway and helpers to steer it."""

    def __init__(self, gateway: SandboxGateway) -> None:
        self.gateway = gateway
        self.url = gateway.url
        self.secret = gateway.secret
        self.merchant_key = gateway.merchant_key
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def merchant_client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with the merchant key (close it, or use it as a context manager)."""
        kwargs.setdefault("timeout", 10.0)
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.merchant_key}"}, **kwargs)

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=payload) if payload is not None else self.http.post(path)

    def faults(self, **config: Any) -> dict[str, Any]:
        response = self._post("/_sandbox/faults", config)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def approve(self, txn_id: str) -> httpx.Response:
        return self._decide(txn_id, "approve")

    def decline(self, txn_id: str) -> httpx.Response:
        return self._decide(txn_id, "decline")

    def pending(self, txn_id: str) -> httpx.Response:
        return self._decide(txn_id, "pending")

    def _decide(self, txn_id: str, action: str) -> httpx.Response:
        response = self._post(f"/checkout/{txn_id}/{action}")
        if response.status_code not in (200, 303):
            raise AssertionError(f"{action} {txn_id}: {response.status_code} {response.text}")
        return response

    def deliver_callbacks(self) -> dict[str, Any]:
        # The sandbox delivers every queued callback to our live server before it answers: one request per
        # callback, each a full payment write-back. On a loaded 2-core box a few dozen take longer than the
        # client's 10 s default, so this one call waits as long as a bounded batch can take.
        response = self.http.post("/_sandbox/callbacks/deliver", timeout=DELIVER_TIMEOUT_SECONDS)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def fund(self, token: str) -> dict[str, Any]:
        response = self._post(f"/_sandbox/tokens/{token}/fund")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def state(self) -> dict[str, Any]:
        response = self.http.get("/_sandbox/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self) -> None:
        self._post("/_sandbox/reset").raise_for_status()

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def running_sandbox_gateway(*, secret: str = SECRET, merchant_key: str = MERCHANT_KEY) -> Iterator[RunningSandbox]:
    """Start the sandbox on a free port of 127.0.0.1 in a thread; stop it on exit.

    Its clock is ``billing_project.clock.now``: under ``clock.frozen(at)`` the sandbox's transaction times and
    callback signature timestamps are ``at`` too, so that our callback endpoint (which checks the signature's
    age against ``clock.now()``) and the sandbox agree on the time.
    """
    gateway = SandboxGateway(host="127.0.0.1", port=0, secret=secret, merchant_key=merchant_key, now=clock.now).start()
    running = RunningSandbox(gateway)
    try:
        yield running
    finally:
        running.close()
        gateway.stop()


@pytest.fixture
def sandbox_gateway() -> Iterator[RunningSandbox]:
    with running_sandbox_gateway() as running:
        yield running


class CallbackReceiver:
    """A tiny local HTTP server that records the callbacks POSTed to it (raw body and headers).

    ``answers`` are the HTTP statuses of the first requests (then 200). ``wait_for(n)`` blocks until n
    requests have arrived — waiting on an event, never sleeping.
    """

    def __init__(self, answers: list[int] | None = None) -> None:
        import http.server
        import threading

        self.requests: list[dict[str, Any]] = []
        self.answers = list(answers or [])
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base_url}/callback"  # any path is accepted and recorded
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} callbacks, got {len(self.requests)}")
            return list(self.requests)

    def events(self) -> list[dict[str, Any]]:
        import json

        with self._arrived:
            return [json.loads(request["body"]) for request in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
