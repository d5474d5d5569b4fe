"""A JSON-RPC client for the hot path: raw JSON over one persistent aiohttp session, several endpoints,
failover.

- **Endpoints** are tried in their configured order (the first is the preferred one). An endpoint that fails
  at the transport level (cannot connect, timeout, HTTP 429/5xx, unparseable body) or answers with a
  node-trouble error (rate limited, "header not found") is put in a cooldown that doubles per consecutive
  failure (capped), and the call moves on to the next endpoint. A JSON-RPC error that is the node's answer to
  the request (a revert, "nonce too low") is *not* retried: it is raised as ``RpcError``.
- **Stale endpoints**: every head-reading answer (``eth_blockNumber``, ``eth_getBlockByNumber("latest")``, new
  heads) updates the best head seen; an endpoint whose head lags it by more than ``max_block_lag`` is marked
  stale, put behind the fresh ones, and the call is answered by the next endpoint (if none is fresh, the
  freshest answer wins). A background probe (``health_interval``) asks every endpoint for its head so stale or
  failed ones come back.
- **Sends** (``send_raw_transaction``) are never blindly retried: the hash is known before sending (keccak of
  the raw bytes), and after a failure that may have reached a node, the client looks the hash up before
  sending the same bytes to the next endpoint. "already known" is success. An outcome that stays unknown
  raises ``SendOutcomeUnknown`` (the nonce must then be kept, not released).
- **New heads**: ``RpcClient.heads()`` subscribes to ``newHeads`` over websockets and falls back to HTTP
  polling when no endpoint has a websocket URL or the socket fails or goes quiet; it retries the socket
  periodically.
- **Errors** name the endpoint, never its URL (provider URLs carry API keys).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from eth_utils import keccak

from flasharb.exceptions import ConfigError
from flasharb.tx.errors import (
    AllEndpointsFailed,
    ChainMismatch,
    RpcError,
    RpcTimeout,
    RpcTransportError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    StaleEndpoint,
    classify_send_error,
)

log = logging.getLogger("flasharb.tx.rpc")

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
# JSON-RPC error answers that mean "this endpoint cannot serve you now", not "your request is wrong".
_TROUBLE_CODES = {-32005, 429}
_TROUBLE_TEXT = (
    "header not found",
    "rate limit",
    "too many requests",
    "missing trie node",
    "request limit",
    "capacity",
)


# ------------------------------------------------------------------ endpoints
@dataclass(frozen=True, slots=True)
class Endpoint:
    """One RPC endpoint. Only ``name`` is ever shown; ``url``/``ws_url``/``headers`` may carry credentials."""

    name: str
    url: str = field(repr=False)
    ws_url: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeout: float = 2.0  # one request, seconds

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"RPC endpoint {self.name!r}: expected an http(s):// URL")
        if self.ws_url is not None and not self.ws_url.startswith(("ws://", "wss://")):
            raise ConfigError(f"RPC endpoint {self.name!r}: expected a ws(s):// websocket URL")
        if self.timeout <= 0:
            raise ConfigError(f"RPC endpoint {self.name!r}: timeout must be positive")

    @classmethod
    def same_port_ws(cls, url: str, name: str = "local", *, timeout: float = 2.0) -> "Endpoint":
        """An endpoint that serves websockets on its HTTP address (anvil, a local bor with ``--ws`` on one
        port)."""
        return cls(name=name, url=url, ws_url=ws_url_for(url), timeout=timeout)


def ws_url_for(http_url: str) -> str:
    parts = urlsplit(http_url)
    return urlunsplit(("wss" if parts.scheme == "https" else "ws", *parts[1:]))


def parse_endpoints(spec: str | Sequence[str], *, timeout: float = 2.0) -> list[Endpoint]:
    """Endpoints from ``"[name=]http_url[|ws_url], ..."`` (comma or whitespace separated) or a list of such
    items.

    ``ws_url`` may be ``auto`` (same host and port as the HTTP URL). Names default to ``rpc0``, ``rpc1``, ...
    Errors name the item's position, never its URL.
    """
    items = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    out: list[Endpoint] = []
    for i, item in enumerate(items):
        name, _, rest = item.partition("=") if "=" in item.split("://", 1)[0] else ("", "", item)
        name = name.strip() or f"rpc{i}"
        url, _, ws = rest.strip().partition("|")
        ws_url = ws_url_for(url) if ws == "auto" else (ws or None)
        try:
            out.append(Endpoint(name=name, url=url, ws_url=ws_url, timeout=timeout))
        except ConfigError:
            raise ConfigError(
                f"RPC endpoint #{i} ({name}): expected [name=]http(s)://...[|ws(s)://...|auto]"
            ) from None
    if len({e.name for e in out}) != len(out):
        raise ConfigError("RPC endpoint names must be unique")
    return out


@dataclass(slots=True)
class EndpointStatus:
    """Health of one endpoint (for metrics, logs and the live view)."""

    name: str
    up: bool
    stale: bool
    head: int | None
    consecutive_failures: int
    requests: int
    failures: int
    latency_ms: float | None  # exponentially weighted mean of successful requests
    last_error: str | None


@dataclass(slots=True, eq=False)
class _State:
    endpoint: Endpoint
    down_until: float = 0.0
    consecutive_failures: int = 0
    stale: bool = False
    head: int | None = None
    requests: int = 0
    failures: int = 0
    latency_ms: float | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Head:
    """A new block header as the bot needs it. ``received_at`` is ``time.perf_counter()`` on arrival."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int
    base_fee: int | None
    gas_limit: int
    gas_used: int
    received_at: float
    source: str  # "ws:<endpoint>" or "poll:<endpoint>"

    @classmethod
    def from_json(cls, block: Mapping[str, Any], source: str, received_at: float | None = None) -> "Head":
        base = block.get("baseFeePerGas")
        return cls(
            number=int(block["number"], 16),
            hash=block["hash"],
            parent_hash=block.get("parentHash", ""),
            timestamp=int(block.get("timestamp", "0x0"), 16),
            base_fee=int(base, 16) if base is not None else None,
            gas_limit=int(block.get("gasLimit", "0x0"), 16),
            gas_used=int(block.get("gasUsed", "0x0"), 16),
            received_at=time.perf_counter() if received_at is None else received_at,
            source=source,
        )


