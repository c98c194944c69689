"""Start N threads (each with its own database connection) that call one function at the same moment."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(count: int, call: Callable[[int], Any]) -> tuple[list[Any], list[Exception]]:
    """Run CALL(i) for i in range(COUNT) in threads released together; return (results, exceptions)."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    failures: list[Exception] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = call(index)
            with lock:
                results.append(result)
        except Exception as exc:  # every outcome is collected and asserted by the caller
            with lock:
                failures.append(exc)
        finally:
            connection.close()  # each thread has its own connection; give it back

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures
