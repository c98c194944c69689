"""A real Celery worker in a subprocess, pointed at the test database and the configured broker."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from clinic.celery import app

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_tests() -> str:
    """Return a DATABASE_URL naming the test database this process is using."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


class WorkerProcess:
    """Start, stop and kill a `celery worker` process; its output goes to a log file."""

    def __init__(
        self,
        *,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        include: tuple[str, ...] = (),
        log_dir: Path | None = None,
    ):
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        log_dir = log_dir or ROOT / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.name}.log"
        self.concurrency = concurrency
        self.include = include
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_for_tests(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "TESTING": "true",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "WorkerProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--loglevel", "INFO",
             "--pool", "prefork", "--concurrency", str(self.concurrency), "--hostname", f"{self.name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             *(["--include", ",".join(self.include)] if self.include else [])],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30) -> None:
        """Ask for a warm shutdown (SIGTERM), then kill the whole process group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash would."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def purge_broker() -> None:
    """Drop messages a previous run left in the test broker: the queue and, on Redis, the unacked ones."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_declare(queue=app.conf.task_default_queue, durable=True, auto_delete=False)
        channel.queue_purge(app.conf.task_default_queue)
        if conn.transport.driver_type == "redis":
            channel.client.delete(channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key)


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Poll PREDICATE until it returns something truthy; fail the test after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
