"""Build, sign, send and track one transaction; replace it when it is stuck; read its result.

Hot path (``TxSender.send``), with no network I/O before the submission itself: nonce from memory (persisted
to the nonce store) -> EIP-1559 dict (gas limit = simulated gas * margin, fees from the oracle, cached chain
id) -> eth-account signature -> hash recorded -> ``Submitter.submit``. Each stage's time is kept in
``SentTx.stages_ms``.

What a failed send does to its nonce:

- the node says "nonce too low" / another transaction holds the nonce ("replacement underpriced" on a fresh
  send): another sender used it; the manager resyncs and the transaction is signed again with a fresh nonce;
- any other refusal, or a failure that provably never reached a server: the nonce is released (reused next);
- anything that may have reached a server (timeout, dropped connection, 5xx, cancellation): the nonce stays
  taken and the result carries ``outcome_unknown``; ``wait`` tracks the hash and replaces it if it is stuck.

``wait`` polls the receipts of every version of the transaction (original and replacements) in one batched
request, replaces it after ``replace_after`` seconds with fees bumped by ``replacement_bump_bps`` (12.5% by
default: geth and bor need 10%, some nodes 12.5%), never above ``fee_cap`` (the risk layer's max gas price),
optionally as a cancel (a 0-value transfer to self). A mined receipt is turned into a ``TxResult``: gas and
fee paid, the executor's ``RunExecuted`` (realized profit and premium) on success, or the decoded revert
(custom error, ``Error(string)``, ``Panic``) on failure, found by replaying the call at the parent block (or
``debug_traceTransaction``).

Dry run: everything but the submission (the nonce is only peeked, nothing is persisted or sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from eth_utils import keccak, to_checksum_address

from flasharb.tx.decode import DecodedRevert, RevertDecoder, RunResult, decode_run_executed
from flasharb.tx.errors import (
    NonceTaken,
    ReplacementError,
    RpcError,
    RpcTransportError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    SubmitError,
    TxError,
)
from flasharb.tx.fees import FeeOracle, Fees
from flasharb.tx.submit import PublicMempool, Submitter

if TYPE_CHECKING:
    from flasharb.tx.nonce import NonceManager
    from flasharb.tx.rpc import RpcClient
    from flasharb.tx.signer import Signer

log = logging.getLogger("flasharb.tx.sender")

TRANSFER_GAS = 21_000
DEFAULT_GAS_MARGIN_BPS = 12_000  # gas limit = simulated gas * 1.2
DEFAULT_REPLACEMENT_BUMP_BPS = 1_250  # +12.5%

TxStatus = Literal["mined", "reverted", "dropped", "timeout", "dry_run"]


@dataclass(slots=True, kw_only=True)
class SentTx:
    """A transaction handed to a submitter (or prepared in dry run). Replacements update it in place."""

    nonce: int
    to: str
    data: bytes = field(repr=False)
    value: int
    gas: int
    fees: Fees
    tx_hash: str
    hashes: list[str]  # every version, the original first
    raw: bytes = field(repr=False)
    submitter: str
    submitted_at: float  # time.perf_counter()
    dry_run: bool = False
    outcome_unknown: bool = False
    replacements: int = 0
    cancelled: bool = False
    cancel_hashes: list[str] = field(default_factory=list)
    stages_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TxResult:
    """What became of a ``SentTx``."""

    status: TxStatus
    sent: SentTx
    tx_hash: str | None = None  # the version that was mined
    receipt: dict[str, Any] | None = field(default=None, repr=False)
    block_number: int | None = None
    gas_used: int | None = None
    effective_gas_price: int | None = None
    fee_wei: int | None = None
    run: RunResult | None = None
    revert: DecodedRevert | None = None
    cancelled: bool = False  # the mined version was a cancel

    @property
    def profit(self) -> int | None:
        return self.run.profit if self.run else None

    @property
    def premium(self) -> int | None:
        return self.run.premium if self.run else None


class TxSender:
    """Sends transactions for one account."""

    def __init__(
        self,
        rpc: RpcClient,
        signer: Signer,
        nonces: NonceManager,
        *,
        fees: FeeOracle | None = None,
        submitter: Submitter | None = None,
        chain_id: int | None = None,
        gas_margin_bps: int = DEFAULT_GAS_MARGIN_BPS,
        replacement_bump_bps: int = DEFAULT_REPLACEMENT_BUMP_BPS,
        dry_run: bool = False,
        decoder: RevertDecoder | None = None,
        executor: str | None = None,
        receipt_poll_interval: float = 0.25,
        max_send_attempts: int = 3,
    ) -> None:
        if gas_margin_bps < 10_000:
            raise ValueError(
                "gas_margin_bps must be at least 10 000 (a margin below 1x would run out of gas)"
            )
        if replacement_bump_bps < 1_000:
            raise ValueError("replacement_bump_bps must be at least 1 000 (nodes refuse bumps under 10%)")
        self.rpc = rpc
        self.signer = signer
        self.nonces = nonces
        self.fees = fees
        self.submitter: Submitter = submitter or PublicMempool(rpc)
        self.chain_id = rpc.chain_id if chain_id is None else chain_id
        if nonces.address != signer.address:
            raise ValueError("the nonce manager and the signer are for different accounts")
        self.address = signer.address
        self.gas_margin_bps = gas_margin_bps
        self.replacement_bump_bps = replacement_bump_bps
        self.dry_run = dry_run
        self.decoder = decoder or RevertDecoder.for_executor()
        self.executor = to_checksum_address(executor) if executor else None
        self.receipt_poll_interval = receipt_poll_interval
        self.max_send_attempts = max_send_attempts
        self._checksummed: dict[str, str] = {}

    # ------------------------------------------------------------------ building
    def gas_limit(self, simulated_gas: int) -> int:
        """``simulated_gas`` times the margin, rounded up."""
        return -(-simulated_gas * self.gas_margin_bps // 10_000)

    def _to(self, address: str) -> str:
        cached = self._checksummed.get(address)
        if cached is None:
            cached = self._checksummed[address] = to_checksum_address(address)
        return cached

    def build(
        self, to: str, data: bytes, *, gas: int, fees: Fees, nonce: int, value: int = 0
    ) -> dict[str, Any]:
        """The EIP-1559 transaction dict eth-account signs."""
        return {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": self._to(to),
            "value": value,
            "data": data,
            "gas": gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }

    async def _current_fees(self, fees: Fees | None) -> Fees:
        if fees is not None:
            return fees
        if self.fees is None:
            raise TxError("no fees given and no FeeOracle configured")
        return self.fees.current or await self.fees.refresh()

    # ------------------------------------------------------------------ sending
    async def send(
        self,
        to: str,
        data: bytes,
        *,
        simulated_gas: int | None = None,
        gas: int | None = None,
        fees: Fees | None = None,
        value: int = 0,
    ) -> SentTx:
        """Signs and submits a call; ``gas`` is the exact limit, else ``simulated_gas`` plus the margin."""
        if gas is None:
            if simulated_gas is None:
                raise ValueError("give simulated_gas (from the simulation) or an exact gas limit")
            gas = self.gas_limit(simulated_gas)
        fees = await self._current_fees(fees)
        if self.dry_run:
            return self._dry_run(to, data, gas=gas, fees=fees, value=value)
        last: Exception | None = None
        for _ in range(self.max_send_attempts):
            t0 = time.perf_counter()
            nonce = self.nonces.reserve()
            t1 = time.perf_counter()
            tx = self.build(to, data, gas=gas, fees=fees, nonce=nonce, value=value)
            try:
                signed = self.signer.sign_transaction(tx)
            except Exception:
                self.nonces.release(nonce)
                raise
            t2 = time.perf_counter()
            try:
                self.nonces.record_signed(nonce, signed.hash)
            except Exception:
                self.nonces.release(nonce)  # not recorded, so never sent
                raise
            t3 = time.perf_counter()
            sent = SentTx(
                nonce=nonce,
                to=tx["to"],
                data=data,
                value=value,
                gas=gas,
                fees=fees,
                tx_hash=signed.hash,
                hashes=[signed.hash],
                raw=signed.raw,
                submitter=self.submitter.name,
                submitted_at=t3,
            )
            try:
                await self._submit(sent, signed.raw, fresh=True)
            except NonceTaken as exc:
                last = exc
                continue
            t4 = time.perf_counter()
            sent.stages_ms = {
                "nonce": (t1 - t0) * 1e3,
                "sign": (t2 - t1) * 1e3,
                "record": (t3 - t2) * 1e3,
                "submit": (t4 - t3) * 1e3,
                "total": (t4 - t0) * 1e3,
            }
            return sent
        assert last is not None
        raise last

    def _dry_run(self, to: str, data: bytes, *, gas: int, fees: Fees, value: int) -> SentTx:
        t0 = time.perf_counter()
        nonce = self.nonces.peek()
        tx = self.build(to, data, gas=gas, fees=fees, nonce=nonce, value=value)
        signed = self.signer.sign_transaction(tx)
        t1 = time.perf_counter()
        log.info(
            "dry run: would send %s (nonce %d, gas %d, max fee %d) to %s",
            signed.hash,
            nonce,
            gas,
            fees.max_fee_per_gas,
            tx["to"],
        )
        return SentTx(
            nonce=nonce,
            to=tx["to"],
            data=data,
            value=value,
            gas=gas,
            fees=fees,
            tx_hash=signed.hash,
            hashes=[signed.hash],
            raw=signed.raw,
            submitter="dry-run",
            submitted_at=t1,
            dry_run=True,
            stages_ms={"sign": (t1 - t0) * 1e3, "total": (t1 - t0) * 1e3},
        )

    async def _submit(self, sent: SentTx, raw: bytes, *, fresh: bool) -> None:
        """Submits one version of ``sent``; applies the nonce rules of the module docstring."""
        nonce = sent.nonce
        tx_hash = sent.tx_hash if fresh else "0x" + keccak(raw).hex()
        try:
            await self.submitter.submit(raw)
        except SendOutcomeUnknown as exc:
            log.warning("send of %s (nonce %d): %s; tracking it as pending", tx_hash, nonce, exc)
            self.nonces.mark_sent(nonce, tx_hash)
            sent.outcome_unknown = True
            return
        except SendRejected as exc:
            if not fresh:
                raise
            if exc.kind is SendErrorKind.NONCE_TOO_LOW:
                log.warning(
                    "nonce %d was used by another sender (%s says nonce too low): resyncing",
                    nonce,
                    exc.endpoint,
                )
                self.nonces.confirm(nonce)
                await self.nonces.sync()
                raise NonceTaken(nonce, f"{exc.endpoint} says nonce too low") from None
            if exc.kind is SendErrorKind.REPLACEMENT_UNDERPRICED:
                log.warning(
                    "nonce %d is held by another sender's pending transaction (%s): resyncing",
                    nonce,
                    exc.endpoint,
                )
                self.nonces.mark_foreign(nonce)
                await self.nonces.sync()
                raise NonceTaken(
                    nonce, f"{exc.endpoint}: another transaction with this nonce is pending"
                ) from None
            self.nonces.release(nonce)
            raise
        except (SubmitError, RpcTransportError) as exc:
            definitive = isinstance(exc, SubmitError) or not exc.delivered
            if fresh and definitive:
                self.nonces.release(nonce)
            elif fresh:
                self.nonces.mark_sent(nonce, tx_hash)
            raise
        except RpcError as exc:  # AllEndpointsFailed: accepted nowhere (else it is SendOutcomeUnknown)
            if fresh and not getattr(exc, "delivered", True):
                self.nonces.release(nonce)
            elif fresh:
                self.nonces.mark_sent(nonce, tx_hash)
            raise
        except BaseException:
            # Cancelled or unexpected: the bytes may be out. Keep the nonce: ``nonces.resync()`` (or the
            # restart's reconciliation) checks it by hash, and ``recover()`` fills it if it is unknown.
            if fresh:
                self.nonces.mark_sent(nonce, tx_hash)
            raise
        self.nonces.mark_sent(nonce, tx_hash)

    # ------------------------------------------------------------------ replacing
    async def replace(
        self, sent: SentTx, *, fees: Fees | None = None, cancel: bool = False, fee_cap: int | None = None
    ) -> SentTx:
        """Signs the same nonce again with fees bumped by at least ``replacement_bump_bps`` (and at least the
        oracle's current fees / ``fees``); as a 0-value transfer to self when ``cancel``. Raises
        ``ReplacementError`` when the bump would exceed ``fee_cap`` or the node refuses two bumps."""
        if sent.dry_run:
            raise ReplacementError("a dry-run transaction cannot be replaced")
        new = sent.fees.bumped(self.replacement_bump_bps)
        if self.fees is not None and self.fees.current is not None:
            new = new.at_least(self.fees.current)
        if fees is not None:
            new = new.at_least(fees)
        to, data, value, gas = (
            (self.address, b"", 0, TRANSFER_GAS) if cancel else (sent.to, sent.data, sent.value, sent.gas)
        )
        for attempt in range(2):
            if fee_cap is not None and new.max_fee_per_gas > fee_cap:
                raise ReplacementError(
                    f"replacing nonce {sent.nonce} needs max fee {new.max_fee_per_gas} wei, "
                    f"above the cap {fee_cap}"
                )
            signed = self.signer.sign_transaction(
                self.build(to, data, gas=gas, fees=new, nonce=sent.nonce, value=value)
            )
            self.nonces.record_signed(sent.nonce, signed.hash)
            try:
                await self._submit(sent, signed.raw, fresh=False)
            except SendRejected as exc:
                if exc.kind is SendErrorKind.NONCE_TOO_LOW:
                    log.info("nonce %d was mined before its replacement went out", sent.nonce)
                    return sent
                if exc.kind is SendErrorKind.REPLACEMENT_UNDERPRICED and attempt == 0:
                    new = new.bumped(self.replacement_bump_bps)
                    continue
                raise ReplacementError(f"replacement of nonce {sent.nonce} refused: {exc}") from None
            except (SubmitError, RpcError) as exc:
                raise ReplacementError(f"replacement of nonce {sent.nonce} not sent: {exc}") from None
            sent.hashes.append(signed.hash)
            if cancel:
                sent.cancel_hashes.append(signed.hash)
                sent.cancelled = True
            sent.tx_hash, sent.raw, sent.fees = signed.hash, signed.raw, new
            sent.replacements += 1
            sent.submitted_at = time.perf_counter()
            log.info(
                "nonce %d replaced by %s (%s, max fee %d, tip %d)",
                sent.nonce,
                signed.hash,
                "cancel" if cancel else "same call",
                new.max_fee_per_gas,
                new.max_priority_fee_per_gas,
            )
            return sent
        raise ReplacementError(f"replacement of nonce {sent.nonce} refused twice")  # pragma: no cover

    async def cancel(self, sent: SentTx, *, fee_cap: int | None = None) -> SentTx:
        return await self.replace(sent, cancel=True, fee_cap=fee_cap)

    async def recover(self, *, fee_cap: int | None = None) -> list[SentTx]:
        """After a restart: fills every orphan nonce (signed before the restart, now unknown to the node) and
        every free gap below an occupied nonce with a cancel, so no later transaction waits on a hole."""
        if self.dry_run:
            return []
        base = await self._current_fees(None)
        out: list[SentTx] = []
        for rec in self.nonces.orphans():
            placeholder = SentTx(
                nonce=rec.nonce,
                to=self.address,
                data=b"",
                value=0,
                gas=TRANSFER_GAS,
                fees=base,
                tx_hash=rec.hashes[-1] if rec.hashes else "",
                hashes=list(rec.hashes),
                raw=b"",
                submitter=self.submitter.name,
                submitted_at=time.perf_counter(),
            )
            try:
                out.append(await self.replace(placeholder, cancel=True, fee_cap=fee_cap))
            except ReplacementError as exc:
                log.warning("could not fill orphan nonce %d: %s", rec.nonce, exc)
        occupied = set(self.nonces.records())
        while self.nonces.free and occupied and self.nonces.free[0] < max(occupied):
            out.append(await self.send(self.address, b"", gas=TRANSFER_GAS, fees=base))
        return out

    # ------------------------------------------------------------------ tracking
    async def wait(
        self,
        sent: SentTx,
        *,
        timeout: float = 120.0,
        replace_after: float | None = None,
        max_replacements: int = 3,
        cancel_on_replace: bool = False,
        fee_cap: int | None = None,
        poll_interval: float | None = None,
        dropped_after: float = 3.0,
    ) -> TxResult:
        """Until a version of ``sent`` is mined (``mined``/``reverted``), another transaction takes its nonce
        (``dropped``: the account's mined count passed the nonce and, ``dropped_after`` seconds later, still
        no version has a receipt -- load-balanced endpoints can show the count before the receipt), or
        ``timeout`` passes (``timeout``; the nonce stays pending: cancel it or wait again)."""
        if sent.dry_run:
            return TxResult(status="dry_run", sent=sent, tx_hash=sent.tx_hash)
        interval = self.receipt_poll_interval if poll_interval is None else poll_interval
        deadline = time.monotonic() + timeout
        last_push = time.monotonic()
        consumed_since: float | None = None
        replacing = replace_after is not None
        while True:
            hashes = list(sent.hashes)
            calls: list[tuple[str, list[Any]]] = [("eth_getTransactionReceipt", [h]) for h in hashes]
            calls.append(("eth_getTransactionCount", [self.address, "latest"]))
            try:
                answers = await self.rpc.batch(calls)
            except RpcError as exc:
                log.warning("receipt poll for nonce %d failed: %s", sent.nonce, exc)
                answers = [None] * len(calls)
            for h, receipt in zip(hashes, answers):
                if isinstance(receipt, dict) and receipt.get("blockNumber"):
                    self.nonces.confirm(sent.nonce)
                    return await self._result(sent, h, receipt)
            count = answers[-1]
            if isinstance(count, str):
                latest = int(count, 16)
                if latest > sent.nonce:
                    if consumed_since is None:
                        consumed_since = time.monotonic()
                    elif time.monotonic() - consumed_since >= dropped_after:
                        self.nonces.observe_count(latest)
                        log.warning("nonce %d was taken by a transaction that is not ours", sent.nonce)
                        return TxResult(status="dropped", sent=sent)
            now = time.monotonic()
            if now >= deadline:
                return TxResult(status="timeout", sent=sent)
            if replacing and now - last_push >= replace_after and sent.replacements < max_replacements:  # type: ignore[operator]
                try:
                    await self.replace(sent, cancel=cancel_on_replace, fee_cap=fee_cap)
                except ReplacementError as exc:
                    log.warning("%s; waiting without replacing", exc)
                    replacing = False
                last_push = time.monotonic()
            await asyncio.sleep(interval)

    async def send_and_wait(self, to: str, data: bytes, **kwargs: Any) -> TxResult:
        wait_keys = {
            "timeout",
            "replace_after",
            "max_replacements",
            "cancel_on_replace",
            "fee_cap",
            "poll_interval",
            "dropped_after",
        }
        wait_args = {k: kwargs.pop(k) for k in list(kwargs) if k in wait_keys}
        sent = await self.send(to, data, **kwargs)
        return await self.wait(sent, **wait_args)

    # ------------------------------------------------------------------ results
    async def _result(self, sent: SentTx, tx_hash: str, receipt: dict[str, Any]) -> TxResult:
        gas_used = int(receipt.get("gasUsed", "0x0"), 16)
        price_hex = receipt.get("effectiveGasPrice")
        price = int(price_hex, 16) if price_hex else None
        common = dict(
            sent=sent,
            tx_hash=tx_hash,
            receipt=receipt,
            block_number=int(receipt["blockNumber"], 16),
            gas_used=gas_used,
            effective_gas_price=price,
            fee_wei=gas_used * price if price is not None else None,
            cancelled=tx_hash in sent.cancel_hashes,
        )
        if int(receipt.get("status", "0x1"), 16) == 1:
            run = decode_run_executed(receipt, self.executor) if not common["cancelled"] else None
            return TxResult(status="mined", run=run, **common)  # type: ignore[arg-type]
        revert = await self.revert_reason(sent, receipt)
        return TxResult(status="reverted", revert=revert, **common)  # type: ignore[arg-type]

    async def revert_reason(self, sent: SentTx, receipt: dict[str, Any]) -> DecodedRevert | None:
        """The revert of a mined, failed transaction: the call replayed at the parent block, else the node's
        ``debug_traceTransaction`` call tracer (exact, where the node offers it)."""
        block = int(receipt["blockNumber"], 16)
        call = {
            "from": self.address,
            "to": sent.to,
            "data": "0x" + sent.data.hex(),
            "value": hex(sent.value),
            "gas": hex(sent.gas),
        }
        try:
            await self.rpc.call("eth_call", [call, hex(max(block - 1, 0))])
        except RpcError as exc:
            decoded = self.decoder.decode_error(exc)
            if decoded is not None:
                return decoded
        try:
            trace = await self.rpc.call(
                "debug_traceTransaction", [receipt["transactionHash"], {"tracer": "callTracer"}]
            )
        except RpcError:
            return None
        output = trace.get("output") if isinstance(trace, dict) else None
        return self.decoder.decode(output) if isinstance(output, str) else None
