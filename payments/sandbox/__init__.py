"""The sandbox payment gateway: a separate HTTP process behaving like a hosted-checkout gateway.

Its HTTP contract is docs/payment-gateway-sandbox.md. It imports nothing of the billing service but the kernel.
"""

from .server import DEFAULT_MERCHANT_KEY, DEFAULT_SECRET, SandboxGateway
from .signing import SIGNATURE_HEADER, signature_digest, signature_header

__all__ = [
    "DEFAULT_MERCHANT_KEY",
    "DEFAULT_SECRET",
    "SIGNATURE_HEADER",
    "SandboxGateway",
    "signature_digest",
    "signature_header",
]