# ------------------------------------------------------------------ client
class RpcClient:
    """JSON-RPC over several endpoints with failover. Use ``async with RpcClient(endpoints) as rpc:``."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        chain_id: int | None = None,
        max_block_lag: int = 3,
        cooldown: float = 1.0,
        max_cooldown: float = 30.0,
        health_interval: float | None = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not endpoints:
            raise ConfigError("at least one RPC endpoint is needed")
        if len({e.name for e in endpoints}) != len(endpoints):
            raise ConfigError("RPC endpoint names must be unique")
        self._states = [_State(e) for e in endpoints]
        self._by_name = {s.endpoint.name: s for s in self._states}
        self._expected_chain_id = chain_id
        self._chain_id: int | None = None
        self.max_block_lag = max_block_lag
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.health_interval = health_interval
        self._session = session
        self._own_session = session is None
        self._ids = itertools.count(1)
        self.best_head = 0
        self._health_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> "RpcClient":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Opens the session and learns the chain id (every endpoint that answers must agree)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=64, ttl_dns_cache=300, keepalive_timeout=75)
            self._session = aiohttp.ClientSession(connector=connector)
        if self._chain_id is None:
            await self._learn_chain_id()
        if self.health_interval and self._health_task is None:
            self._health_task = asyncio.create_task(self._health_loop(), name="flasharb-rpc-health")

    async def close(self) -> None:
        await _cancel(self._health_task)
        self._health_task = None
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError(
                "RpcClient not started: use `async with RpcClient(...)` or `await client.start()`"
            )
        return self._session

    @property
    def chain_id(self) -> int:
        """The chain id, learned once at start (never asked again on the hot path)."""
        if self._chain_id is None:
            raise RuntimeError("RpcClient not started")
        return self._chain_id

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(s.endpoint for s in self._states)

    async def _learn_chain_id(self) -> None:
        results = await asyncio.gather(
            *(self.call("eth_chainId", endpoint=s.endpoint.name) for s in self._states),
            return_exceptions=True,
        )
        ids: dict[str, int] = {}
        errors: list[RpcError] = []
        for state, res in zip(self._states, results):
            if isinstance(res, RpcError):
                errors.append(res)
            elif isinstance(res, BaseException):
                raise res
            else:
                ids[state.endpoint.name] = int(res, 16)
        if not ids:
            raise AllEndpointsFailed("eth_chainId", errors)
        distinct = set(ids.values())
        if len(distinct) > 1:
            detail = ", ".join(f"{n}={c}" for n, c in ids.items())
            raise ChainMismatch(f"RPC endpoints are on different chains: {detail}")
        chain_id = distinct.pop()
        if self._expected_chain_id is not None and chain_id != self._expected_chain_id:
            raise ChainMismatch(f"RPC endpoints are on chain {chain_id}, expected {self._expected_chain_id}")
        self._chain_id = chain_id

    # ------------------------------------------------------------------ health
    def status(self) -> list[EndpointStatus]:
        now = time.monotonic()
        return [
            EndpointStatus(
                name=s.endpoint.name,
                up=s.down_until <= now,
                stale=s.stale,
                head=s.head,
                consecutive_failures=s.consecutive_failures,
                requests=s.requests,
                failures=s.failures,
                latency_ms=s.latency_ms,
                last_error=s.last_error,
            )
            for s in self._states
        ]

    def _candidates(self, only: str | None = None) -> list[_State]:
        if only is not None:
            try:
                return [self._by_name[only]]
            except KeyError:
                raise ConfigError(f"no RPC endpoint named {only!r}") from None
        now = time.monotonic()
        fresh = [s for s in self._states if s.down_until <= now and not s.stale]
        stale = [s for s in self._states if s.down_until <= now and s.stale]
        down = sorted((s for s in self._states if s.down_until > now), key=lambda s: s.down_until)
        return fresh + stale + down

    def _ok(self, st: _State, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        st.latency_ms = ms if st.latency_ms is None else 0.8 * st.latency_ms + 0.2 * ms
        if st.consecutive_failures:
            log.info("RPC endpoint %s is back", st.endpoint.name)
        st.consecutive_failures = 0
        st.down_until = 0.0

    def _failed(self, st: _State, err: RpcError) -> None:
        st.failures += 1
        st.consecutive_failures += 1
        st.last_error = err.reason
        pause = min(self.cooldown * 2 ** (st.consecutive_failures - 1), self.max_cooldown)
        st.down_until = time.monotonic() + pause
        log.warning("RPC endpoint %s failed (%s); next try in %.1f s", st.endpoint.name, err.reason, pause)

    def _observe_head(self, st: _State, number: int) -> bool:
        """Records an endpoint's head; returns True when it is stale against the best head seen."""
        st.head = number
        if number > self.best_head:
            self.best_head = number
        stale = number < self.best_head - self.max_block_lag
        if stale != st.stale:
            st.stale = stale
            if stale:
                log.warning(
                    "RPC endpoint %s is stale (head %d, best %d)", st.endpoint.name, number, self.best_head
                )
            else:
                log.info("RPC endpoint %s caught up (head %d)", st.endpoint.name, number)
        return stale

    async def refresh_health(self) -> list[EndpointStatus]:
        """Asks every endpoint for its head (in parallel), updating staleness and reviving failed
        endpoints."""

        async def probe(st: _State) -> None:
            started = time.perf_counter()
            try:
                answer = await self._post(st, _body("eth_blockNumber", [], 0), "eth_blockNumber", None)
            except RpcTransportError as exc:
                self._failed(st, exc)
                return
            result = answer.get("result") if isinstance(answer, dict) else None
            if isinstance(result, str):
                self._ok(st, started)
                self._observe_head(st, int(result, 16))

        await asyncio.gather(*(probe(s) for s in self._states))
        return self.status()

    async def _health_loop(self) -> None:
        assert self.health_interval
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                await self.refresh_health()
            except Exception:  # pragma: no cover - the probe does not raise; the loop must survive anyway
                log.exception("RPC health probe failed")

    # ------------------------------------------------------------------ transport
    async def _post(self, st: _State, body: bytes, method: str, timeout: float | None) -> Any:
        """One HTTP POST; transport trouble becomes ``RpcTransportError`` (without the URL in its text)."""
        ep = st.endpoint
        t = timeout or ep.timeout
        st.requests += 1
        headers = {**_JSON_HEADERS, **ep.headers} if ep.headers else _JSON_HEADERS
        name = ep.name
        try:
            async with self.session.post(
                ep.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=t)
            ) as r:
                status = r.status
                raw = await r.read()
        except aiohttp.ClientConnectorError as exc:
            raise RpcTransportError(
                f"cannot connect ({type(exc).__name__})", endpoint=name, method=method, delivered=False
            ) from None
        except asyncio.TimeoutError:
            raise RpcTimeout(
                f"no answer within {t:g} s", endpoint=name, method=method, delivered=True
            ) from None
        except aiohttp.ClientError as exc:
            raise RpcTransportError(
                f"connection failed ({type(exc).__name__})", endpoint=name, method=method, delivered=True
            ) from None
        if status == 429 or status >= 500:
            raise RpcTransportError(
                f"HTTP {status}", endpoint=name, method=method, delivered=status >= 500, status=status
            )
        try:
            answer = json.loads(raw)
        except ValueError:
            raise RpcTransportError(
                f"HTTP {status} with a body that is not JSON",
                endpoint=name,
                method=method,
                delivered=True,
                status=status,
            ) from None
        if status != 200 and not (isinstance(answer, (dict, list)) and answer and _has_jsonrpc_shape(answer)):
            raise RpcTransportError(
                f"HTTP {status}", endpoint=name, method=method, delivered=False, status=status
            )
        return answer

    # ------------------------------------------------------------------ calls
    async def call(
        self,
        method: str,
        params: Sequence[Any] = (),
        *,
        endpoint: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """``method(params)`` on the first endpoint that answers; ``RpcError`` for the node's error answer,
        ``AllEndpointsFailed`` when none could answer. ``endpoint`` pins one endpoint (no failover)."""
        body = _body(method, params, next(self._ids))
        errors: list[RpcError] = []
        stale_answers: list[tuple[int, Any]] = []
        head_kind = _head_kind(method, params)
        for st in self._candidates(endpoint):
            started = time.perf_counter()
            try:
                answer = await self._post(st, body, method, timeout)
            except RpcTransportError as exc:
                self._failed(st, exc)
                errors.append(exc)
                continue
            if not isinstance(answer, dict):
                exc = RpcTransportError(
                    "answer is not a JSON object", endpoint=st.endpoint.name, method=method, delivered=True
                )
                self._failed(st, exc)
                errors.append(exc)
                continue
            err = answer.get("error")
            if err is not None:
                rpc_err = _rpc_error(err, st.endpoint.name, method)
                if _is_trouble(rpc_err):
                    self._failed(st, rpc_err)
                    errors.append(rpc_err)
                    continue
                self._ok(st, started)
                raise rpc_err
            self._ok(st, started)
            result = answer.get("result")
            if head_kind:
                number = _head_number(head_kind, result)
                if number is not None and self._observe_head(st, number) and endpoint is None:
                    errors.append(
                        StaleEndpoint(
                            endpoint=st.endpoint.name, method=method, block=number, best=self.best_head
                        )
                    )
                    stale_answers.append((number, result))
                    continue
            return result
        if stale_answers:
            # Every endpoint that answered is behind the best head seen (maybe the best one just died): the
            # freshest answer is still the best information there is.
            return max(stale_answers, key=lambda a: a[0])[1]
        raise AllEndpointsFailed(method, errors)

    async def batch(
        self,
        calls: Sequence[tuple[str, Sequence[Any]]],
        *,
        endpoint: str | None = None,
        timeout: float | None = None,
    ) -> list[Any]:
        """Several calls in one HTTP request (one endpoint answers all). Each item of the result is the call's
        result or the ``RpcError`` it got; transport failures move the whole batch to the next endpoint."""
        if not calls:
            return []
        first = next(self._ids)
        ids = [first + i for i in range(len(calls))]
        for _ in range(len(calls) - 1):
            next(self._ids)
        body = json.dumps(
            [{"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in zip(ids, calls)],
            separators=(",", ":"),
        ).encode()
        label = f"batch[{len(calls)}]"
        errors: list[RpcError] = []
        for st in self._candidates(endpoint):
            started = time.perf_counter()
            try:
                answer = await self._post(st, body, label, timeout)
            except RpcTransportError as exc:
                self._failed(st, exc)
                errors.append(exc)
                continue
            if isinstance(answer, dict) and "error" in answer:  # the whole batch refused (batching disabled?)
                rpc_err = _rpc_error(answer["error"], st.endpoint.name, label)
                if _is_trouble(rpc_err) or endpoint is None:
                    self._failed(st, rpc_err)
                    errors.append(rpc_err)
                    continue
                raise rpc_err
            if not isinstance(answer, list):
                exc = RpcTransportError(
                    "batch answer is not a list", endpoint=st.endpoint.name, method=label, delivered=True
                )
                self._failed(st, exc)
                errors.append(exc)
                continue
            self._ok(st, started)
            by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
            out: list[Any] = []
            for i, (m, _) in zip(ids, calls):
                a = by_id.get(i)
                if a is None:
                    out.append(RpcError("missing from the batch answer", endpoint=st.endpoint.name, method=m))
                elif a.get("error") is not None:
                    out.append(_rpc_error(a["error"], st.endpoint.name, m))
                else:
                    out.append(a.get("result"))
            return out
        raise AllEndpointsFailed(label, errors)

    # ------------------------------------------------------------------ sending
    async def send_raw_transaction(self, raw: bytes, *, timeout: float | None = None) -> str:
        """Sends signed bytes; returns the tx hash (``0x``-hex, computed locally). See the module
        docstring."""
        tx_hash = "0x" + keccak(raw).hex()
        body = _body("eth_sendRawTransaction", ["0x" + raw.hex()], next(self._ids))
        method = "eth_sendRawTransaction"
        errors: list[RpcError] = []
        ambiguous = False
        for st in self._candidates():
            started = time.perf_counter()
            try:
                answer = await self._post(st, body, method, timeout)
                if not isinstance(answer, dict):
                    raise RpcTransportError(
                        "answer is not a JSON object",
                        endpoint=st.endpoint.name,
                        method=method,
                        delivered=True,
                    )
            except RpcTransportError as exc:
                self._failed(st, exc)
                errors.append(exc)
                if not exc.delivered:
                    continue  # never reached a server: nothing to check
                ambiguous = True
                known = await self.transaction_known(tx_hash)
                if known:
                    log.info(
                        "send to %s failed (%s) but %s is known: accepted",
                        st.endpoint.name,
                        exc.reason,
                        tx_hash,
                    )
                    return tx_hash
                log.warning(
                    "send to %s failed (%s); %s not found: sending to the next endpoint",
                    st.endpoint.name,
                    exc.reason,
                    tx_hash,
                )
                continue
            err = answer.get("error")
            if err is None:
                self._ok(st, started)
                result = answer.get("result")
                if isinstance(result, str) and result.lower() != tx_hash:
                    log.warning(
                        "%s answered hash %s for a transaction hashing to %s",
                        st.endpoint.name,
                        result,
                        tx_hash,
                    )
                return tx_hash
            rpc_err = _rpc_error(err, st.endpoint.name, method)
            if _is_trouble(rpc_err):
                self._failed(st, rpc_err)
                errors.append(rpc_err)
                continue
            self._ok(st, started)
            kind = classify_send_error(rpc_err.reason)
            if kind is SendErrorKind.ALREADY_KNOWN:
                return tx_hash
            if kind is SendErrorKind.NONCE_TOO_LOW and await self.transaction_known(tx_hash):
                return tx_hash  # these very bytes got in earlier (an earlier attempt) and were already mined
            raise SendRejected(rpc_err, kind, tx_hash)
        if ambiguous:
            raise SendOutcomeUnknown(tx_hash, "; ".join(e.message for e in errors))
        raise AllEndpointsFailed(method, errors)

    async def transaction_known(self, tx_hash: str) -> bool | None:
        """Whether any endpoint knows ``tx_hash`` (pending or mined); None when no endpoint could tell."""
        try:
            found = await self.call("eth_getTransactionByHash", [tx_hash])
        except RpcError:
            return None
        return found is not None

    # ------------------------------------------------------------------ helpers (thin, allocation-light)
    async def block_number(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def get_block(self, tag: int | str = "latest", full: bool = False) -> dict[str, Any] | None:
        return await self.call("eth_getBlockByNumber", [_tag(tag), full])

    async def latest_head(self) -> Head:
        block = await self.get_block("latest")
        if block is None:
            raise RpcError("no latest block", endpoint="*", method="eth_getBlockByNumber")
        return Head.from_json(block, "call")

    async def get_transaction_count(self, address: str, tag: int | str = "latest") -> int:
        return int(await self.call("eth_getTransactionCount", [address, _tag(tag)]), 16)

    async def get_balance(self, address: str, tag: int | str = "latest") -> int:
        return int(await self.call("eth_getBalance", [address, _tag(tag)]), 16)

    async def get_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return await self.call("eth_getTransactionReceipt", [tx_hash])

    async def get_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return await self.call("eth_getTransactionByHash", [tx_hash])

    async def fee_history(
        self, blocks: int, newest: int | str = "latest", percentiles: Sequence[float] = ()
    ) -> dict:
        return await self.call("eth_feeHistory", [hex(blocks), _tag(newest), list(percentiles)])

    async def eth_call(self, tx: Mapping[str, Any], tag: int | str = "latest") -> bytes:
        return bytes.fromhex((await self.call("eth_call", [_json_tx(tx), _tag(tag)]))[2:])

    async def estimate_gas(self, tx: Mapping[str, Any], tag: int | str = "latest") -> int:
        return int(await self.call("eth_estimateGas", [_json_tx(tx), _tag(tag)]), 16)

    def heads(self, **kwargs: Any) -> "HeadStream":
        """New heads (websocket subscription, HTTP polling fallback).

        Use as ``async with rpc.heads() as heads: async for head in heads: ...``."""
        return HeadStream(self, **kwargs)


# ------------------------------------------------------------------ heads
class HeadStream:
    """New block headers from ``eth_subscribe("newHeads")``, falling back to polling ``eth_getBlockByNumber``.

    Iterating yields heads in increasing block order (a reorg at the same height yields the new hash). With
    ``coalesce`` (default) a slow consumer gets the newest head and skips older ones (counted in ``skipped``).
    ``mode`` is ``"ws"`` or ``"poll"``.
    """

    def __init__(
        self,
        client: RpcClient,
        *,
        use_ws: bool = True,
        poll_interval: float = 0.5,
        ws_idle_timeout: float = 30.0,
        ws_retry_interval: float = 10.0,
        coalesce: bool = True,
    ) -> None:
        self.client = client
        self.use_ws = use_ws
        self.poll_interval = poll_interval
        self.ws_idle_timeout = ws_idle_timeout
        self.ws_retry_interval = ws_retry_interval
        self.coalesce = coalesce
        self.mode = "starting"
        self.skipped = 0
        self.ws_failures = 0
        self._queue: asyncio.Queue[Head] = asyncio.Queue(maxsize=256)
        self._task: asyncio.Task[None] | None = None
        self._last: tuple[int, str] | None = None
        self._subscribed = asyncio.Event()

    async def __aenter__(self) -> "HeadStream":
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="flasharb-heads")

    async def close(self) -> None:
        await _cancel(self._task)
        self._task = None

    async def wait_subscribed(self, timeout: float = 5.0) -> bool:
        """Waits until a websocket subscription is live (True) or ``timeout`` passes (False)."""
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def __aiter__(self) -> AsyncIterator[Head]:
        return self

    async def __anext__(self) -> Head:
        if self._task is None:
            self.start()
        if self._task is not None and self._task.done() and self._queue.empty():
            exc = self._task.exception()
            raise exc if exc else StopAsyncIteration
        head = await self._queue.get()
        if self.coalesce:
            while not self._queue.empty():
                head = self._queue.get_nowait()
                self.skipped += 1
        return head

    def _emit(self, head: Head) -> None:
        last = self._last
        if last is not None and (head.number < last[0] or (head.number == last[0] and head.hash == last[1])):
            return
        self._last = (head.number, head.hash)
        if self._queue.full():
            self._queue.get_nowait()
            self.skipped += 1
        self._queue.put_nowait(head)

    async def _run(self) -> None:
        next_ws_try = 0.0
        while True:
            ws_states = [s for s in self.client._candidates() if s.endpoint.ws_url] if self.use_ws else []
            if ws_states and time.monotonic() >= next_ws_try:
                for st in ws_states:
                    try:
                        await self._run_ws(st)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # any socket trouble: fall back to polling
                        self.ws_failures += 1
                        self._subscribed.clear()
                        log.warning(
                            "newHeads over websocket on %s stopped (%s); polling over HTTP",
                            st.endpoint.name,
                            _describe(exc),
                        )
                next_ws_try = time.monotonic() + self.ws_retry_interval
            self.mode = "poll"
            await self._poll_once()
            await asyncio.sleep(self.poll_interval)

    async def _run_ws(self, st: _State) -> None:
        ep = st.endpoint
        assert ep.ws_url is not None
        async with self.client.session.ws_connect(
            ep.ws_url,
            headers=dict(ep.headers) or None,
            timeout=aiohttp.ClientWSTimeout(ws_close=1.0),
            autoping=True,
        ) as ws:
            await ws.send_str(_body("eth_subscribe", ["newHeads"], 1).decode())
            msg = await ws.receive(timeout=ep.timeout)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"websocket closed before subscribing ({msg.type.name})")
            answer = json.loads(msg.data)
            if "error" in answer or not isinstance(answer.get("result"), str):
                raise ConnectionError(f"eth_subscribe refused: {answer.get('error')}")
            self.mode = "ws"
            self._subscribed.set()
            log.info("subscribed to newHeads on %s", ep.name)
            source = f"ws:{ep.name}"
            while True:
                msg = await ws.receive(timeout=self.ws_idle_timeout)
                received = time.perf_counter()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"websocket {msg.type.name}")
                data = json.loads(msg.data)
                block = (data.get("params") or {}).get("result")
                if not isinstance(block, dict):
                    continue
                head = Head.from_json(block, source, received)
                self.client._observe_head(st, head.number)
                self._emit(head)

    async def _poll_once(self) -> None:
        try:
            block = await self.client.call("eth_getBlockByNumber", ["latest", False])
        except RpcError as exc:
            log.warning("polling for the latest block failed: %s", exc)
            return
        if isinstance(block, dict):
            self._emit(Head.from_json(block, "poll"))


# ------------------------------------------------------------------ helpers
def _body(method: str, params: Sequence[Any], id_: int) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": id_, "method": method, "params": list(params)}, separators=(",", ":")
    ).encode()


