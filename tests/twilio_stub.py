"""A local stand-in for Twilio's REST API (messages only), so tests run the real SDK code path.

It listens on 127.0.0.1 on a free port, checks the account's Basic auth, stores every message it
accepts and counts them. Tests script failures (an HTTP error with a Twilio error code, a delay
before answering, or a dropped connection after the message was accepted).
"""

import base64
import datetime as dt
import email.utils
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "stub-auth-token-0123456789abcdef"


@dataclass
class Scripted:
    """What the stub does with the next create request."""

    status: int = 201  # an HTTP error status makes the request fail without storing the message
    code: int | None = None
    delay: float = 0.0  # seconds to wait after storing the message, before answering
    drop: bool = False  # store the message, then close the connection without answering


@dataclass
class StubMessage:
    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: dt.datetime
    status_callback: str = ""

    def as_json(self, account_sid: str) -> dict:
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": email.utils.format_datetime(self.date_created),
            "date_updated": email.utils.format_datetime(self.date_created),
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


@dataclass
class TwilioStub:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[StubMessage] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    default_delay: float = 0.0
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def accepted(self) -> int:
        """Return how many messages the stub accepted (what a real provider would have sent)."""
        with self._lock:
            return len(self.messages)

    def start(self) -> "TwilioStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                stub._handle(self, "POST")

            def do_GET(self):
                stub._handle(self, "GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- request handling ---------------------------------------------------------------------
    def _reply(self, handler, status: int, payload: dict | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        try:
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            handler.close_connection = True

    def _error(self, handler, status: int, code: int | None, message: str) -> None:
        self._reply(handler, status, {"code": code, "message": message, "status": status, "more_info": ""})

    def _handle(self, handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        with self._lock:
            self.requests.append((method, parts.path))
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return self._error(handler, 401, 20003, "Authenticate")
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        if method == "POST" and parts.path == prefix + ".json":
            return self._create(handler, {k: v[0] for k, v in parse_qs(raw).items()})
        if method == "GET" and parts.path == prefix + ".json":
            return self._list(handler, {k: v[0] for k, v in parse_qs(parts.query).items()})
        if method == "GET" and parts.path.startswith(prefix + "/") and parts.path.endswith(".json"):
            return self._fetch(handler, parts.path[len(prefix) + 1 : -len(".json")])
        return self._error(handler, 404, 20404, "not found")

    def _create(self, handler, form: dict) -> None:
        with self._lock:
            scripted = self.script.pop(0) if self.script else Scripted(delay=self.default_delay)
        if scripted.status >= 400:
            return self._error(handler, scripted.status, scripted.code, "scripted failure")
        if not form.get("To") or not form.get("Body"):
            return self._error(handler, 400, 21604, "A 'To' phone number and a Body are required.")
        message = StubMessage(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            from_=form.get("From", ""),
            body=form["Body"],
            status="queued",
            date_created=dt.datetime.now(tz=dt.UTC).replace(microsecond=0),
            status_callback=form.get("StatusCallback", ""),
        )
        with self._lock:
            self.messages.append(message)
        if scripted.delay:
            time.sleep(scripted.delay)
        if scripted.drop:
            handler.close_connection = True
            handler.connection.shutdown(2)
            return None
        return self._reply(handler, 201, message.as_json(self.account_sid))

    def _list(self, handler, query: dict) -> None:
        with self._lock:
            found = [m for m in self.messages if not query.get("To") or m.to == query["To"]]
        after = query.get("DateSent>")
        if after:
            since = dt.datetime.fromisoformat(after.replace("Z", "+00:00"))
            found = [m for m in found if m.date_created >= since]
        page = {
            "messages": [m.as_json(self.account_sid) for m in reversed(found)],
            "first_page_uri": handler.path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": len(found),
            "uri": handler.path,
        }
        return self._reply(handler, 200, page)

    def _fetch(self, handler, sid: str) -> None:
        with self._lock:
            found = next((m for m in self.messages if m.sid == sid), None)
        if found is None:
            return self._error(handler, 404, 20404, f"The requested resource {sid} was not found")
        return self._reply(handler, 200, found.as_json(self.account_sid))
