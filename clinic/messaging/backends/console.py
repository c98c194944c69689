"""Write each SMS to standard output (the development default)."""

import sys
import threading
import uuid

from clinic.messaging.backends.base import BaseSmsBackend, SendResult


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, stream=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send(self, *, to: str, body: str, from_: str, reference: str) -> SendResult:
        with self._lock:
            self.stream.write(f"SMS from {from_} to {to} [{reference}]\n{body}\n{'-' * 79}\n")
            self.stream.flush()
        return SendResult(provider_message_id=f"console-{uuid.uuid4().hex}")
