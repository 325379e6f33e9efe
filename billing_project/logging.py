"""Log plumbing: the request id on every line (set by the middleware, read by the filter), and the redaction of
credentials sent in a query string (our JSON lines, Django's request and dev-server lines, gunicorn's access log)."""

from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Query parameters whose values are credentials: a token sent in the query string is refused (tokens go in the
# Authorization header or RequestInfo.authToken), but the request line would still carry it into the logs.
_SECRET_PARAMS = re.compile(
    r"(?i)((?:^|[?&;]|%3F|%26)(?:access[_-]?token|auth[_-]?token|token|api[_-]?key|apikey|key|password|secret|"
    r"signature|session(?:id)?)=)[^&;\s\"'#]*"
)
REDACTED = "[REDACTED]"


def redact_query(text: str) -> str:
    """``text`` with the values of credential-like query parameters replaced by ``[REDACTED]``."""
    if "=" not in text:
        return text
    return _SECRET_PARAMS.sub(rf"\g<1>{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Redacts credentials from query strings in a record's message, arguments and ``request`` (Django's
    ``django.request`` and ``django.server`` records carry the request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            text = redact_query(repr(request))
            if text != repr(request):
                record.request = text
        return True
