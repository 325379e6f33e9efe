"""The bounded Schemathesis run: every operation of /api/schema/ against a live server, fixed seed.

    python -m tests.conformance.schemathesis_run            # or: make conformance

What it does, each step on this machine only (127.0.0.1):

1. a scratch database: on the PostgreSQL server of ``DATABASE_URL`` when that is set (created and dropped
   here), else a temporary SQLite file;
2. ``migrate`` and ``tests/conformance/seed.py`` (the demo data and an API client holding every staff role
   of ``pb``);
3. gunicorn with the service's config (``billing_project/gunicorn_conf.py``), DEBUG off, 2 workers, on a free
   port;
4. ``schemathesis run`` over the served schema with that client's token: all phases (examples, coverage,
   fuzzing, stateful — the schema's OpenAPI links), ``--seed`` fixed, ``--max-examples`` per operation, and
   the checks below; any 5xx or any answer that does not match the schema fails the run;
5. prints the elapsed time and the number of requests, stops the server, drops the database.

Exit status: Schemathesis's (0 when every check passed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
DEFAULT_SEED = 20261208
DEFAULT_MAX_EXAMPLES = 12
PHASES = "examples,coverage,fuzzing,stateful"


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A DATABASE_URL for a new, empty database, removed afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(base)
        name = f"conformance_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory(prefix="conformance-") as directory:
        yield f"sqlite:///{directory}/conformance.sqlite3"


def _environment(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "REDIS_URL": "",
            # Online payments reach no gateway: the discard port refuses at once (no waiting on a timeout).
            "PAYMENT_GATEWAY_URL": "http://127.0.0.1:9",
            "PAYMENT_GATEWAY_CALL_ATTEMPTS": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@contextlib.contextmanager
def server(env: dict[str, str], workers: int, access_log: Path) -> Iterator[str]:
    """gunicorn on 127.0.0.1 and a free port; yields its base URL."""
    process = subprocess.Popen(  # our own executable and arguments
        [
            _bin("gunicorn"),
            "-c",
            "python:billing_project.gunicorn_conf",
            "billing_project.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--access-logfile",
            str(access_log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        url = None
        deadline = time.monotonic() + 60
        for line in process.stderr:
            match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if match:
                url = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if url is None:
            raise RuntimeError("gunicorn did not start")
        # Keep draining its log so that it never blocks on a full pipe; errors are printed as they come.
        import threading

        def drain() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                if '"level": "ERROR"' in line or "Traceback" in line:
                    sys.stderr.write("server: " + line[:2000])

        threading.Thread(target=drain, daemon=True).start()
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _count_requests(access_log: Path) -> int:
    """Requests the server answered (gunicorn's access log: one line each, the schema download included)."""
    if not access_log.exists():
        return 0
    with access_log.open() as lines:
        return sum(1 for _ in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    parser.add_argument("--workers", type=int, default=2, help="Schemathesis workers and gunicorn workers")
    parser.add_argument("--phases", default=PHASES)
    parser.add_argument("--report-dir", default="", help="keep Schemathesis's JUnit report here")
    parser.add_argument("extra", nargs="*", help="more arguments for `schemathesis run` (after --)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with scratch_database() as database_url, tempfile.TemporaryDirectory(prefix="st-report-") as tmp:
        env = _environment(database_url)
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [python, "-m", "tests.conformance.seed"],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "billing_project.settings"},
            check=False,
            capture_output=True,
            text=True,
        )
        if seeded.returncode:
            sys.stderr.write(seeded.stderr)
            return seeded.returncode
        token = seeded.stdout.strip().splitlines()[-1]
        report_dir = Path(args.report_dir or tmp)
        report_dir.mkdir(parents=True, exist_ok=True)
        access_log = Path(tmp) / "access.log"
        with server(env, args.workers, access_log) as url:
            command = [
                _bin("schemathesis"),
                "run",
                f"{url}/api/schema/",
                "--header",
                f"Authorization: Token {token}",
                "--seed",
                str(args.seed),
                "--max-examples",
                str(args.max_examples),
                "--phases",
                args.phases,
                "--checks",
                ",".join(CHECKS),
                "--workers",
                str(args.workers),
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--no-color",
                "--report",
                "junit",
                "--report-dir",
                str(report_dir),
                *args.extra,
            ]
            run_started = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, env=env, check=False)
            run_seconds = time.monotonic() - run_started
        requests = _count_requests(access_log)
    total = time.monotonic() - started
    print(
        f"schemathesis: exit {result.returncode}; {requests} requests in {run_seconds:.0f} s "
        f"(seed {args.seed}, max examples {args.max_examples}); {total:.0f} s with setup"
    )
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
