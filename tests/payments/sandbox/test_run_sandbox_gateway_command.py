"""``manage.py run_sandbox_gateway`` as a real foreground process: it serves, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]
# Upper bounds on waiting for a separate process (generous: a loaded CI machine may start it slowly); never sleeps.
PROCESS_TIMEOUT = 60


def test_the_command_serves_until_ctrl_c() -> None:
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox_gateway", "--port", "0", "--secret", "s3", "--merchant-key", "mk"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the server listens
        assert first.startswith("sandbox gateway listening on http://127.0.0.1:"), first + process.stderr.read()
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        authorized = httpx.get(
            f"{url}/v1/transactions",
            params={"merchant_reference": "R"},
            headers={"Authorization": "Bearer mk"},
            timeout=PROCESS_TIMEOUT,
        )
        assert (authorized.status_code, authorized.json()) == (200, {"items": []})
        assert (
            httpx.get(
                f"{url}/v1/transactions/txn_00", headers={"Authorization": "Bearer other"}, timeout=PROCESS_TIMEOUT
            ).status_code
            == 401
        )

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out == "sandbox gateway stopped\n"
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_at_once_after_start_stops_it_cleanly(sig: int) -> None:
    """The signal only sets an event (the server runs in its own thread): wherever it lands after the "listening"
    line, the command stops in order — no KeyboardInterrupt racing the start or the clean-up."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox_gateway", "--port", "0"],
        cwd=ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("sandbox gateway listening on http://127.0.0.1:")
        process.send_signal(sig)
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, out) == (0, "sandbox gateway stopped\n"), err
    assert "Traceback" not in err


def test_a_busy_port_is_a_command_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("run_sandbox_gateway", "--port", str(port))
