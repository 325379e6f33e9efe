"""Running callables in threads released at once, for the PostgreSQL concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from billing_project.errors import DomainError


def run_together(work: list[Callable[[], Any]], *, success: Any = None) -> list[Any]:
    """Run the callables in threads released by one barrier and return one outcome each, in order.

    An outcome is the callable's result (or ``success`` when given), the code of a DomainError, or the repr
    of any other exception — an IntegrityError or a deadlock there is the bug a test is looking for. Each
    thread closes its database connection.
    """
    barrier = threading.Barrier(len(work))
    outcomes: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = work[index]()
            outcomes[index] = result if success is None else success
        except DomainError as exc:
            outcomes[index] = exc.code
        except Exception as exc:
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