def _has_jsonrpc_shape(answer: Any) -> bool:
    if isinstance(answer, list):
        return all(isinstance(a, dict) and "jsonrpc" in a for a in answer)
    return "jsonrpc" in answer and ("error" in answer or "result" in answer)


def _rpc_error(err: Any, endpoint: str, method: str) -> RpcError:
    if isinstance(err, dict):
        code = err.get("code")
        return RpcError(
            str(err.get("message", "error")),
            endpoint=endpoint,
            method=method,
            code=code if isinstance(code, int) else None,
            data=err.get("data"),
        )
    return RpcError(str(err), endpoint=endpoint, method=method)


def _is_trouble(err: RpcError) -> bool:
    if err.code in _TROUBLE_CODES:
        return True
    text = err.reason.lower()
    return any(t in text for t in _TROUBLE_TEXT)


def _head_kind(method: str, params: Sequence[Any]) -> str | None:
    if method == "eth_blockNumber":
        return "number"
    if method == "eth_getBlockByNumber" and params and params[0] == "latest":
        return "block"
    return None


def _head_number(kind: str, result: Any) -> int | None:
    try:
        if kind == "number":
            return int(result, 16)
        if isinstance(result, dict):
            return int(result["number"], 16)
    except (TypeError, ValueError, KeyError):
        return None
    return None


