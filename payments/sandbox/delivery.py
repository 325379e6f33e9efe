"""Callback delivery: signed server-to-server POSTs with httpx, retried up to three attempts in all.

``immediate`` mode: a background thread delivers whatever is queued right after the change. ``manual`` mode:
callbacks wait in the queue until ``deliver_now()`` (``POST /_sandbox/callbacks/deliver``) sends them.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import httpx

from .signing import SIGNATURE_HEADER, signature_header
from .store import Callback, SandboxStore

logger = logging.getLogger("payments.sandbox")

ATTEMPTS = 3


class CallbackDelivery:
    def __init__(self, *, store: SandboxStore, secret: str, timeout: float = 5.0) -> None:
        self.store = store
        self.secret = secret
        self.timeout = timeout
        self._stopping = False
        self._send_lock = threading.Lock()  # one delivery run at a time: callbacks leave in queue order
        self._thread: threading.Thread | None = None

    # -- the background sender of the immediate mode --------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-callbacks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self.store.changed:
            self._stopping = True
            self.store.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self.store.changed:
                while not self._stopping and not (self.store.queue and self.store.faults.callback_mode == "immediate"):
                    self.store.changed.wait()
                if self._stopping:
                    return
            self.deliver_now()

    # -- delivery ---------------------------------------------------------------------------------------------

    def deliver_now(self) -> dict[str, Any]:
        """Deliver every queued callback before returning; answers the counts of this run."""
        counts = {"delivered": 0, "failed": 0, "dropped": 0}
        with self._send_lock:
            before = len(self.store.deliveries)
            callbacks = self.store.take_callbacks()
            counts["dropped"] = sum(1 for d in self.store.deliveries[before:] if d["outcome"] == "dropped")
            with httpx.Client(timeout=self.timeout) as client:
                for callback in callbacks:
                    counts["delivered" if self._send(client, callback) else "failed"] += 1
        return counts

    def _send(self, client: httpx.Client, callback: Callback) -> bool:
        body = json.dumps(callback.event, separators=(",", ":")).encode("utf-8")
        http_status: int | None = None
        error = ""
        for attempt in range(1, ATTEMPTS + 1):
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature_header(
                    secret=self.secret, timestamp=int(self.store.now().timestamp()), body=body
                ),
            }
            try:
                response = client.post(callback.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                http_status, error = None, f"{type(exc).__name__}: {exc}"
            else:
                http_status, error = response.status_code, ""
                if response.is_success:
                    self.store.delivered(callback, "delivered", attempts=attempt, http_status=http_status, error="")
                    return True
            logger.info("callback %s attempt %d failed: %s", callback.event["event_id"], attempt, error or http_status)
        self.store.delivered(callback, "failed", attempts=ATTEMPTS, http_status=http_status, error=error)
        return False
