"""A local egov-user: a real HTTP server on 127.0.0.1 (a free port) implementing the two calls we make.

- ``POST /user/_details?access_token=<token>`` → the user the token belongs to (egov-user's CustomUserDetails:
  id, userName, name, mobileNumber, emailId, locale, type, roles [{name, code, tenantId}], active, tenantId, uuid),
  or, for an unknown token, HTTP 400 with the error egov-user's tracer writes for ``InvalidAccessTokenException``.
- ``POST /user/_search`` with ``{"RequestInfo", "uuid": [...], "tenantId"?}`` → ``{"responseInfo", "user": [...]}``
  (UserSearchResponseContent: the person's full record).

Faults: ``down`` (connection refused: the port is closed), ``status`` (answer e.g. 500), ``delay`` (answer after
so many seconds: a slow service; the handler waits on an event so teardown never waits for it). Every request is
recorded (path, query, body) so tests can check what we sent.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def digit_user(
    *,
    uuid_: str | None = None,
    user_name: str,
    name: str,
    mobile: str,
    user_type: str,
    roles: list[tuple[str, str]],
    tenant: str,
    email: str | None = None,
    user_id: int = 1,
) -> dict[str, Any]:
    """A user as egov-user's /user/_details describes it."""
    return {
        "id": user_id,
        "userName": user_name,
        "name": name,
        "mobileNumber": mobile,
        "emailId": email,
        "locale": None,
        "type": user_type,
        "roles": [{"name": code.title().replace("_", " "), "code": code, "tenantId": t} for code, t in roles],
        "active": True,
        "tenantId": tenant,
        "uuid": uuid_ or str(uuid.uuid4()),
    }


def search_record(user: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The same person as /user/_search returns them (UserSearchResponseContent)."""
    record = {
        "id": user["id"],
        "userName": user["userName"],
        "salutation": None,
        "name": user["name"],
        "gender": "FEMALE",
        "mobileNumber": user["mobileNumber"],
        "emailId": user["emailId"],
        "altContactNumber": None,
        "pan": None,
        "aadhaarNumber": None,
        "permanentAddress": "12 Mall Road",
        "permanentCity": "Amritsar",
        "permanentPinCode": "143001",
        "correspondenceAddress": "12 Mall Road, Amritsar",
        "correspondenceCity": None,
        "correspondencePinCode": None,
        "alternatemobilenumber": None,
        "active": True,
        "locale": None,
        "type": user["type"],
        "accountLocked": False,
        "accountLockedDate": 0,
        "fatherOrHusbandName": "Ram Lal",
        "relationship": "FATHER",
        "signature": None,
        "bloodGroup": None,
        "photo": None,
        "identificationMark": None,
        "createdBy": 1,
        "lastModifiedBy": 1,
        "tenantId": user["tenantId"],
        "roles": user["roles"],
        "uuid": user["uuid"],
        "createdDate": "01-04-2023 10:00:00",
        "lastModifiedDate": "01-04-2023 10:00:00",
        "dob": "1980-01-01",
        "pwdExpiryDate": "30-06-2024 10:00:00",
    }
    record.update(extra)
    return record


INVALID_TOKEN_BODY = {
    "ResponseInfo": None,
    "Errors": [
        {
            "code": "InvalidAccessTokenException",
            "message": "Invalid Access Token Exception",
            "description": None,
            "params": None,
        }
    ],
}


@dataclass
class EgovUserServer:
    url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int | None = None
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def add(self, token: str, user: dict[str, Any]) -> dict[str, Any]:
        self.tokens[token] = user
        self.people.setdefault(user["uuid"], search_record(user))
        return user

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path]

    def start(self) -> EgovUserServer:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                body = json.loads(raw) if raw else None
                state.received.append({"path": parts.path, "query": parse_qs(parts.query), "body": body})
                if state.delay and state.release.wait(state.delay):
                    return
                if state.status is not None:
                    return self._answer(state.status, {"ResponseInfo": None, "Errors": [{"code": "INTERNAL"}]})
                if parts.path == "/user/_details":
                    token = (parse_qs(parts.query).get("access_token") or [""])[0]
                    user = state.tokens.get(token)
                    return self._answer(200, user) if user else self._answer(400, INVALID_TOKEN_BODY)
                if parts.path == "/user/_search":
                    wanted = (body or {}).get("uuid") or []
                    users = [state.people[u] for u in wanted if u in state.people]
                    return self._answer(200, {"responseInfo": None, "user": users})
                return self._answer(404, {"error": "not found"})

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def closed_port_url() -> str:
    """A URL nobody listens on (connection refused): an egov-user that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
