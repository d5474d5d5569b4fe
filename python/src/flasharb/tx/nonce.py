"""Nonces that are never reused and never skipped, across restarts, RPC errors and other senders.

State lives in memory (the hot path never waits for the network to get a nonce) and in a small SQLite file of
its own (``nonces.sqlite`` next to the config by default; not the P&L store), written before a transaction
leaves:

=========  ==========================================================================================
state      meaning
=========  ==========================================================================================
reserved   handed out, nothing signed yet (safe to reuse after a crash)
signed     signed, hash(es) recorded, being sent (may have reached a node)
sent       a node accepted one of its transactions (replacements add hashes to the same nonce)
orphan     signed or sent before a restart, but no node knows any of its hashes now: it may still be
           pending somewhere (a private relay) or be dropped. Never reused for a new transaction: the
           sender fills it with a cancel (a 0-value transfer to self), so whichever lands, the gap closes
foreign    another sender has a pending transaction at this nonce
free       a gap below the next nonce (a send that definitely failed): handed out again first
=========  ==========================================================================================

Rows below the account's on-chain transaction count are consumed and deleted.

At start (``open``) and on ``resync``, the manager reconciles with the chain: ``eth_getTransactionCount`` at
``latest`` (L) and ``pending`` (P) and, for each signed/sent nonce, ``eth_getTransactionByHash``. Nonces below
L are gone; reserved ones are freed; nonces in [L, P) are occupied; the next nonce is just above the highest
occupied one, and every unoccupied nonce below it is a free gap. ``observe_count`` (per block, no I/O) and
``sync`` (one batched request) notice when the on-chain count jumps past what was handed out: another process
used the account, and the manager moves on without reusing its nonces.

One process per (chain, account): ``open`` takes an exclusive ``flock`` on a lock file beside the store.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from eth_utils import to_checksum_address

from flasharb.tx.errors import NonceError, RpcError

if TYPE_CHECKING:
    from flasharb.tx.rpc import RpcClient

log = logging.getLogger("flasharb.tx.nonce")

STORE_FILENAME = "nonces.sqlite"
SCHEMA_VERSION = 1
OCCUPIED_STATES = frozenset({"reserved", "signed", "sent", "orphan", "foreign"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nonce_cursor (
    chain_id   INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    next_nonce INTEGER NOT NULL,
    PRIMARY KEY (chain_id, address)
);
CREATE TABLE IF NOT EXISTS nonce_records (
    chain_id   INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    nonce      INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    tx_hashes  TEXT    NOT NULL DEFAULT '[]',
    updated_at REAL    NOT NULL,
    PRIMARY KEY (chain_id, address, nonce)
);
"""


def default_store_path(config_file: str | os.PathLike[str] | None = None, root: Path | None = None) -> Path:
    """``nonces.sqlite`` next to the config file (``$FLASHARB_CONFIG``), else in ``.flasharb/`` under the repo
    root."""
    source = config_file if config_file is not None else os.environ.get("FLASHARB_CONFIG") or None
    if source:
        return Path(source).expanduser().resolve().parent / STORE_FILENAME
    if root is None:
        from flasharb.paths import repo_root

        root = repo_root()
    return root / ".flasharb" / STORE_FILENAME


