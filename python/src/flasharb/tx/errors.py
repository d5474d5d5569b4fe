"""Errors of the transaction layer: RPC failures, send rejections, nonce and signing trouble.

Every message names an endpoint by its configured *name* (``"alchemy"``, ``"rpc0"``), never by URL: provider
URLs carry API keys in their path or host. Transport errors from aiohttp (whose text quotes the URL) are
wrapped with their class name only and raised ``from None``.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from flasharb.exceptions import FlasharbError


class TxError(FlasharbError):
    """Root of the transaction layer's errors."""


# ------------------------------------------------------------------ RPC
class RpcError(TxError):
    """A JSON-RPC call failed. ``endpoint`` is the endpoint's name; ``code``/``data`` come from the error
    object."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        method: str,
        code: int | None = None,
        data: Any = None,
    ) -> None:
        self.endpoint = endpoint
        self.method = method
        self.code = code
        self.data = data
        self.reason = message
        suffix = f" (code {code})" if code is not None else ""
        super().__init__(f"{endpoint}: {method}: {message}{suffix}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    @property
    def revert_data(self) -> bytes | None:
        """The revert payload of an ``execution reverted`` answer (eth_call / eth_estimateGas), if any."""
        return extract_revert_data(self.data, self.reason)


class RpcTransportError(RpcError):
    """The endpoint did not give a JSON-RPC answer: connection refused/reset, timeout, HTTP 429/5xx, bad body.

    ``delivered`` is False only when the request provably never reached the server (the connection could not
    be opened); otherwise the server may have acted on it (which matters for ``eth_sendRawTransaction``).
    """

    def __init__(
        self, message: str, *, endpoint: str, method: str, delivered: bool, status: int | None = None
    ):
        self.delivered = delivered
        self.status = status
        super().__init__(message, endpoint=endpoint, method=method)


class RpcTimeout(RpcTransportError):
    """No answer within the request timeout (the request may have been delivered)."""


class AllEndpointsFailed(RpcError):
    """Every endpoint failed for one call; ``errors`` holds each endpoint's error."""

    def __init__(self, method: str, errors: list[RpcError]) -> None:
        self.errors = errors
        detail = "; ".join(e.message for e in errors) or "no endpoint configured"
        super().__init__(f"all endpoints failed: {detail}", endpoint="*", method=method)

    @property
    def delivered(self) -> bool:
        """True when at least one attempt may have reached a server (a transport failure after connecting).
        ``RpcClient.send_raw_transaction`` raises ``SendOutcomeUnknown`` instead in that case, so from a send
        this is always False: the transaction was accepted nowhere."""
        return any(isinstance(e, RpcTransportError) and e.delivered for e in self.errors)


class StaleEndpoint(RpcTransportError):
    """The endpoint answered with a head too far behind the best head seen (an RPC node that stopped
    syncing)."""

    def __init__(self, *, endpoint: str, method: str, block: int, best: int) -> None:
        self.block = block
        self.best = best
        super().__init__(
            f"stale: block {block} while the best head seen is {best}",
            endpoint=endpoint,
            method=method,
            delivered=True,
        )


class ChainMismatch(TxError):
    """Two endpoints (or an endpoint and the config) disagree on the chain id."""


# ------------------------------------------------------------------ sends
class SendErrorKind(enum.Enum):
    """What a node's rejection of ``eth_sendRawTransaction`` means for the nonce."""

    ALREADY_KNOWN = "already known"  # the node has this exact transaction: success
    NONCE_TOO_LOW = "nonce too low"  # the nonce is consumed on chain (by us or another process)
    NONCE_TOO_HIGH = "nonce too high"  # a gap below: the node will not queue it
    REPLACEMENT_UNDERPRICED = "replacement underpriced"  # another tx with this nonce is pending
    UNDERPRICED = "underpriced"  # below base fee / the node's minimum tip
    INSUFFICIENT_FUNDS = "insufficient funds"
    GAS = "gas"  # intrinsic gas too low, exceeds block gas limit
    OTHER = "other"


