"""Pool registry: which pools exist, discovered from factory events and kept in SQLite.

For each configured DEX the registry scans its factory's ``PairCreated`` (V2) or ``PoolCreated`` (V3) logs
with ``eth_getLogs`` in block chunks (halving the span when the node refuses a range), keeps the pools whose
two tokens are both in the token universe, and records per DEX the last block scanned, in the same transaction
as the pools found, so a restart resumes where it stopped (docs/adr/0004-engine-sizing.md, "registry store").

A DEX's progress is tied to its factory and to a fingerprint of the token universe: change either and that DEX
is rescanned from its ``start_block``. The database also records the chain id and refuses another chain's.
Scanning stops ``confirmations`` blocks behind the head, so a reorg cannot leave a pool that never existed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from eth_utils import keccak

from flasharb.engine.config import DexConfig, EngineConfig
from flasharb.engine.errors import RegistryError, RpcError
from flasharb.engine.rpc import ChainReader, LogEntry, block_number, get_logs
from flasharb.engine.types import PoolInfo, PoolKind
from flasharb.engine._util import checksum as _checksum

__all__ = [
    "PoolRegistry",
    "PAIR_CREATED_TOPIC",
    "POOL_CREATED_TOPIC",
    "decode_pair_created",
    "decode_pool_created",
]

PAIR_CREATED_TOPIC = "0x" + keccak(text="PairCreated(address,address,address,uint256)").hex()
POOL_CREATED_TOPIC = "0x" + keccak(text="PoolCreated(address,address,uint24,int24,address)").hex()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scan (
    dex TEXT PRIMARY KEY, factory TEXT NOT NULL, universe TEXT NOT NULL, last_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pools (
    address TEXT PRIMARY KEY, dex TEXT NOT NULL, kind TEXT NOT NULL, token0 TEXT NOT NULL,
    token1 TEXT NOT NULL, fee_pips INTEGER NOT NULL, tick_spacing INTEGER NOT NULL,
    created_block INTEGER NOT NULL
);
"""

# Messages nodes use when a getLogs range or result set is too large (geth/bor, erigon, alchemy, infura...).
_RANGE_HINTS = ("range", "too many", "limit", "exceed", "10000", "response size", "timeout", "query returned")


def _topic_address(topic: str) -> str:
    return _checksum("0x" + topic[-40:])


def _word(data: bytes, i: int) -> int:
    return int.from_bytes(data[32 * i : 32 * i + 32])


def decode_pair_created(log: LogEntry, dex: DexConfig) -> PoolInfo:
    """``PairCreated(address indexed token0, address indexed token1, address pair, uint)``."""
    return PoolInfo(
        address=_checksum("0x" + log.data[12:32].hex()),
        kind=PoolKind.V2,
        dex=dex.name,
        token0=_topic_address(log.topics[1]),
        token1=_topic_address(log.topics[2]),
        fee_pips=int(dex.fee_pips or 0),
        tick_spacing=0,
        created_block=log.block_number,
    )


def decode_pool_created(log: LogEntry, dex: DexConfig) -> PoolInfo:
    """``PoolCreated(address indexed token0, address indexed token1, uint24 indexed fee, int24 tickSpacing,
    address pool)``."""
    spacing = _word(log.data, 0)
    if spacing >= 1 << 255:
        spacing -= 1 << 256
    return PoolInfo(
        address=_checksum("0x" + log.data[44:64].hex()),
        kind=PoolKind.V3,
        dex=dex.name,
        token0=_topic_address(log.topics[1]),
        token1=_topic_address(log.topics[2]),
        fee_pips=int(log.topics[3], 16),
        tick_spacing=spacing,
        created_block=log.block_number,
    )


