"""Append each SMS to a file under settings.SMS_FILE_PATH, one file per process run."""

import datetime as dt
import threading
import uuid
from pathlib import Path

from django.conf import settings

from clinic.messaging.backends.base import BaseSmsBackend, SendResult


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, file_path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.SMS_FILE_PATH)
        self._lock = threading.RLock()

    def send(self, *, to: str, body: str, from_: str, reference: str) -> SendResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(tz=dt.UTC)
        path = self.directory / f"{stamp:%Y%m%d}.log"
        with self._lock, path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp.isoformat()} SMS from {from_} to {to} [{reference}]\n{body}\n{'-' * 79}\n")
        return SendResult(provider_message_id=f"file-{uuid.uuid4().hex}")
