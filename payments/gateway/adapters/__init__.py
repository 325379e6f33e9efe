"""Gateway adapters and their registry: ``adapter_for(name)`` builds the adapter registered under ``name``.

The registry is ``settings.PAYMENT_GATEWAY_ADAPTERS`` (name → dotted path of a
:class:`~payments.gateway.adapters.base.GatewayAdapter` subclass); ``settings.PAYMENT_GATEWAY`` names the one
new transactions use.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from billing_project.errors import NotFound
from payments.gateway.adapters.base import GatewayAdapter
from payments.gateway.errors import GATEWAY_UNKNOWN

DEFAULT_ADAPTERS = {"sandbox": "payments.gateway.adapters.sandbox.SandboxAdapter"}


def adapter_names() -> dict[str, str]:
    """The registry; the sandbox is in it only when ``PAYMENT_GATEWAY_ALLOW_SANDBOX`` (off in production by
    default: a callback to ``/callbacks/sandbox/`` is then an unknown gateway, never checked with its secret)."""
    names = {**DEFAULT_ADAPTERS, **getattr(settings, "PAYMENT_GATEWAY_ADAPTERS", {})}
    if not getattr(settings, "PAYMENT_GATEWAY_ALLOW_SANDBOX", True):
        names.pop("sandbox", None)
    return names


def adapter_for(name: str | None = None) -> GatewayAdapter:
    """The adapter registered as ``name`` (default ``settings.PAYMENT_GATEWAY``); GATEWAY_UNKNOWN otherwise."""
    wanted = name or settings.PAYMENT_GATEWAY
    path = adapter_names().get(wanted)
    if path is None:
        raise NotFound(GATEWAY_UNKNOWN, f"No payment gateway {wanted!r} is configured")
    adapter_class = import_string(path)
    adapter = adapter_class()
    if not isinstance(adapter, GatewayAdapter):  # pragma: no cover - a configuration mistake
        raise TypeError(f"{path} is not a GatewayAdapter")
    return adapter


__all__ = ["adapter_for", "adapter_names"]
