"""Who has a position on an Aave V3 market: borrowers discovered from the Pool's events, kept in SQLite.

``BorrowerBook.scan(from_block, to_block)`` reads the Pool's position events with ``eth_getLogs`` in block chunks
(halving the span when the node refuses a range) and returns the users each range touched (so the caller
re-reads exactly those positions), the reserves whose indexes or rates moved (``ReserveDataUpdated``), and the
users seen for the first time. Every user is remembered with two flags: ``borrowed`` (a ``Borrow`` on its
behalf) and ``supplied`` (a ``Supply`` or collateral switch: a supplier can borrow later, and its position is
what a liquidation seizes). ``sync()`` continues from the last block scanned, in the same transaction as the
users found, so a restart resumes where it stopped (as the engine's pool registry does).

Reorgs, minimally: the book keeps the hash of the last block it scanned; when that block is no longer on the
chain, the next ``sync`` rescans from ``reorg_depth`` blocks earlier. Users are only ever added, so a user seen
on an orphaned branch stays known (its position reads as empty): harmless for a liquidator.

Events read (v3.0-v3.3 signatures): Supply, Withdraw, Borrow, Repay, LiquidationCall, SwapBorrowRateMode,
RebalanceStableBorrowRate, ReserveUsedAsCollateralEnabled/Disabled, UserEModeSet, MintUnbacked, and
ReserveDataUpdated. aToken transfers move collateral without a Pool event: give the aTokens (``a_tokens``) to
read their ``BalanceTransfer`` events too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from flasharb.engine.errors import RpcError
from flasharb.engine.rpc import ChainReader, HttpRpc, LogEntry, block_number, block_ref, get_logs
from flasharb.exceptions import FlasharbError

__all__ = ["BorrowerBook", "DiscoveryError", "ScanResult", "TOPICS", "users_of"]


class DiscoveryError(FlasharbError):
    """The borrower book cannot be used (another chain's or pool's database, a corrupt file, a failed scan)."""


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


#: Event name -> topic0, from the v3.0 IPool signatures (enums are uint8).
TOPICS: dict[str, str] = {
    name: _topic(sig)
    for name, sig in {
        "Supply": "Supply(address,address,address,uint256,uint16)",
        "Withdraw": "Withdraw(address,address,address,uint256)",
        "Borrow": "Borrow(address,address,address,uint256,uint8,uint256,uint16)",
        "Repay": "Repay(address,address,address,uint256,bool)",
        "LiquidationCall": "LiquidationCall(address,address,address,uint256,uint256,address,bool)",
        "SwapBorrowRateMode": "SwapBorrowRateMode(address,address,uint8)",
        "RebalanceStableBorrowRate": "RebalanceStableBorrowRate(address,address)",
        "ReserveUsedAsCollateralEnabled": "ReserveUsedAsCollateralEnabled(address,address)",
        "ReserveUsedAsCollateralDisabled": "ReserveUsedAsCollateralDisabled(address,address)",
        "UserEModeSet": "UserEModeSet(address,uint8)",
        "MintUnbacked": "MintUnbacked(address,address,address,uint256,uint16)",
        "ReserveDataUpdated": "ReserveDataUpdated(address,uint256,uint256,uint256,uint256,uint256)",
        "BalanceTransfer": "BalanceTransfer(address,address,uint256,uint256)",  # aToken
    }.items()
}
_NAME_OF = {topic: name for name, topic in TOPICS.items()}
# Where each event names the user whose position it changed: (topic index) or ("data", word index).
_USER_TOPIC = {
    "Supply": 2,  # onBehalfOf
    "Withdraw": 2,
    "Borrow": 2,  # onBehalfOf
    "Repay": 2,
    "LiquidationCall": 3,
    "SwapBorrowRateMode": 2,
    "RebalanceStableBorrowRate": 2,
    "ReserveUsedAsCollateralEnabled": 2,
    "ReserveUsedAsCollateralDisabled": 2,
    "UserEModeSet": 1,
    "MintUnbacked": 2,  # onBehalfOf
}
_SUPPLIED = frozenset({"Supply", "ReserveUsedAsCollateralEnabled", "MintUnbacked", "BalanceTransfer"})
# Messages nodes use when a getLogs range or result set is too large (as in the engine's registry).
_RANGE_HINTS = ("range", "too many", "limit", "exceed", "10000", "response size", "timeout", "query returned")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    address TEXT PRIMARY KEY, first_block INTEGER NOT NULL, last_block INTEGER NOT NULL,
    borrowed INTEGER NOT NULL, supplied INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one scan of ``[from_block, to_block]`` saw. ``touched``: users whose position an event changed;
    ``new_users``/``new_borrowers``: users (and borrowers) the book did not know before; ``reserves_updated``:
    reserves whose indexes and rates were rewritten (``ReserveDataUpdated``). ``reorged`` when the scan started
    earlier than asked because the last scanned block was reorganised away."""

    from_block: int
    to_block: int
    touched: frozenset[str]
    new_users: frozenset[str]
    new_borrowers: frozenset[str]
    reserves_updated: frozenset[str]
    reorged: bool = False

    @property
    def reserve_event(self) -> bool:
        return bool(self.reserves_updated)