class PoolRegistry:
    """The pools of the configured DEXes over the token universe, persisted in SQLite (``":memory:"`` for
    none).

    ``sync(rpc)`` scans forward and returns the pools it found; ``pools()`` lists every known pool.
    """

    def __init__(self, config: EngineConfig, path: str | Path = ":memory:") -> None:
        self.config = config
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path)
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'chain_id'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"pool registry {self.path} is not usable: {exc}") from None
        if row is None:
            with self._db:
                self._db.execute("INSERT INTO meta VALUES ('chain_id', ?)", (str(config.chain_id),))
        elif int(row[0]) != config.chain_id:
            raise RegistryError(
                f"pool registry {self.path} holds chain {row[0]}, not chain {config.chain_id}"
            )
        self._universe = {a.lower() for a in config.token_addresses}
        self._fingerprint = hashlib.sha256(",".join(sorted(self._universe)).encode()).hexdigest()[:16]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PoolRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads
    def pools(self) -> list[PoolInfo]:
        """Every known pool of a configured DEX, in (dex, address) order."""
        names = [d.name for d in self.config.dexes]
        rows = self._db.execute(
            f"SELECT address, kind, dex, token0, token1, fee_pips, tick_spacing, created_block FROM pools "
            f"WHERE dex IN ({','.join('?' * len(names))}) ORDER BY dex, address",
            names,
        ).fetchall()
        return [
            PoolInfo(
                address=a,
                kind=PoolKind(k),
                dex=d,
                token0=t0,
                token1=t1,
                fee_pips=f,
                tick_spacing=s,
                created_block=b,
            )
            for a, k, d, t0, t1, f, s, b in rows
        ]

    def last_scanned(self, dex: DexConfig) -> int:
        """The last block scanned for ``dex`` (``start_block - 1`` when never, or when its factory or the
        token
        universe changed)."""
        row = self._db.execute(
            "SELECT factory, universe, last_block FROM scan WHERE dex = ?", (dex.name,)
        ).fetchone()
        if row is None or row[0] != dex.factory or row[1] != self._fingerprint:
            return dex.start_block - 1
        return int(row[2])

    # ------------------------------------------------------------------ writes
    def record(self, dex: DexConfig, pools: Iterable[PoolInfo], scanned_to: int) -> None:
        """Stores ``pools`` and the progress of ``dex`` in one transaction."""
        with self._db:
            if self.last_scanned(dex) < dex.start_block and scanned_to >= dex.start_block:
                # first scan under this factory/universe: forget pools an older config found
                self._db.execute("DELETE FROM pools WHERE dex = ?", (dex.name,))
            self._db.executemany(
                "INSERT OR REPLACE INTO pools (address, kind, dex, token0, token1, fee_pips, tick_spacing,"
                " created_block) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.address,
                        p.kind.value,
                        p.dex,
                        p.token0,
                        p.token1,
                        p.fee_pips,
                        p.tick_spacing,
                        p.created_block,
                    )
                    for p in pools
                ],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO scan VALUES (?, ?, ?, ?)",
                (dex.name, dex.factory, self._fingerprint, scanned_to),
            )

    # ------------------------------------------------------------------ discovery
    def sync(self, rpc: ChainReader, *, to_block: int | None = None) -> list[PoolInfo]:
        """Scans every DEX from where it stopped up to ``to_block`` (default: head - confirmations)."""
        if to_block is None:
            to_block = block_number(rpc) - self.config.confirmations
        found: list[PoolInfo] = []
        for dex in self.config.dexes:
            found.extend(self._scan(rpc, dex, to_block))
        return found

    def _scan(self, rpc: ChainReader, dex: DexConfig, to_block: int) -> list[PoolInfo]:
        start = self.last_scanned(dex) + 1
        topic0 = PAIR_CREATED_TOPIC if dex.kind is PoolKind.V2 else POOL_CREATED_TOPIC
        decode = decode_pair_created if dex.kind is PoolKind.V2 else decode_pool_created
        # Filter on the node when the universe is small enough for a topic OR-list, else locally.
        universe = sorted(self._universe)
        token_topics: list[str] | None = (
            ["0x" + "0" * 24 + a[2:] for a in universe] if len(universe) <= 100 else None
        )
        topics: list[object] = [topic0, token_topics, token_topics] if token_topics else [topic0]
        span = self.config.log_chunk_blocks
        found: list[PoolInfo] = []
        lo = start
        while lo <= to_block:
            hi = min(lo + span - 1, to_block)
            try:
                logs = get_logs(
                    rpc, {"address": dex.factory, "topics": topics, "fromBlock": hex(lo), "toBlock": hex(hi)}
                )
            except RpcError as exc:
                if span > 1 and any(h in str(exc).lower() for h in _RANGE_HINTS):
                    span = max(1, span // 2)
                    continue
                raise
            chunk = [
                p
                for p in (decode(log, dex) for log in logs if log.topics and log.topics[0] == topic0)
                if p.token0.lower() in self._universe and p.token1.lower() in self._universe
            ]
            self.record(dex, chunk, hi)
            found.extend(chunk)
            lo = hi + 1
        return found
