"""The benchmark's own Celery task: a no-op that leaves one byte behind, so its end can be counted."""

import os

from celery import shared_task


@shared_task(name="benchmarks.noop")
def noop_task(index: int) -> None:
    """Do nothing but append one byte to BENCHMARK_MARKS (the worker's environment names the file)."""
    with open(os.environ["BENCHMARK_MARKS"], "ab") as marks:
        marks.write(b".")