def _address_topic(topic: str) -> str:
    return to_checksum_address("0x" + topic[-40:])


def users_of(log: LogEntry) -> tuple[str, ...]:
    """The users whose position ``log`` changed (none for reserve-level and unknown events)."""
    name = _NAME_OF.get(log.topics[0]) if log.topics else None
    if name == "BalanceTransfer":
        return _address_topic(log.topics[1]), _address_topic(log.topics[2])
    if name == "LiquidationCall" and len(log.data) >= 128 and int.from_bytes(log.data[96:128]):
        # receiveAToken: the liquidator now holds collateral too.
        return _address_topic(log.topics[3]), to_checksum_address(log.data[76:96])
    index = _USER_TOPIC.get(name or "")
    if index is None:
        return ()
    return (_address_topic(log.topics[index]),)


class BorrowerBook:
    """The users of one Aave V3 Pool, persisted in SQLite (``":memory:"`` for none).

    ``rpc`` is a URL or any ``flasharb.engine.rpc.ChainReader``. ``start_block`` is where a new book starts (the
    Pool's deployment block on a live chain); ``confirmations`` keeps ``sync`` that many blocks behind the head.
    """

    def __init__(
        self,
        rpc: str | ChainReader,
        pool: str,
        path: str | Path = ":memory:",
        *,
        a_tokens: Sequence[str] = (),
        start_block: int = 0,
        chunk_blocks: int = 5_000,
        confirmations: int = 0,
        reorg_depth: int = 64,
    ) -> None:
        self.rpc: ChainReader = HttpRpc(rpc) if isinstance(rpc, str) else rpc
        self.pool = to_checksum_address(pool)
        self.a_tokens = tuple(to_checksum_address(a) for a in a_tokens)
        self.path = str(path)
        self.start_block = start_block
        self.chunk_blocks = max(1, chunk_blocks)
        self.confirmations = confirmations
        self.reorg_depth = reorg_depth
        chain_id = str(int(self.rpc.call("eth_chainId", []), 16))
        try:
            self._db = sqlite3.connect(self.path)
            # WAL without a sync per commit: a crash may lose the last scans, which the next start redoes
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise DiscoveryError(f"borrower book {self.path} is not usable: {exc}") from None
        if not meta:
            with self._db:
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", [("chain_id", chain_id), ("pool", self.pool)])
        elif (meta.get("chain_id"), meta.get("pool")) != (chain_id, self.pool):
            raise DiscoveryError(
                f"borrower book {self.path} holds pool {meta.get('pool')} on chain {meta.get('chain_id')}, "
                f"not pool {self.pool} on chain {chain_id}"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> BorrowerBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads
    @property
    def last_block(self) -> int:
        """The last block scanned (``start_block - 1`` when never)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_block'").fetchone()
        return int(row[0]) if row else self.start_block - 1

    def borrowers(self) -> tuple[str, ...]:
        """Every user that ever borrowed, in address order."""
        return tuple(r[0] for r in self._db.execute("SELECT address FROM users WHERE borrowed ORDER BY address"))

    def users(self) -> tuple[str, ...]:
        """Every user seen (borrowers and suppliers), in address order."""
        return tuple(r[0] for r in self._db.execute("SELECT address FROM users ORDER BY address"))

    def flags(self, user: str) -> tuple[bool, bool] | None:
        """(borrowed, supplied) for a known user, else None."""
        row = self._db.execute(
            "SELECT borrowed, supplied FROM users WHERE address = ?", (to_checksum_address(user),)
        ).fetchone()
        return (bool(row[0]), bool(row[1])) if row else None

    # ------------------------------------------------------------------ scans
    def sync(self, to_block: int | None = None) -> ScanResult:
        """Scans from the block after the last one scanned (earlier after a reorg) to ``to_block`` (default: the
        head less ``confirmations``)."""
        head = block_number(self.rpc) if to_block is None else to_block
        to_block = head - self.confirmations if to_block is None else to_block
        start, reorged = self.last_block + 1, False
        stored = self._db.execute("SELECT value FROM meta WHERE key = 'last_hash'").fetchone()
        if stored and start > self.start_block:
            ref = block_ref(self.rpc, start - 1)
            if ref is None or ref.hash != stored[0]:
                start, reorged = max(self.start_block, start - self.reorg_depth), True
        if to_block < start:
            return ScanResult(start, to_block, frozenset(), frozenset(), frozenset(), frozenset(), reorged)
        result = self.scan(start, to_block)
        return ScanResult(
            result.from_block,
            result.to_block,
            result.touched,
            result.new_users,
            result.new_borrowers,
            result.reserves_updated,
            reorged,
        )

    def scan(self, from_block: int, to_block: int, *, to_hash: str | None = None) -> ScanResult:
        """Reads ``[from_block, to_block]``, records the users found, and moves ``last_block`` forward to
        ``to_block`` (never back). ``to_hash``: ``to_block``'s hash when the caller knows it (saves a call)."""
        if from_block > to_block:
            raise DiscoveryError(f"empty block range [{from_block}, {to_block}]")
        touched: set[str] = set()
        new_users: set[str] = set()
        new_borrowers: set[str] = set()
        reserves: set[str] = set()
        addresses = [self.pool, *self.a_tokens]
        topics = [[TOPICS[n] for n in (*_USER_TOPIC, "ReserveDataUpdated")]]
        if self.a_tokens:
            topics[0].append(TOPICS["BalanceTransfer"])
        span, lo = self.chunk_blocks, from_block
        while lo <= to_block:
            hi = min(lo + span - 1, to_block)
            try:
                logs = get_logs(
                    self.rpc, {"address": addresses, "topics": topics, "fromBlock": hex(lo), "toBlock": hex(hi)}
                )
            except RpcError as exc:
                if span > 1 and any(h in str(exc).lower() for h in _RANGE_HINTS):
                    span = max(1, span // 2)
                    continue
                raise DiscoveryError(f"eth_getLogs [{lo}, {hi}] on pool {self.pool} failed: {exc}") from None
            seen: dict[str, tuple[int, bool, bool]] = {}  # user -> (last block, borrowed, supplied)
            for log in logs:
                name = _NAME_OF.get(log.topics[0]) if log.topics else None
                if name == "ReserveDataUpdated" and log.address == self.pool.lower():
                    reserves.add(_address_topic(log.topics[1]))
                    continue
                if name == "BalanceTransfer" and log.address == self.pool.lower():
                    continue  # only aTokens emit it
                for user in users_of(log):
                    _, b, s = seen.get(user, (0, False, False))
                    seen[user] = (log.block_number, b or name == "Borrow", s or name in _SUPPLIED)
            fresh_users, fresh_borrowers = self._record(seen, hi, to_hash if hi == to_block else None)
            touched.update(seen)
            new_users.update(fresh_users)
            new_borrowers.update(fresh_borrowers)
            lo = hi + 1
        return ScanResult(
            from_block,
            to_block,
            frozenset(touched),
            frozenset(new_users),
            frozenset(new_borrowers),
            frozenset(reserves),
        )

    def _record(
        self, seen: dict[str, tuple[int, bool, bool]], scanned_to: int, scanned_hash: str | None = None
    ) -> tuple[set[str], set[str]]:
        """Stores the users of one chunk and the progress in one transaction; returns who was new as a user, and
        who became a borrower."""
        fresh_users: set[str] = set()
        fresh_borrowers: set[str] = set()
        with self._db:
            for user, (last, borrowed, supplied) in seen.items():
                row = self._db.execute("SELECT borrowed FROM users WHERE address = ?", (user,)).fetchone()
                if row is None:
                    fresh_users.add(user)
                    if borrowed:
                        fresh_borrowers.add(user)
                    self._db.execute(
                        "INSERT INTO users VALUES (?, ?, ?, ?, ?)", (user, last, last, int(borrowed), int(supplied))
                    )
                    continue
                if borrowed and not row[0]:
                    fresh_borrowers.add(user)
                self._db.execute(
                    "UPDATE users SET last_block = MAX(last_block, ?), borrowed = MAX(borrowed, ?),"
                    " supplied = MAX(supplied, ?) WHERE address = ?",
                    (last, int(borrowed), int(supplied), user),
                )
            if scanned_to > self.last_block:
                if scanned_hash is None:
                    ref = block_ref(self.rpc, scanned_to)
                    scanned_hash = ref.hash if ref else ""
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("last_block", str(scanned_to)), ("last_hash", scanned_hash)],
                )
        return fresh_users, fresh_borrowers