def _tag(tag: int | str) -> str:
    return hex(tag) if isinstance(tag, int) else tag


def _json_tx(tx: Mapping[str, Any]) -> dict[str, Any]:
    """A call object with ints as hex quantities and bytes as hex data."""
    out: dict[str, Any] = {}
    for k, v in tx.items():
        if v is None:
            continue
        if isinstance(v, bool):
            out[k] = v
        elif isinstance(v, int):
            out[k] = hex(v)
        elif isinstance(v, (bytes, bytearray)):
            out[k] = "0x" + bytes(v).hex()
        else:
            out[k] = v
    return out


def _describe(exc: BaseException) -> str:
    """An exception's class name, plus its text when it cannot hold a URL."""
    if isinstance(exc, (RpcError, ConnectionError, ValueError)) and not isinstance(exc, aiohttp.ClientError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def endpoints_or_default(urls: Iterable[str] | None, fallback: str | None) -> list[Endpoint]:
    """Endpoints from a list of specs, else one endpoint from ``fallback`` (e.g. ``Settings.rpc_url``)."""
    items = list(urls or ())
    if items:
        return parse_endpoints(items)
    if fallback:
        return parse_endpoints([fallback])
    raise ConfigError("no RPC endpoint configured (FLASHARB_RPC_URLS or --rpc-url)")


async def _cancel(task: asyncio.Task | None) -> None:
    """Cancels a background task and waits for it to finish, whatever it ended with."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
