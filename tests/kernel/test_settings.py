"""Production mode: refuses to start without a secret key, or with the sandbox gateway (unless a demo stack
allows it explicitly, and then never with its public default secret/key), and passes ``check --deploy``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PAYMENT_GATEWAY"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DJANGO_ENV="production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_production_passes_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-for-the-deploy-check-0123456789",
        DJANGO_ALLOWED_HOSTS="billing.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "billing.example.org",
}
PRIVATE = {
    "PAYMENT_GATEWAY_SANDBOX_SECRET": "demo-stack-private-secret-0123",
    "PAYMENT_GATEWAY_SANDBOX_KEY": "demo-stack-private-key-0123",
}
REGISTRY = "from django.conf import settings; from payments.gateway.adapters import adapter_names; " + (
    "print(repr(settings.PAYMENT_GATEWAY), sorted(adapter_names()))"
)
SANDBOX_REFUSED = (
    "PAYMENT_GATEWAY=sandbox is refused when DJANGO_ENV=production "
    "(a demo stack may set PAYMENT_GATEWAY_ALLOW_SANDBOX=true)"
)


def _refusal(name: str) -> str:
    return (
        f"{name} must be set to a private value of at least 16 characters (not the default) when DJANGO_ENV=production"
    )


def test_production_has_no_gateway_and_no_sandbox_by_default() -> None:
    result = _manage("shell", "--no-imports", "-c", REGISTRY, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "'' []\n"


def test_development_keeps_the_sandbox_with_its_defaults() -> None:
    result = _manage("shell", "--no-imports", "-c", REGISTRY, DJANGO_ENV="development")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "'sandbox' ['sandbox']\n"


def test_production_refuses_the_sandbox_unless_explicitly_allowed() -> None:
    result = _manage("check", PAYMENT_GATEWAY="sandbox", **PRIVATE, **PRODUCTION)
    assert result.returncode != 0
    assert SANDBOX_REFUSED in result.stderr


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        ({"PAYMENT_GATEWAY_SANDBOX_SECRET": ""}, "PAYMENT_GATEWAY_SANDBOX_SECRET"),  # unset: no default
        ({"PAYMENT_GATEWAY_SANDBOX_SECRET": "sandbox-secret"}, "PAYMENT_GATEWAY_SANDBOX_SECRET"),
        ({"PAYMENT_GATEWAY_SANDBOX_SECRET": "sandbox-merchant-key"}, "PAYMENT_GATEWAY_SANDBOX_SECRET"),
        ({"PAYMENT_GATEWAY_SANDBOX_SECRET": "short-secret"}, "PAYMENT_GATEWAY_SANDBOX_SECRET"),
        ({"PAYMENT_GATEWAY_SANDBOX_SECRET": " " * 20}, "PAYMENT_GATEWAY_SANDBOX_SECRET"),
        ({"PAYMENT_GATEWAY_SANDBOX_KEY": ""}, "PAYMENT_GATEWAY_SANDBOX_KEY"),
        ({"PAYMENT_GATEWAY_SANDBOX_KEY": "sandbox-merchant-key"}, "PAYMENT_GATEWAY_SANDBOX_KEY"),
    ],
)
def test_an_allowed_sandbox_in_production_refuses_a_missing_or_public_secret(
    overrides: dict[str, str], refused: str
) -> None:
    env = {**PRODUCTION, **PRIVATE, "PAYMENT_GATEWAY": "sandbox", "PAYMENT_GATEWAY_ALLOW_SANDBOX": "true"}
    env.update(overrides)
    if not env[refused]:
        del env[refused]
    result = _manage("check", **env)
    assert result.returncode != 0
    assert _refusal(refused) in result.stderr


def test_an_allowed_sandbox_with_private_credentials_starts_in_production() -> None:
    env = {**PRODUCTION, **PRIVATE, "PAYMENT_GATEWAY": "sandbox", "PAYMENT_GATEWAY_ALLOW_SANDBOX": "true"}
    result = _manage("shell", "--no-imports", "-c", REGISTRY, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "'sandbox' ['sandbox']\n"
