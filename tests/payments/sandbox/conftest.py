"""Fixtures of the sandbox gateway tests: the running sandbox, a callback receiver, a merchant client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox_gateway import RunningSandbox, callback_receiver, sandbox_gateway

__all__ = ["callback_receiver", "sandbox_gateway"]


@pytest.fixture
def merchant(sandbox_gateway: RunningSandbox) -> Iterator[httpx.Client]:
    with sandbox_gateway.merchant_client() as client:
        yield client


def new_transaction(
    merchant: httpx.Client, reference: str = "R-1", *, callback_url: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "merchant_reference": reference,
        "amount": "1250.00",
        "currency": "INR",
        "callback_url": callback_url,
        "return_url": "https://billing.example/pay/return",
        "description": "Property tax PT-1",
        "customer": {"name": "Owner", "mobile": "9999999999", "email": "owner@example.com"},
    } | extra
    response = merchant.post("/v1/transactions", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
