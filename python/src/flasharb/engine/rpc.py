"""The few JSON-RPC reads the engine's I/O stages make, behind one small protocol.

``ChainReader`` is what the registry, the state syncer and the lender loader take; ``HttpRpc`` implements it
over one keep-alive ``requests`` session (and JSON-RPC batches). Tests can pass any object with the same
methods. The maths never sees this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import requests

from flasharb.engine.errors import RpcError
from flasharb.engine.types import BlockRef
from flasharb.http import JsonRpcClient, JsonRpcPoster

__all__ = ["ChainReader", "HttpRpc", "LogEntry", "parse_log"]


class ChainReader(Protocol):
    def call(self, method: str, params: list[Any]) -> Any: ...

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]: ...


class LogEntry(tuple):
    """(address, topics, data, block_number, block_hash, log_index), parsed from an ``eth_getLogs`` entry."""

    __slots__ = ()

    address = property(lambda self: self[0])
    topics = property(lambda self: self[1])
    data = property(lambda self: self[2])
    block_number = property(lambda self: self[3])
    block_hash = property(lambda self: self[4])
    log_index = property(lambda self: self[5])


def parse_log(raw: dict[str, Any]) -> LogEntry:
    return LogEntry(
        (
            raw["address"].lower(),
            tuple(t.lower() for t in raw["topics"]),
            bytes.fromhex(raw["data"][2:]),
            int(raw["blockNumber"], 16),
            raw["blockHash"],
            int(raw["logIndex"], 16),
        )
    )


class HttpRpc(JsonRpcClient):
    """JSON-RPC over HTTP. ``call`` raises ``RpcError`` (with the node's ``code``) on any failure."""

    def __init__(self, url: str, *, timeout: float = 30.0, session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._http = JsonRpcPoster(url, RpcError, timeout=timeout, session=session)

    @staticmethod
    def _result(method: str, answer: Any) -> Any:
        if not isinstance(answer, dict):
            raise RpcError(f"{method}: malformed answer {str(answer)[:200]}")
        if "error" in answer:
            err = answer["error"]
            code = err.get("code") if isinstance(err, dict) else None
            msg = err.get("message") if isinstance(err, dict) else err
            raise RpcError(f"{method} failed: {msg}", code=code)
        return answer.get("result")

    def call(self, method: str, params: list[Any]) -> Any:
        return self._result(method, self._post(self._request(method, params)))

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        reqs = [self._request(m, p) for m, p in calls]
        answers = self._post(reqs)
        if not isinstance(answers, list):
            raise RpcError(f"batch of {len(reqs)} answered {str(answers)[:200]}")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        return [self._result(m, by_id.get(r["id"], {"error": "no answer"})) for (m, _), r in zip(calls, reqs)]


# ---------------------------------------------------------------------------------------------- helpers
def block_number(rpc: ChainReader) -> int:
    return int(rpc.call("eth_blockNumber", []), 16)


def block_ref(rpc: ChainReader, number: int | str) -> BlockRef | None:
    """The header of block ``number`` (or a tag), or None if the node has no such block."""
    tag = hex(number) if isinstance(number, int) else number
    raw = rpc.call("eth_getBlockByNumber", [tag, False])
    if raw is None:
        return None
    return BlockRef(int(raw["number"], 16), raw["hash"], raw["parentHash"])


def block_by_hash(rpc: ChainReader, block_hash: str) -> BlockRef | None:
    raw = rpc.call("eth_getBlockByHash", [block_hash, False])
    if raw is None:
        return None
    return BlockRef(int(raw["number"], 16), raw["hash"], raw["parentHash"])


def get_logs(rpc: ChainReader, filter_: dict[str, Any]) -> list[LogEntry]:
    return [parse_log(x) for x in rpc.call("eth_getLogs", [filter_]) or []]


def eth_call(rpc: ChainReader, to: str, data: str, block: int | str = "latest") -> bytes:
    tag = hex(block) if isinstance(block, int) else block
    out = rpc.call("eth_call", [{"to": to, "data": data}, tag])
    return bytes.fromhex(out[2:])
