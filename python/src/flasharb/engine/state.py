"""Pool state sync: a lens snapshot, then per-block updates from logs, reorg-safe, with a drift check.

Two layers:

- **Log application** (pure, no I/O): ``apply_log(state, log)`` returns the pool's next state for one ``Sync``
  (V2: reserves), ``Swap`` (V3: price, tick, in-range liquidity), ``Mint`` or ``Burn`` (V3: ``liquidity_net``
  at both ticks, and the in-range liquidity when ``tickLower <= tick < tickUpper``). It also says when a log
  leaves the state unknowable and the pool must be re-read: a ``Burn`` that brings a tick's net to zero (the
  tick may or may not stay initialised: the lens does not read ``liquidityGross``), a ``Burn`` at a tick the
  state does not hold, or a ``Swap`` that takes the tick within one bitmap word of the state's tick window.
- **``StateSync``** (I/O): snapshots every pool through ``flasharb.lens`` at one block, then ``poll()`` walks
  the new blocks one by one: header (parent hash check), logs of exactly that block (``eth_getLogs`` by
  ``blockHash``), application, an undo journal per block. When a block's parent is not the block we hold, it
  walks back to the common ancestor, rolls the journals back, applies the new branch and re-reads (lens) every
  pool the dropped blocks had touched, so their state is the chain's own. ``check_consistency()`` compares the
  synced state with a fresh snapshot at the same block and reports (optionally repairs) any drift.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from eth_utils import keccak

from flasharb.engine.errors import ReorgTooDeep, RpcError, StateSyncError
from flasharb.engine.rpc import ChainReader, LogEntry, block_number, block_ref, get_logs
from flasharb.engine.types import BlockRef, PoolInfo, PoolKind, PoolState, V2State
from flasharb.lens import PoolSnapshot
from flasharb.math.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState

__all__ = [
    "SYNC_TOPIC",
    "SWAP_TOPIC",
    "MINT_TOPIC",
    "BURN_TOPIC",
    "POOL_EVENT_TOPICS",
    "apply_log",
    "SnapshotSource",
    "SyncUpdate",
    "PoolDrift",
    "DriftReport",
    "StateSync",
]

SYNC_TOPIC = "0x" + keccak(text="Sync(uint112,uint112)").hex()
SWAP_TOPIC = "0x" + keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()
MINT_TOPIC = "0x" + keccak(text="Mint(address,address,int24,int24,uint128,uint256,uint256)").hex()
BURN_TOPIC = "0x" + keccak(text="Burn(address,int24,int24,uint128,uint256,uint256)").hex()
POOL_EVENT_TOPICS = (SYNC_TOPIC, SWAP_TOPIC, MINT_TOPIC, BURN_TOPIC)

_WORD_TICKS = 256


def _word(data: bytes, i: int) -> int:
    return int.from_bytes(data[32 * i : 32 * i + 32])


def _signed(value: int) -> int:
    return value - (1 << 256) if value >> 255 else value


# ---------------------------------------------------------------------------------------------- logs
def _v3_with(state: V3PoolState, **changes: Any) -> V3PoolState:
    fields = {
        "sqrt_price_x96": state.sqrt_price_x96,
        "tick": state.tick,
        "liquidity": state.liquidity,
        "fee": state.fee,
        "tick_spacing": state.tick_spacing,
        "ticks": state.ticks,
        "liquidity_net": state.liquidity_net,
        "tick_lower_bound": state.tick_lower_bound,
        "tick_upper_bound": state.tick_upper_bound,
    }
    fields.update(changes)
    return V3PoolState(**fields)


def _near_window_edge(state: V3PoolState, tick: int) -> bool:
    margin = _WORD_TICKS * state.tick_spacing
    low_open = state.tick_lower_bound > MIN_TICK and tick - state.tick_lower_bound < margin
    high_open = state.tick_upper_bound < MAX_TICK and state.tick_upper_bound - tick < margin
    return low_open or high_open


def _modify_position(state: V3PoolState, lower: int, upper: int, delta: int) -> tuple[V3PoolState, bool]:
    """Adds ``delta`` liquidity (negative for a burn) over [lower, upper). Returns (state, needs_refresh)."""
    nets = dict(state.liquidity_net)
    unsure = False
    for t, d in ((lower, delta), (upper, -delta)):
        if not state.tick_lower_bound <= t <= state.tick_upper_bound:
            continue  # outside the window the state knows: a re-read of that window will see it
        if t not in nets:
            if delta < 0:
                unsure = True  # burning at a tick we never saw initialised: our data is wrong
                continue
            nets[t] = 0
        nets[t] += d
        if delta < 0 and nets[t] == 0:
            unsure = True  # liquidityGross may be 0 (tick cleared) or not (tick stays): only a re-read knows
    liquidity = state.liquidity
    if lower <= state.tick < upper:
        liquidity += delta
        if liquidity < 0:
            liquidity, unsure = 0, True
    new = _v3_with(
        state, liquidity=liquidity, ticks=tuple(sorted(nets)), liquidity_net=MappingProxyType(nets)
    )
    return new, unsure


def apply_log(state: PoolState, log: LogEntry) -> tuple[PoolState, bool]:
    """The pool's state after ``log`` and whether the pool must be re-read from chain. Logs of other events
    leave the state unchanged."""
    topic = log.topics[0] if log.topics else ""
    data = log.data
    if type(state) is V2State:
        if topic == SYNC_TOPIC:
            return V2State(_word(data, 0), _word(data, 1)), False
        return state, False
    if topic == SWAP_TOPIC:
        tick = _signed(_word(data, 4))
        new = _v3_with(state, sqrt_price_x96=_word(data, 2), liquidity=_word(data, 3), tick=tick)
        return new, _near_window_edge(new, tick)
    if topic == MINT_TOPIC:
        lower, upper = _signed(int(log.topics[2], 16)), _signed(int(log.topics[3], 16))
        return _modify_position(state, lower, upper, _word(data, 1))
    if topic == BURN_TOPIC:
        amount = _word(data, 0)
        if amount == 0:  # a poke (fee collection): nothing moves
            return state, False
        lower, upper = _signed(int(log.topics[2], 16)), _signed(int(log.topics[3], 16))
        return _modify_position(state, lower, upper, -amount)
    return state, False


# ---------------------------------------------------------------------------------------------- snapshots
class SnapshotSource(Protocol):
    """What ``flasharb.lens.PoolLensClient`` provides."""

    def snapshot(
        self, v2_pairs: Sequence[str] = (), v3_pools: Sequence[str] = (), *, block: int | str = "latest"
    ) -> PoolSnapshot: ...


def states_from_snapshot(
    snap: PoolSnapshot, v2: Sequence[str], v3: Sequence[str]
) -> tuple[dict[str, PoolState], list[str]]:
    """(address -> state) for every pool the lens could read, and the addresses it could not."""
    states: dict[str, PoolState] = {}
    failed: list[str] = []
    for address, row in zip(v2, snap.v2):
        if row is None:
            failed.append(address)
        else:
            states[address] = V2State(row.reserve0, row.reserve1)
    for address, row in zip(v3, snap.v3):
        if row is None:
            failed.append(address)
            continue
        try:
            states[address] = row.to_pool_state()
        except ValueError:
            failed.append(address)
    return states, failed


# ---------------------------------------------------------------------------------------------- reports
@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """What one ``poll`` did: the new head, the pools whose state changed (logs, rollbacks or re-reads), the
    blocks applied, and, after a reorg, the blocks dropped and the ancestor kept."""

    head: BlockRef
    changed: frozenset[str]
    applied: tuple[BlockRef, ...] = ()
    dropped: tuple[BlockRef, ...] = ()
    ancestor: BlockRef | None = None
    refreshed: frozenset[str] = frozenset()
    full_resync: bool = False

    @property
    def reorg(self) -> bool:
        return bool(self.dropped) or self.full_resync


@dataclass(frozen=True, slots=True)
class PoolDrift:
    address: str
    fields: tuple[tuple[str, Any, Any], ...]  # (field, synced, fresh)


@dataclass(frozen=True, slots=True)
class DriftReport:
    block: BlockRef
    checked: int
    drift: tuple[PoolDrift, ...]
    unreadable: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.drift


def compare_states(synced: PoolState, fresh: PoolState) -> tuple[tuple[str, Any, Any], ...]:
    """The fields that differ; for V3 the initialised ticks are compared where both windows overlap."""
    if type(synced) is not type(fresh):
        return (("kind", type(synced).__name__, type(fresh).__name__),)
    if type(synced) is V2State:
        out = []
        if synced.reserve0 != fresh.reserve0:
            out.append(("reserve0", synced.reserve0, fresh.reserve0))
        if synced.reserve1 != fresh.reserve1:
            out.append(("reserve1", synced.reserve1, fresh.reserve1))
        return tuple(out)
    out = []
    for name in ("sqrt_price_x96", "tick", "liquidity", "fee", "tick_spacing"):
        a, b = getattr(synced, name), getattr(fresh, name)
        if a != b:
            out.append((name, a, b))
    lo = max(synced.tick_lower_bound, fresh.tick_lower_bound)
    hi = min(synced.tick_upper_bound, fresh.tick_upper_bound)
    a_nets = {t: synced.liquidity_net[t] for t in synced.ticks if lo <= t <= hi}
    b_nets = {t: fresh.liquidity_net[t] for t in fresh.ticks if lo <= t <= hi}
    if a_nets != b_nets:
        diff = {
            t: (a_nets.get(t), b_nets.get(t))
            for t in sorted(set(a_nets) | set(b_nets))
            if a_nets.get(t) != b_nets.get(t)
        }
        out.append(("liquidity_net", {t: v[0] for t, v in diff.items()}, {t: v[1] for t, v in diff.items()}))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- the syncer
@dataclass
class _BlockRecord:
    ref: BlockRef
    undo: dict[str, PoolState] = field(default_factory=dict)  # pool -> state before this block


class StateSync:
    """Keeps ``states`` (address -> PoolState) equal to the chain's at ``head``.

    ``rpc`` reads headers and logs; ``lens`` reads pool state (``flasharb.lens.PoolLensClient``). Pools are
    the registry's (``add_pools`` takes more later). Undo data is kept for ``max_reorg_depth`` blocks; a
    deeper reorg, or falling further behind than that, re-reads every pool.
    """

    def __init__(
        self,
        rpc: ChainReader,
        lens: SnapshotSource,
        pools: Iterable[PoolInfo],
        *,
        max_reorg_depth: int = 64,
        max_blocks_per_poll: int | None = None,
    ) -> None:
        self.rpc = rpc
        self.lens = lens
        self.pools: dict[str, PoolInfo] = {}
        self._by_lower: dict[str, str] = {}
        self.states: dict[str, PoolState] = {}
        self.unreadable: set[str] = set()
        self.max_reorg_depth = max_reorg_depth
        self.max_blocks_per_poll = max_blocks_per_poll or max(128, max_reorg_depth)
        self._blocks: OrderedDict[int, _BlockRecord] = OrderedDict()
        self.head: BlockRef | None = None
        for p in pools:
            self._register(p)

    def _register(self, pool: PoolInfo) -> None:
        self.pools[pool.address] = pool
        self._by_lower[pool.address.lower()] = pool.address

    # ------------------------------------------------------------------ snapshots
    def _snapshot(self, addresses: Iterable[str], ref: BlockRef) -> dict[str, PoolState]:
        """Reads ``addresses`` at ``ref`` and checks ``ref`` is still canonical afterwards."""
        v2 = [a for a in addresses if self.pools[a].kind is PoolKind.V2]
        v3 = [a for a in addresses if self.pools[a].kind is PoolKind.V3]
        if not v2 and not v3:
            return {}
        snap = self.lens.snapshot(v2, v3, block=ref.number)
        if snap.block_number != ref.number:
            raise StateSyncError(f"lens read block {snap.block_number}, asked for {ref.number}")
        canonical = block_ref(self.rpc, ref.number)
        if canonical is None or canonical.hash != ref.hash:
            raise StateSyncError(f"block {ref.number} was replaced while it was being read")
        states, failed = states_from_snapshot(snap, v2, v3)
        self.unreadable.difference_update(states)
        self.unreadable.update(failed)
        for a in failed:
            self.states.pop(a, None)
        return states

    def bootstrap(self, *, attempts: int = 3) -> BlockRef:
        """Reads every pool at the current head and forgets all undo data."""
        for attempt in range(attempts):
            ref = block_ref(self.rpc, "latest")
            if ref is None:
                raise StateSyncError("the node has no latest block")
            try:
                states = self._snapshot(list(self.pools), ref)
            except StateSyncError:
                if attempt + 1 == attempts:
                    raise
                continue
            self.states.clear()
            self.states.update(states)
            self._blocks.clear()
            self._blocks[ref.number] = _BlockRecord(ref)
            self.head = ref
            return ref
        raise StateSyncError("unreachable")  # pragma: no cover

    def add_pools(self, pools: Iterable[PoolInfo]) -> frozenset[str]:
        """Registers new pools and reads them at the current head; returns the ones now tracked."""
        new = [p for p in pools if p.address not in self.pools]
        for p in new:
            self._register(p)
        if self.head is None or not new:
            return frozenset()
        states = self._snapshot([p.address for p in new], self.head)
        self.states.update(states)
        return frozenset(states)

    # ------------------------------------------------------------------ blocks
    def _require_head(self) -> BlockRef:
        if self.head is None:
            raise StateSyncError("StateSync.bootstrap() has not run")
        return self.head

    def _apply_block(self, ref: BlockRef, changed: set[str], refresh: set[str]) -> None:
        logs = get_logs(self.rpc, {"blockHash": ref.hash, "topics": [list(POOL_EVENT_TOPICS)]})
        record = _BlockRecord(ref)
        by_lower = self._by_lower
        states = self.states
        for log in sorted(logs, key=lambda x: x.log_index):
            address = by_lower.get(log.address)
            if address is None or address not in states:
                continue
            before = states[address]
            after, unsure = apply_log(before, log)
            if after is not before:
                record.undo.setdefault(address, before)
                states[address] = after
                changed.add(address)
            if unsure:
                refresh.add(address)
        self._blocks[ref.number] = record
        while len(self._blocks) > self.max_reorg_depth + 1:
            self._blocks.popitem(last=False)
        self.head = ref

    def _rollback_to_ancestor(self) -> tuple[BlockRef, list[BlockRef], set[str]]:
        """Finds the newest block we hold that is still canonical and undoes every block after it."""
        dropped: list[BlockRef] = []
        touched: set[str] = set()
        for number in reversed(list(self._blocks)):
            record = self._blocks[number]
            canonical = block_ref(self.rpc, number)
            if canonical is not None and canonical.hash == record.ref.hash:
                self.head = record.ref
                return record.ref, dropped, touched
            for address, before in record.undo.items():
                self.states[address] = before
                touched.add(address)
            dropped.append(record.ref)
            del self._blocks[number]
        raise ReorgTooDeep(f"no block of the last {len(dropped)} is canonical any more")

    def poll(self) -> SyncUpdate:
        """Brings the state to the chain's head. Safe to call at any rate; returns what changed."""
        head = self._require_head()
        target = block_number(self.rpc)
        changed: set[str] = set()
        refresh: set[str] = set()
        dropped: list[BlockRef] = []
        ancestor: BlockRef | None = None
        applied: list[BlockRef] = []

        if target - head.number > self.max_blocks_per_poll:
            return self._full_resync()

        # A reorg may replace blocks at or below our head without the chain growing.
        current = block_ref(self.rpc, min(target, head.number))
        if (
            current is None
            or (current.number == head.number and current.hash != head.hash)
            or target < head.number
        ):
            try:
                ancestor, dropped, touched = self._rollback_to_ancestor()
            except ReorgTooDeep:
                return self._full_resync()
            changed |= touched
            refresh |= touched

        number = self.head.number + 1
        while number <= target:
            ref = block_ref(self.rpc, number)
            if ref is None:
                break  # the node's head moved back under us: the next poll sees it
            if ref.parent_hash != self.head.hash:
                try:
                    anc, more, touched = self._rollback_to_ancestor()
                except ReorgTooDeep:
                    return self._full_resync()
                ancestor = anc if ancestor is None or anc.number < ancestor.number else ancestor
                dropped.extend(more)
                changed |= touched
                refresh |= touched
                applied = [b for b in applied if b.number <= anc.number]
                number = anc.number + 1
                continue
            try:
                self._apply_block(ref, changed, refresh)
            except RpcError:
                break  # the block vanished between header and logs: the next poll walks the reorg
            applied.append(ref)
            number += 1

        refreshed: frozenset[str] = frozenset()
        if refresh:
            refresh &= set(self.pools)
            try:
                states = self._snapshot(sorted(refresh), self.head)
            except StateSyncError:
                states = {}  # the head moved under the read: the next poll's reorg handling re-reads them
            record = self._blocks[self.head.number]
            for address, state in states.items():
                before = self.states.get(address)
                if before is not None:
                    record.undo.setdefault(address, before)
                self.states[address] = state
            changed |= set(states)
            refreshed = frozenset(states)
        return SyncUpdate(
            head=self.head,
            changed=frozenset(changed),
            applied=tuple(applied),
            dropped=tuple(dropped),
            ancestor=ancestor,
            refreshed=refreshed,
        )

    def _full_resync(self) -> SyncUpdate:
        before = dict(self.states)
        ref = self.bootstrap()
        changed = {a for a, s in self.states.items() if before.get(a) != s} | (set(before) - set(self.states))
        return SyncUpdate(
            head=ref, changed=frozenset(changed), full_resync=True, refreshed=frozenset(self.states)
        )

    def resync(self, addresses: Iterable[str]) -> frozenset[str]:
        """Re-reads ``addresses`` at the head (their undo data keeps the old state)."""
        head = self._require_head()
        states = self._snapshot([a for a in addresses if a in self.pools], head)
        record = self._blocks[head.number]
        for address, state in states.items():
            if address in self.states:
                record.undo.setdefault(address, self.states[address])
            self.states[address] = state
        return frozenset(states)

    # ------------------------------------------------------------------ consistency
    def check_consistency(self, *, repair: bool = False) -> DriftReport:
        """Reads every pool at ``head`` and reports where the synced state differs (``repair`` adopts the
        fresh state for those pools)."""
        head = self._require_head()
        fresh = self._snapshot(list(self.pools), head)
        drift = []
        for address, state in fresh.items():
            synced = self.states.get(address)
            if synced is None:
                drift.append(PoolDrift(address, (("missing", None, "present"),)))
                continue
            fields_ = compare_states(synced, state)
            if fields_:
                drift.append(PoolDrift(address, fields_))
        if repair:
            for d in drift:
                self.states[d.address] = fresh[d.address]
        return DriftReport(head, len(fresh), tuple(drift), tuple(sorted(self.unreadable)))
