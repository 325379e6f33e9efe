"""gunicorn settings of the web service: ``gunicorn -c python:billing_project.gunicorn_conf billing_project.wsgi``.

- The access log goes through ``RedactingLogger``: credentials sent in a query string (``?access_token=…``) are
  written as ``[REDACTED]`` (the request line and the query-string atoms).
- gunicorn answers what it cannot parse itself (a request line over 4094 bytes, bad headers) before Django sees
  it, with an HTML page. It answers JSON instead, readable as both faces' error body (the path is unknown at
  that point): ``{"code", "message", "fields"}`` and ``{"ResponseInfo": null, "Errors": [...]}`` in one object.

Binding, workers and timeouts come from the command line (Dockerfile, docker-compose.yml).
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import glogging, util

from billing_project.logging import redact_query

_CODES = {400: "BAD_REQUEST", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 413: "REQUEST_TOO_LARGE"}


def _json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    code = _CODES.get(status_int, "BAD_REQUEST" if status_int < 500 else "INTERNAL_ERROR")
    message = str(mesg or reason)
    body = json.dumps(
        {
            "code": code,
            "message": message,
            "fields": {},
            "ResponseInfo": None,
            "Errors": [{"code": code, "message": message, "description": None, "params": None}],
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


util.write_error = _json_error  # gunicorn's workers call util.write_error for what they cannot parse


class RedactingLogger(glogging.Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query(atoms[key])
        return atoms


logger_class = RedactingLogger
