"""Run the sandbox payment gateway in the foreground (Ctrl-C stops it cleanly).

    python manage.py run_sandbox_gateway --port 8089 [--host 0.0.0.0] [--secret S] [--merchant-key K]

The contract is docs/payment-gateway-sandbox.md. Secret and key default to the settings
``PAYMENT_GATEWAY_SANDBOX_SECRET`` / ``PAYMENT_GATEWAY_SANDBOX_KEY`` (else ``sandbox-secret`` /
``sandbox-merchant-key``), so that our adapter and the sandbox agree out of the box.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.sandbox import DEFAULT_MERCHANT_KEY, DEFAULT_SECRET, SandboxGateway


class Command(BaseCommand):
    help = "Run the sandbox payment gateway (hosted checkout, signed callbacks, fault injection) in the foreground."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a container)")
        parser.add_argument("--port", type=int, default=8089)
        parser.add_argument("--secret", default=None, help="callback signing secret")
        parser.add_argument("--merchant-key", default=None, help="the merchant API's bearer key")
        parser.add_argument(
            "--public-url",
            default=os.environ.get("SANDBOX_PUBLIC_URL", ""),
            help="base URL of the checkout pages as the payer's browser sees it (default: the request's Host)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = options["secret"] or getattr(settings, "PAYMENT_GATEWAY_SANDBOX_SECRET", "") or DEFAULT_SECRET
        key = options["merchant_key"] or getattr(settings, "PAYMENT_GATEWAY_SANDBOX_KEY", "") or DEFAULT_MERCHANT_KEY
        try:
            gateway = SandboxGateway(
                host=options["host"],
                port=options["port"],
                secret=secret,
                merchant_key=key,
                public_url=options["public_url"],
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        # Ctrl-C (SIGINT) and SIGTERM only set an event: the server runs in its own thread and is shut down in
        # order from here, whenever the signal comes (a KeyboardInterrupt could land anywhere, even before
        # serving started or inside the clean-up).
        stop_requested = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop_requested.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            gateway.start()
            self.stdout.write(f"sandbox gateway listening on {gateway.url} (Ctrl-C stops it)")
            self.stdout.flush()
            stop_requested.wait()
        finally:
            gateway.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("sandbox gateway stopped")
