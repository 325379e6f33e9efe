"""Local HTTP receivers: a webhook subscriber and DIGIT's egov-workflow-v2 (``/egov-wf/process/_transition``).

Both record what they receive; ``answers`` is a queue of HTTP statuses to answer in turn (then 200).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                state.received.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
                status = state.answers.pop(0) if state.answers else 200
                body = json.loads(raw) if raw else {}
                if self.path.endswith("/egov-wf/process/_transition") and status == 200:
                    instances = [
                        {**pi, "state": {"state": "APPROVALPENDING", "applicationStatus": "INWORKFLOW"}}
                        for pi in body.get("ProcessInstances", [])
                    ]
                    payload: Any = {"ResponseInfo": None, "ProcessInstances": instances}
                else:
                    payload = {"ok": status == 200}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
