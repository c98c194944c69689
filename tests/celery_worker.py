"""Real Celery worker and beat processes, pointed at the test database and this test process's own broker namespace.

Under pytest-xdist every test process (gw0, gw1, ...) has its own test database (pytest-django adds
the suffix) and its own broker namespace: on Redis a key prefix, on the embedded filesystem broker a
folder. A worker started by one test process therefore never takes another's tasks, and
`purge_broker` of one never drops another's.
"""

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
# The Celery app the subprocesses run: the project's, on the namespace named by TEST_BROKER_NAMESPACE.
SUBPROCESS_APP = "tests.celery_app:app"


def broker_namespace() -> str:
    """Return this test process's broker namespace: its xdist worker id, or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def broker_namespace_apply(celery_app, namespace: str) -> None:
    """Confine CELERY_APP to NAMESPACE: a Redis key prefix, or a folder of the filesystem broker."""
    options = dict(celery_app.conf.broker_transport_options or {})
    if celery_app.conf.broker_url.startswith("filesystem://"):
        folder = ROOT / "var" / "test-broker" / namespace
        (folder / "control").mkdir(parents=True, exist_ok=True)
        options |= {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        }
    else:
        options["global_keyprefix"] = f"test-{namespace}:"
    celery_app.conf.broker_transport_options = options


def subprocess_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a worker or beat process: the test database, this broker namespace, ENV."""
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TESTING": "true",
        "TEST_BROKER_NAMESPACE": broker_namespace(),
        **(env or {}),
    }


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
        self.env = subprocess_env(env)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "WorkerProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", SUBPROCESS_APP, "worker", "--loglevel", "INFO",
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


class BeatProcess:
    """A `celery beat` process with its own schedule file in LOG_DIR; its output goes to a log file."""

    def __init__(self, log_dir: Path, name: str, env: dict[str, str] | None = None):
        self.log_path = log_dir / f"{name}.log"
        self.args = [
            *(sys.executable, "-m", "celery", "-A", SUBPROCESS_APP, "beat", "--loglevel", "INFO"),
            *("--schedule", str(log_dir / f"{name}-schedule"), "--pidfile", str(log_dir / f"{name}.pid")),
        ]
        self.env = subprocess_env(env)
        self.process: subprocess.Popen | None = None

    def start(self) -> "BeatProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # fmt: skip
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def purge_broker(celery_app=app) -> None:
    """Drop the messages left in this namespace of the test broker: the queue and, on Redis, the unacked ones."""
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_declare(queue=celery_app.conf.task_default_queue, durable=True, auto_delete=False)
        channel.queue_purge(celery_app.conf.task_default_queue)
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
