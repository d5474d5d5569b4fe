"""Local HTTP stand-ins for the transaction layer's tests. They are stand-ins, NOT the real services.

- ``FaultProxy``: a JSON-RPC proxy in front of a real anvil that injects faults (HTTP errors, dropped
  connections, timeouts, JSON-RPC errors, a frozen "stale" head, a send that is forwarded and then answered
  with an error), and passes websockets through (with a switch to kill them). It plays an unreliable RPC
  provider.
- ``PrivateRpcStandIn``: plays a private RPC that takes ``eth_sendRawTransaction``. Not a real private relay:
  it checks the exact request shape, records it, and forwards the transaction to anvil so it is mined.
- ``BloxrouteStandIn``: plays bloXroute's Cloud API for ``polygon_private_tx``. Not bloXroute: it checks the
  request shape our submitter is built on (POST, the ``Authorization`` header as given, JSON-RPC 2.0, method
  ``polygon_private_tx``, params ``{"transaction": "<hex without 0x>"}``), can answer errors, and forwards the
  transaction to anvil.

Every stand-in records shape violations in ``violations`` (tests assert it stays empty) and answers them with
HTTP 400, so a wrong request can never pass silently.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

_HEX = re.compile(r"[0-9a-f]*")
_HEAD_METHODS = ("eth_blockNumber", "eth_getBlockByNumber")


class _Server:
    """An aiohttp app on 127.0.0.1 (a free port), started and stopped as an async context manager."""

    def __init__(self) -> None:
        self.app = web.Application()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._client: aiohttp.ClientSession | None = None
        self.violations: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self):
        self._client = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def forward(self, upstream: str, payload: Any) -> Any:
        assert self._client is not None
        async with self._client.post(upstream, json=payload) as resp:
            return await resp.json(content_type=None)

    def violation(self, text: str) -> web.Response:
        self.violations.append(text)
        return web.json_response({"error": f"stand-in: bad request shape: {text}"}, status=400)


class FaultProxy(_Server):
    """Forwards JSON-RPC to ``upstream`` (anvil) and injects the configured fault.

    ``fault`` is one of: ``None`` (pass through), ``"http500"``, ``"http429"``, ``"drop"`` (close the
    connection without answering), ``"timeout"`` (answer after ``delay`` seconds), ``"rpc_error"`` (a JSON-RPC
    error answer with ``error_message``), ``"forward_then_500"`` / ``"forward_then_drop"`` (the request
    reaches anvil, then the client gets a 502 / a dropped connection: the "sent but not told" case).
    ``fault_methods`` limits the fault to those methods (default: all). ``stale_block``, when set, freezes the
    head this proxy reports at that block.
    """

    def __init__(self, upstream: str, *, ws: bool = True) -> None:
        super().__init__()
        self.upstream = upstream
        self.fault: str | None = None
        self.fault_methods: set[str] | None = None
        self.error_message = "stand-in injected error"
        self.delay = 5.0
        self.stale_block: int | None = None
        self.calls: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()
        self.ws_enabled = ws
        self._sockets: set[web.WebSocketResponse] = set()
        self.app.router.add_post("/", self._handle)
        self.app.router.add_get("/", self._ws)

    def set_fault(
        self, fault: str | None, methods: set[str] | None = None, message: str | None = None
    ) -> None:
        self.fault, self.fault_methods = fault, methods
        if message is not None:
            self.error_message = message

    async def kill_websockets(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    def _faulty(self, methods: list[str]) -> str | None:
        if self.fault is None:
            return None
        if self.fault_methods is None or any(m in self.fault_methods for m in methods):
            return self.fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return self.violation("body is not JSON")
        items = payload if isinstance(payload, list) else [payload]
        methods = [str(i.get("method")) for i in items]
        self.calls.update(methods)
        fault = self._faulty(methods)
        if fault == "http500":
            return web.Response(status=500, text="stand-in: internal error")
        if fault == "http429":
            return web.Response(status=429, text="stand-in: too many requests")
        if fault == "drop":
            request.transport.close()  # type: ignore[union-attr]
            return web.Response(status=500)
        if fault == "timeout":
            await asyncio.sleep(self.delay)
        if fault == "rpc_error":
            errors = [
                {
                    "jsonrpc": "2.0",
                    "id": i.get("id"),
                    "error": {"code": -32000, "message": self.error_message},
                }
                for i in items
            ]
            return web.json_response(errors if isinstance(payload, list) else errors[0])
        answer = await self.forward(self.upstream, payload)
        self.forwarded.update(methods)
        if fault == "forward_then_500":
            return web.Response(status=502, text="stand-in: bad gateway after forwarding")
        if fault == "forward_then_drop":
            request.transport.close()  # type: ignore[union-attr]
            return web.Response(status=500)
        if self.stale_block is not None:
            answer = await self._stale(items, answer)
        return web.json_response(answer)

    async def _stale(self, items: list[dict[str, Any]], answer: Any) -> Any:
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {a.get("id"): a for a in answers}
        for item in items:
            method, params = item.get("method"), item.get("params") or []
            a = by_id.get(item.get("id"))
            if a is None or "result" not in a:
                continue
            if method == "eth_blockNumber":
                a["result"] = hex(self.stale_block)  # type: ignore[arg-type]
            elif method == "eth_getBlockByNumber" and params and params[0] == "latest":
                old = await self.forward(
                    self.upstream,
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "eth_getBlockByNumber",
                        "params": [hex(self.stale_block), *params[1:]],
                    },
                )  # type: ignore[arg-type]
                a["result"] = old.get("result")
        return answer

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not self.ws_enabled:
            return web.Response(status=404, text="stand-in: no websocket here")
        down = web.WebSocketResponse()
        await down.prepare(request)
        self._sockets.add(down)
        assert self._client is not None
        try:
            async with self._client.ws_connect(self.upstream.replace("http", "ws", 1)) as up:

                async def pump_up() -> None:
                    async for msg in down:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            await up.send_str(msg.data)
                    await up.close()

                task = asyncio.create_task(pump_up())
                try:
                    async for msg in up:
                        if msg.type is aiohttp.WSMsgType.TEXT and not down.closed:
                            await down.send_str(msg.data)
                        if down.closed:
                            break
                finally:
                    task.cancel()
        finally:
            self._sockets.discard(down)
            await down.close()
        return down


class PrivateRpcStandIn(_Server):
    """Plays a private ``eth_sendRawTransaction`` endpoint (a stand-in, not a real private relay).

    ``answer_error`` makes it answer a JSON-RPC error with that message (``error_times`` times, then it goes
    back to normal; None: always); ``status`` makes it answer that HTTP status; ``required_headers`` are
    checked exactly. Valid transactions are forwarded to ``upstream`` (when set).
    """

    def __init__(
        self, upstream: str | None = None, *, required_headers: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.upstream = upstream
        self.required_headers = required_headers or {}
        self.answer_error: str | None = None
        self.error_times: int | None = None
        self.status: int | None = None
        self.requests: list[dict[str, Any]] = []
        self.app.router.add_post("/", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return self.violation(f"content type {request.content_type!r}")
        for name, value in self.required_headers.items():
            if request.headers.get(name) != value:
                return self.violation(f"header {name} missing or wrong")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self.violation("body is not JSON")
        if not isinstance(body, dict) or set(body) != {"jsonrpc", "id", "method", "params"}:
            return self.violation(f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}")
        if body["jsonrpc"] != "2.0" or not isinstance(body["id"], int):
            return self.violation("jsonrpc/id")
        if body["method"] != "eth_sendRawTransaction":
            return self.violation(f"method {body['method']!r}")
        params = body["params"]
        if not (
            isinstance(params, list)
            and len(params) == 1
            and isinstance(params[0], str)
            and params[0].startswith("0x")
            and _HEX.fullmatch(params[0][2:])
            and len(params[0]) % 2 == 0
        ):
            return self.violation("params must be one 0x-prefixed lowercase hex string")
        self.requests.append(body)
        if self.status is not None:
            return web.Response(status=self.status, text="stand-in: status as configured")
        if self.answer_error is not None and (self.error_times is None or self.error_times > 0):
            if self.error_times is not None:
                self.error_times -= 1
            return web.json_response(
                {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32000, "message": self.answer_error}}
            )
        if self.upstream is None:
            from eth_utils import keccak

            return web.json_response(
                {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "result": "0x" + keccak(bytes.fromhex(params[0][2:])).hex(),
                }
            )
        answer = await self.forward(self.upstream, body)
        return web.json_response(answer)


class BloxrouteStandIn(_Server):
    """Plays bloXroute's Cloud API ``polygon_private_tx`` (a stand-in, not bloXroute).

    Checks: POST to ``/``, ``Authorization`` equal to ``auth``, JSON-RPC 2.0 body with method
    ``polygon_private_tx`` and params an object ``{"transaction": "<lowercase hex, no 0x>"}``
    (``backrunme_reward_address`` optional). A wrong Authorization gets HTTP 401. ``answer_error`` answers a
    JSON-RPC error; ``result_style`` is ``"object"`` (``{"txHash": "0x..."}``) or ``"string"``. Valid
    transactions are forwarded to ``upstream``.
    """

    def __init__(self, auth: str, upstream: str | None = None) -> None:
        super().__init__()
        self.auth = auth
        self.upstream = upstream
        self.answer_error: str | None = None
        self.result_style = "object"
        self.requests: list[dict[str, Any]] = []
        self.unauthorized = 0
        self.app.router.add_post("/", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != self.auth:
            self.unauthorized += 1
            return web.json_response(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32001, "message": "stand-in: Unauthorized"},
                },
                status=401,
            )
        if request.content_type != "application/json":
            return self.violation(f"content type {request.content_type!r}")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self.violation("body is not JSON")
        if not isinstance(body, dict) or set(body) != {"jsonrpc", "id", "method", "params"}:
            return self.violation(f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}")
        if body["jsonrpc"] != "2.0" or body["method"] != "polygon_private_tx":
            return self.violation(f"jsonrpc/method {body.get('jsonrpc')!r} {body.get('method')!r}")
        params = body["params"]
        if not isinstance(params, dict) or not set(params) <= {"transaction", "backrunme_reward_address"}:
            return self.violation("params must be an object with 'transaction'")
        tx = params.get("transaction")
        if not isinstance(tx, str) or tx.startswith("0x") or not _HEX.fullmatch(tx) or len(tx) % 2:
            return self.violation("transaction must be lowercase hex without 0x")
        self.requests.append(body)
        if self.answer_error is not None:
            return web.json_response(
                {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32000, "message": self.answer_error}}
            )
        from eth_utils import keccak

        tx_hash = "0x" + keccak(bytes.fromhex(tx)).hex()
        if self.upstream is not None:
            answer = await self.forward(
                self.upstream,
                {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x" + tx]},
            )
            if "error" in answer:
                return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": answer["error"]})
        result: Any = {"txHash": tx_hash} if self.result_style == "object" else tx_hash[2:]
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})
