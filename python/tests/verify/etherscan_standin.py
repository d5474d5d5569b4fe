"""A local stand-in for the Etherscan v2 API, for tests. It is NOT the real API and talks to nobody else.

It answers only the two calls ``flasharb.verify`` makes, on ``POST/GET /v2/api`` at 127.0.0.1 (a free port):
``module=contract&action=verifysourcecode`` (form body) and ``action=checkverifystatus`` (query), with the
JSON shapes the real API uses (``{"status", "message", "result"}``). What it answers is scripted per test:
``StandIn.script("verifysourcecode", [reply, ...])`` queues replies, the last one repeating. A reply is
``ok(result)``, ``notok(result)``, ``http(status, body)``, ``raw(text)`` or ``slow(seconds, reply)``. Every
request is recorded (method, path, query, form) so tests can assert on the exact fields sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = ""
    delay: float = 0.0


def ok(result: str) -> Reply:
    return Reply(body=json.dumps({"status": "1", "message": "OK", "result": result}))


def notok(result: str, message: str = "NOTOK") -> Reply:
    return Reply(body=json.dumps({"status": "0", "message": message, "result": result}))


def http(status: int, body: str = "error") -> Reply:
    return Reply(status=status, body=body)


def raw(text: str) -> Reply:
    return Reply(body=text)


def slow(seconds: float, reply: Reply) -> Reply:
    return Reply(status=reply.status, body=reply.body, delay=seconds)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]

    @property
    def action(self) -> str:
        return self.form.get("action") or self.query.get("action", "")


@dataclass
class StandIn:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    _scripts: dict[str, list[Reply]] = field(default_factory=lambda: defaultdict(list))
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v2/api"

    def script(self, action: str, replies: list[Reply]) -> None:
        with self._lock:
            self._scripts[action] = list(replies)

    def calls(self, action: str) -> list[Request]:
        return [r for r in self.requests if r.action == action]

    def _next(self, action: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(action)
            if not queue:
                return notok(f"stand-in has no reply scripted for {action!r}")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                form: dict[str, str] = {}
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length).decode()
                    form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
                request = Request(method, parts.path, query, form)
                standin.requests.append(request)
                if parts.path != "/v2/api":
                    reply = http(404, "not found")
                else:
                    reply = standin._next(request.action)
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="etherscan-standin", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