_SEND_PATTERNS: tuple[tuple[SendErrorKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            SendErrorKind.ALREADY_KNOWN,
            r"already known|already imported|known transaction|alreadyknown|already exists",
        ),
        (SendErrorKind.NONCE_TOO_LOW, r"nonce too low|nonce is too low|invalid nonce.*low|old nonce"),
        (SendErrorKind.NONCE_TOO_HIGH, r"nonce too high|nonce gap"),
        (
            SendErrorKind.REPLACEMENT_UNDERPRICED,
            r"replacement (transaction )?underpriced|replacement fee too low",
        ),
        (
            SendErrorKind.UNDERPRICED,
            r"transaction underpriced|less than block base fee|gas price too low|tip (is )?(too low|below)|"
            r"gas price below minimum|gas tip cap .* minimum|minimum needed",
        ),
        (SendErrorKind.INSUFFICIENT_FUNDS, r"insufficient funds"),
        (SendErrorKind.GAS, r"intrinsic gas|gas limit|out of gas"),
    )
)


def classify_send_error(message: str) -> SendErrorKind:
    """Maps a node's rejection text (geth, bor, erigon, anvil wordings) to a ``SendErrorKind``."""
    for kind, pattern in _SEND_PATTERNS:
        if pattern.search(message):
            return kind
    return SendErrorKind.OTHER


class SendRejected(RpcError):
    """A node definitively refused a raw transaction: it was not accepted (``ALREADY_KNOWN`` never raises
    this)."""

    def __init__(self, err: RpcError, kind: SendErrorKind, tx_hash: str) -> None:
        self.kind = kind
        self.tx_hash = tx_hash
        super().__init__(err.reason, endpoint=err.endpoint, method=err.method, code=err.code, data=err.data)


class SendOutcomeUnknown(TxError):
    """A send may or may not have been accepted (timeout / dropped connection and the hash could not be
    found).

    The nonce must not be released: track ``tx_hash`` and replace or cancel it if it is never mined.
    """

    def __init__(self, tx_hash: str, message: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(f"outcome of sending {tx_hash} unknown: {message}")


class SubmitError(TxError):
    """A private submission service answered with something other than a transaction hash."""

    def __init__(self, message: str, *, submitter: str, status: int | None = None) -> None:
        self.submitter = submitter
        self.status = status
        super().__init__(f"{submitter}: {message}")


# ------------------------------------------------------------------ nonces
class NonceError(TxError):
    """The nonce store cannot be used (locked by another process, unreadable, other chain/account)."""


class NonceTaken(TxError):
    """The nonce a transaction was signed with was used by another transaction (another process, or ours
    mined)."""

    def __init__(self, nonce: int, message: str) -> None:
        self.nonce = nonce
        super().__init__(f"nonce {nonce} taken: {message}")


# ------------------------------------------------------------------ sending
class SigningError(TxError):
    """A transaction could not be signed (the message never contains the key)."""


class ReplacementError(TxError):
    """A stuck transaction could not be replaced (fee cap reached, node refused every bump)."""


class FeeError(TxError):
    """Fees could not be computed (no base fee, policy inconsistent with the chain's minimum)."""


# ------------------------------------------------------------------ helpers
_HEX_IN_TEXT = re.compile(r"0x[0-9a-fA-F]{8,}")


def extract_revert_data(data: Any, message: str = "") -> bytes | None:
    """Revert bytes from a JSON-RPC error's ``data`` (a hex string, or nested ``{"data": ...}`` as some
    providers send), else from a hex blob in the message (``"execution reverted: 0x..."``)."""
    seen = 0
    while isinstance(data, dict) and seen < 4:
        data = data.get("data", data.get("result"))
        seen += 1
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    match = _HEX_IN_TEXT.search(message or "")
    if match and len(match.group()) % 2 == 0:
        return bytes.fromhex(match.group()[2:])
    return None