@dataclass(slots=True)
class NonceRecord:
    nonce: int
    state: str
    hashes: list[str] = field(default_factory=list)
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What a reconciliation with the chain found."""

    latest: int  # on-chain transaction count (mined)
    pending: int  # the node's count including its pending pool
    next_nonce: int
    free: tuple[int, ...]  # gaps to hand out first
    orphans: tuple[int, ...]  # ours, found nowhere: to be filled by a cancel
    foreign: tuple[int, ...]  # pending transactions of another sender
    jumped: bool  # the chain moved past nonces this manager had not handed out


class NonceManager:
    """Hands out nonces for one account on one chain. Create with ``await NonceManager.open(...)``."""

    def __init__(
        self,
        rpc: RpcClient,
        address: str,
        store_path: str | os.PathLike[str],
        *,
        chain_id: int | None = None,
        synchronous: str = "NORMAL",
    ) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        self.chain_id = rpc.chain_id if chain_id is None else chain_id
        self.path = Path(store_path)
        self._synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self.next_nonce = 0
        self.chain_count = 0
        self._free: list[int] = []
        self._records: dict[int, NonceRecord] = {}

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls, rpc: RpcClient, address: str, store_path: str | os.PathLike[str], **kwargs: object
    ) -> "NonceManager":
        manager = cls(rpc, address, store_path, **kwargs)  # type: ignore[arg-type]
        manager._open_store()
        try:
            await manager.reconcile()
        except BaseException:
            manager.close()
            raise
        return manager

    def _open_store(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f"{self.path.name}.{self.chain_id}-{self.address.lower()}.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise NonceError(
                f"nonce store {self.path} is in use for {self.address} on chain {self.chain_id} "
                "by another process (one bot per account)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NonceError(
                    f"nonce store {self.path} has schema {version}, newer than this code ({SCHEMA_VERSION})"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            self._release_lock()
            raise NonceError(f"nonce store {self.path} cannot be opened: {exc}") from None
        self._db = db
        self._load()

    def _load(self) -> None:
        db = self._require_db()
        row = db.execute(
            "SELECT next_nonce FROM nonce_cursor WHERE chain_id=? AND address=?",
            (self.chain_id, self.address),
        ).fetchone()
        self.next_nonce = row[0] if row else 0
        self._records.clear()
        self._free = []
        for nonce, state, hashes, updated in db.execute(
            "SELECT nonce, state, tx_hashes, updated_at FROM nonce_records WHERE chain_id=? AND address=?",
            (self.chain_id, self.address),
        ):
            if state == "free":
                self._free.append(nonce)
            else:
                self._records[nonce] = NonceRecord(nonce, state, json.loads(hashes), updated)
        heapq.heapify(self._free)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            finally:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _require_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise NonceError("nonce manager is closed")
        return self._db

    # ------------------------------------------------------------------ persistence
    def _write(
        self,
        records: list[NonceRecord] = (),
        deleted: list[int] = (),
        free: list[int] = (),  # type: ignore[assignment]
        cursor: bool = True,
    ) -> None:
        db = self._require_db()
        key = (self.chain_id, self.address)
        now = time.time()
        try:
            db.execute("BEGIN IMMEDIATE")
            for rec in records:
                rec.updated_at = now
                db.execute(
                    "INSERT OR REPLACE INTO nonce_records VALUES (?,?,?,?,?,?)",
                    (*key, rec.nonce, rec.state, json.dumps(rec.hashes), now),
                )
            for n in free:
                db.execute(
                    "INSERT OR REPLACE INTO nonce_records VALUES (?,?,?,?,?,?)", (*key, n, "free", "[]", now)
                )
            for n in deleted:
                db.execute("DELETE FROM nonce_records WHERE chain_id=? AND address=? AND nonce=?", (*key, n))
            if cursor:
                db.execute("INSERT OR REPLACE INTO nonce_cursor VALUES (?,?,?)", (*key, self.next_nonce))
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise NonceError(f"nonce store {self.path} write failed: {exc}") from None

    # ------------------------------------------------------------------ views
    @property
    def free(self) -> tuple[int, ...]:
        return tuple(sorted(self._free))

    def records(self) -> dict[int, NonceRecord]:
        """Occupied nonces at or above the on-chain count, by nonce (copies)."""
        return {
            n: NonceRecord(r.nonce, r.state, list(r.hashes), r.updated_at)
            for n, r in sorted(self._records.items())
        }

    def orphans(self) -> list[NonceRecord]:
        return [r for n, r in sorted(self._records.items()) if r.state == "orphan"]

    def peek(self) -> int:
        """The nonce ``reserve()`` would hand out (dry runs use it without reserving)."""
        return self._free[0] if self._free else self.next_nonce

    # ------------------------------------------------------------------ hot path
    def reserve(self) -> int:
        """The next nonce to sign with (a free gap first), persisted as reserved before it is returned."""
        if self._free:
            nonce = heapq.heappop(self._free)
        else:
            nonce = self.next_nonce
            self.next_nonce += 1
        rec = NonceRecord(nonce, "reserved")
        self._records[nonce] = rec
        try:
            self._write([rec])
        except NonceError:
            del self._records[nonce]
            if nonce == self.next_nonce - 1:
                self.next_nonce -= 1
            else:
                heapq.heappush(self._free, nonce)
            raise
        return nonce

    def record_signed(self, nonce: int, tx_hash: str) -> None:
        """Records a signed transaction's hash before it is sent (a replacement adds a hash to the same
        nonce)."""
        rec = self._records.get(nonce)
        if rec is None:  # consumed on chain meanwhile (a concurrent sync); the send will say so
            rec = self._records[nonce] = NonceRecord(nonce, "reserved")
        if tx_hash not in rec.hashes:
            rec.hashes.append(tx_hash)
        if rec.state in ("reserved", "orphan"):
            rec.state = "signed" if rec.state == "reserved" else "orphan"
        self._write([rec], cursor=False)

    def mark_sent(self, nonce: int, tx_hash: str) -> None:
        """A node accepted ``tx_hash`` (or its outcome is unknown and it must be treated as pending)."""
        rec = self._records.get(nonce)
        if rec is None:  # already consumed (mined and reconciled in between)
            return
        if tx_hash not in rec.hashes:
            rec.hashes.append(tx_hash)
        rec.state = "sent"
        self._write([rec], cursor=False)

    def release(self, nonce: int) -> bool:
        """Gives back a nonce whose transaction definitely was not accepted anywhere. Refused (False) when one
        of its transactions was accepted earlier (a failed replacement leaves the original pending)."""
        rec = self._records.get(nonce)
        if rec is None:
            return False
        if rec.state in ("sent", "orphan", "foreign"):
            log.info("nonce %d not released: a transaction with it may be pending (%s)", nonce, rec.state)
            return False
        del self._records[nonce]
        if nonce == self.next_nonce - 1 and not any(n > nonce for n in self._records):
            self.next_nonce = nonce
            self._write(deleted=[nonce])
        else:
            heapq.heappush(self._free, nonce)
            self._write(free=[nonce])
        return True

    def confirm(self, nonce: int) -> None:
        """A transaction with ``nonce`` was mined: the nonce is consumed."""
        self.chain_count = max(self.chain_count, nonce + 1)
        if nonce in self._records:
            del self._records[nonce]
            self._write(deleted=[nonce], cursor=False)

    def mark_foreign(self, nonce: int) -> None:
        """Another sender has a pending transaction at ``nonce`` (a fresh send got "replacement
        underpriced")."""
        rec = self._records.get(nonce)
        if rec is not None and rec.state == "sent":
            return  # ours is pending at this nonce: not foreign
        rec = NonceRecord(nonce, "foreign")
        self._records[nonce] = rec
        if nonce in self._free:
            self._free.remove(nonce)
            heapq.heapify(self._free)
        self.next_nonce = max(self.next_nonce, nonce + 1)
        self._write([rec])

    # ------------------------------------------------------------------ chain
    def observe_count(self, latest: int) -> bool:
        """The account's mined transaction count (from a receipt, a head, a cheap poll). Drops consumed
        nonces; returns True when the chain jumped past the nonces handed out (another process used the
        account)."""
        if latest <= self.chain_count and latest <= self.next_nonce:
            return False
        self.chain_count = max(self.chain_count, latest)
        gone = [n for n in self._records if n < latest]
        for n in gone:
            del self._records[n]
        dropped_free = [n for n in self._free if n < latest]
        if dropped_free:
            self._free = [n for n in self._free if n >= latest]
            heapq.heapify(self._free)
        jumped = latest > self.next_nonce
        if jumped:
            log.warning(
                "nonces %d..%d of %s were used by another sender: continuing at %d",
                self.next_nonce,
                latest - 1,
                self.address,
                latest,
            )
            self.next_nonce = latest
        if gone or dropped_free or jumped:
            self._write(deleted=gone + dropped_free, cursor=jumped)
        return jumped

    async def sync(self) -> bool:
        """One batched read of the latest and pending counts; True when another sender was detected."""
        try:
            latest_hex, pending_hex = await self.rpc.batch(
                [
                    ("eth_getTransactionCount", [self.address, "latest"]),
                    ("eth_getTransactionCount", [self.address, "pending"]),
                ]
            )
        except RpcError as exc:
            log.warning("nonce sync failed: %s", exc)
            return False
        if isinstance(latest_hex, Exception) or isinstance(pending_hex, Exception):
            return False
        latest, pending = int(latest_hex, 16), int(pending_hex, 16)
        jumped = self.observe_count(latest)
        if pending > self.next_nonce:
            log.warning(
                "the node holds pending transactions of %s up to nonce %d that this manager did not send",
                self.address,
                pending - 1,
            )
            jumped = True
            foreign = [NonceRecord(n, "foreign") for n in range(self.next_nonce, pending)]
            for rec in foreign:
                self._records[rec.nonce] = rec
            self.next_nonce = pending
            self._write(foreign)
        return jumped

    async def reconcile(self, *, startup: bool = True) -> Reconciliation:
        """Brings the in-memory and stored state in line with the chain (see the module docstring).

        ``startup`` (what ``open`` does): reserved nonces are freed and signed ones unknown to the node become
        orphans. Later (``resync``), nonces reserved or signed by this process are left as they are: a send
        may be in progress."""
        calls = [
            ("eth_getTransactionCount", [self.address, "latest"]),
            ("eth_getTransactionCount", [self.address, "pending"]),
        ]
        checked = [
            (n, h)
            for n, r in sorted(self._records.items())
            if r.state in ("signed", "sent", "orphan")
            for h in r.hashes
        ]
        calls += [("eth_getTransactionByHash", [h]) for _, h in checked]
        try:
            answers = await self.rpc.batch(calls)
        except RpcError as exc:
            raise NonceError(f"cannot reconcile nonces of {self.address} with the chain: {exc}") from None
        for a in answers[:2]:
            if isinstance(a, Exception):
                raise NonceError(f"cannot reconcile nonces of {self.address} with the chain: {a}")
        latest, pending = int(answers[0], 16), int(answers[1], 16)
        known: set[int] = set()
        for (n, _), found in zip(checked, answers[2:]):
            if isinstance(found, Exception):
                raise NonceError(f"cannot reconcile nonces of {self.address}: lookup failed: {found}")
            if found is not None:
                known.add(n)
        handed_out = self.next_nonce
        previous = set(self._records) | set(self._free)
        kept: dict[int, NonceRecord] = {}
        orphans, foreign = [], []
        for n, rec in sorted(self._records.items()):
            if n < latest:
                continue
            if not startup and rec.state in ("reserved", "signed"):
                kept[n] = rec  # this process is signing or sending it right now
                continue
            if rec.state == "reserved":
                continue  # never signed: never sent
            if rec.state == "foreign":
                if n < pending:
                    kept[n] = rec
                    foreign.append(n)
                continue  # else the other sender's transaction is gone
            if n in known:
                rec.state = "sent"
            else:
                rec.state = "orphan"
                orphans.append(n)
            kept[n] = rec
        for n in range(latest, pending):
            if n not in kept:
                kept[n] = NonceRecord(n, "foreign")
                foreign.append(n)
        top = max([latest, pending, *(n + 1 for n in kept)])
        free = [n for n in range(latest, top) if n not in kept]
        jumped = latest > handed_out or pending > handed_out
        if jumped:
            log.warning(
                "the chain is at nonce %d (pending %d) for %s; this manager had handed out up to %d",
                latest,
                pending,
                self.address,
                handed_out,
            )
        self._records = kept
        self._free = list(free)
        heapq.heapify(self._free)
        self.next_nonce = top
        self.chain_count = latest
        stale = sorted(previous - set(kept) - set(free))
        self._write(list(kept.values()), deleted=stale, free=free)
        if orphans:
            log.warning(
                "nonces %s of %s were signed before a restart and are not known to the node: "
                "they will be filled by cancels",
                orphans,
                self.address,
            )
        return Reconciliation(
            latest=latest,
            pending=pending,
            next_nonce=top,
            free=tuple(free),
            orphans=tuple(orphans),
            foreign=tuple(foreign),
            jumped=jumped,
        )

    async def resync(self) -> Reconciliation:
        """Reconciles again while running (after an unexpected error): transactions this process reported sent
        but no node knows become orphans for ``TxSender.recover``. Per block, ``sync`` is enough."""
        return await self.reconcile(startup=False)
