"""Where a signed transaction goes: one small interface, ``Submitter.submit(raw_tx) -> tx_hash``.

- ``PublicMempool``: ``eth_sendRawTransaction`` through the ``RpcClient`` (failover, checked by hash).
- ``PlainPrivateRpc``: ``eth_sendRawTransaction`` to one separate URL (a private RPC that does not gossip the
  transaction to the public mempool).
- ``BloxrouteSubmitter``: bloXroute's Cloud API, JSON-RPC method ``polygon_private_tx`` with params
  ``{"transaction": "<raw hex without 0x>"}`` and the account's ``Authorization`` header value, POSTed to
  ``https://api.blxrbdn.com`` (bloXroute's Polygon "private transactions" documentation). The answer's
  ``result`` is taken as either a hash string or an object with ``txHash``/``tx_hash``; the hash returned is
  always keccak256 of the raw bytes, computed locally (a different hash in the answer is logged).

Polygon has no block builders, so there are no bundles here (FastLane's Atlas is a later addition).

Every submitter fails the same way, so the sender treats them alike:

- ``SendRejected`` (with a ``SendErrorKind``): the service refused the transaction (a node's validation
  answer);
- ``RpcTransportError`` with ``delivered=False`` or ``SubmitError``: not accepted (cannot connect, HTTP 4xx
  such as a bad Authorization): the nonce may be released;
- ``SendOutcomeUnknown``: it may have been accepted (timeout, dropped connection, HTTP 5xx). A private relay's
  pending transactions are invisible to public nodes, so nothing is resent: the sender tracks the hash and
  replaces or cancels it if it is never mined.

A private service's URL and headers carry credentials: they are never part of a ``repr`` or an error message.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import aiohttp
from eth_utils import keccak

from flasharb.exceptions import ConfigError
from flasharb.tx.errors import (
    RpcError,
    RpcTransportError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    SubmitError,
    classify_send_error,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flasharb.tx.rpc import RpcClient

log = logging.getLogger("flasharb.tx.submit")

BLOXROUTE_CLOUD_API_URL = "https://api.blxrbdn.com"
BLOXROUTE_METHOD = "polygon_private_tx"


@runtime_checkable
class Submitter(Protocol):
    """Sends signed transaction bytes somewhere; returns the ``0x`` transaction hash."""

    name: str

    async def submit(self, raw_tx: bytes) -> str: ...


def tx_hash_of(raw_tx: bytes) -> str:
    return "0x" + keccak(raw_tx).hex()


class PublicMempool:
    """The public mempool through the bot's RPC endpoints."""

    def __init__(self, rpc: RpcClient, *, name: str = "public") -> None:
        self.rpc = rpc
        self.name = name

    async def submit(self, raw_tx: bytes) -> str:
        return await self.rpc.send_raw_transaction(raw_tx)

    async def close(self) -> None:  # the RpcClient is owned by the caller
        return None

    def __repr__(self) -> str:
        return f"<PublicMempool via {', '.join(e.name for e in self.rpc.endpoints)}>"


class _HttpJsonRpcSubmitter:
    """One JSON-RPC method on one HTTP URL, with the error mapping described in the module docstring."""

    method: str = ""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 2.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"submitter {name!r}: expected an http(s):// URL")
        self.name = name
        self._url = url
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self._ids = itertools.count(1)

    def _params(self, raw_tx: bytes) -> Any:
        raise NotImplementedError

    def _result_hash(self, result: Any) -> str | None:
        if isinstance(result, str):
            return result
        if isinstance(result, dict):
            value = result.get("txHash", result.get("tx_hash", result.get("hash")))
            return value if isinstance(value, str) else None
        return None

    async def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=16, keepalive_timeout=75)
            )
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def submit(self, raw_tx: bytes) -> str:
        tx_hash = tx_hash_of(raw_tx)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": self.method, "params": self._params(raw_tx)},
            separators=(",", ":"),
        ).encode()
        session = await self._ensure_session()
        name, method = self.name, self.method
        try:
            async with session.post(
                self._url, data=body, headers=self._headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp:
                status = resp.status
                raw = await resp.read()
        except aiohttp.ClientConnectorError as exc:
            raise RpcTransportError(
                f"cannot connect ({type(exc).__name__})", endpoint=name, method=method, delivered=False
            ) from None
        except asyncio.TimeoutError:
            raise SendOutcomeUnknown(tx_hash, f"{name}: no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise SendOutcomeUnknown(tx_hash, f"{name}: connection failed ({type(exc).__name__})") from None
        if status >= 500:
            raise SendOutcomeUnknown(tx_hash, f"{name}: HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if status != 200:
                raise SubmitError(f"HTTP {status}", submitter=name, status=status)
            raise SendOutcomeUnknown(tx_hash, f"{name}: answer is not a JSON object")
        err = answer.get("error")
        if err is not None:
            message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
            code = err.get("code") if isinstance(err, dict) else None
            rpc_err = RpcError(
                message,
                endpoint=name,
                method=method,
                code=code if isinstance(code, int) else None,
                data=err.get("data") if isinstance(err, dict) else None,
            )
            kind = classify_send_error(message)
            if kind is SendErrorKind.ALREADY_KNOWN:
                return tx_hash
            if status != 200 and kind is SendErrorKind.OTHER:
                raise SubmitError(f"HTTP {status}: {message}", submitter=name, status=status)
            raise SendRejected(rpc_err, kind, tx_hash)
        if status != 200:
            raise SubmitError(f"HTTP {status}", submitter=name, status=status)
        answered = self._result_hash(answer.get("result"))
        if answered is None:
            raise SendOutcomeUnknown(tx_hash, f"{name}: answer has no transaction hash")
        if answered.lower().removeprefix("0x") != tx_hash[2:]:
            log.warning("%s answered hash %s for a transaction hashing to %s", name, answered, tx_hash)
        return tx_hash

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class PlainPrivateRpc(_HttpJsonRpcSubmitter):
    """``eth_sendRawTransaction`` to a separate (private) URL."""

    method = "eth_sendRawTransaction"

    def __init__(self, url: str, *, name: str = "private-rpc", **kwargs: Any) -> None:
        super().__init__(url, name=name, **kwargs)

    def _params(self, raw_tx: bytes) -> Any:
        return ["0x" + raw_tx.hex()]


class BloxrouteSubmitter(_HttpJsonRpcSubmitter):
    """bloXroute's ``polygon_private_tx`` (Cloud API). ``auth_header`` is the account's Authorization
    header."""

    method = BLOXROUTE_METHOD

    def __init__(
        self,
        auth_header: SecretStr | str,
        *,
        url: str = BLOXROUTE_CLOUD_API_URL,
        name: str = "bloxroute",
        backrunme_reward_address: str | None = None,
        **kwargs: Any,
    ) -> None:
        auth = (
            auth_header.get_secret_value() if hasattr(auth_header, "get_secret_value") else str(auth_header)
        )
        if not auth.strip():
            raise ConfigError("bloXroute submitter: the Authorization header is empty")
        headers = {**kwargs.pop("headers", {}), "Authorization": auth.strip()}
        super().__init__(url, name=name, headers=headers, **kwargs)
        self.backrunme_reward_address = backrunme_reward_address

    def _params(self, raw_tx: bytes) -> Any:
        params: dict[str, Any] = {"transaction": raw_tx.hex()}
        if self.backrunme_reward_address:
            params["backrunme_reward_address"] = self.backrunme_reward_address
        return params
