"""EIP-1559 fees: the base fee from the chain, a priority fee from a policy, Polygon's minimum tip respected.

``max_fee_per_gas = ceil(base_fee * base_fee_multiplier) + max_priority_fee_per_gas``. The multiplier (default
2) keeps a transaction valid through several full blocks of base-fee growth; the fee actually paid is
``min(max_fee, base_fee + priority)``.

Priority policy:

- ``fixed``: ``fixed_priority_fee`` wei;
- ``percentile``: the median over the last ``history_blocks`` non-empty blocks of the ``percentile``-th
  priority fee paid in each (``eth_feeHistory``);

then capped by ``max_priority_fee`` and floored by the chain's minimum: Polygon PoS (137) and Amoy (80002)
refuse tips below 30 gwei by default (``min_priority_fee`` overrides, e.g. when the network changes its rule);
0 elsewhere (a local anvil). The floor wins over the cap: a tip below the floor would not be accepted at all.

The risk layer owns the max gas price cap: it compares ``Fees.max_fee_per_gas`` with its limit.

Hot path: ``FeeOracle.on_head(head)`` is synchronous and does no I/O (the head carries the base fee; the
percentile is cached and refreshed in the background every ``refresh_every`` blocks).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from flasharb.exceptions import ConfigError
from flasharb.tx.errors import FeeError, RpcError

if TYPE_CHECKING:
    from flasharb.tx.rpc import Head, RpcClient

log = logging.getLogger("flasharb.tx.fees")

GWEI = 10**9
POLYGON_CHAIN_IDS = frozenset({137, 80002})
POLYGON_MIN_PRIORITY_FEE = 30 * GWEI
ELASTICITY_MULTIPLIER = 2


def default_min_priority_fee(chain_id: int) -> int:
    """The tip floor nodes of this chain enforce: 30 gwei on Polygon PoS and Amoy, 0 elsewhere."""
    return POLYGON_MIN_PRIORITY_FEE if chain_id in POLYGON_CHAIN_IDS else 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeePolicy:
    """How to price a transaction (wei amounts)."""

    mode: Literal["fixed", "percentile"] = "percentile"
    fixed_priority_fee: int = 0
    percentile: float = 50.0
    history_blocks: int = 20
    max_priority_fee: int | None = None
    min_priority_fee: int | None = None  # None: the chain's default (default_min_priority_fee)
    base_fee_multiplier: Fraction | float | str | int = 2
    base_fee_change_denominator: int = 8  # EIP-1559's; an upper bound of the next block's base fee on Polygon
    refresh_every: int = 1  # blocks between eth_feeHistory refreshes (percentile mode)

    def __post_init__(self) -> None:
        mult = Fraction(self.base_fee_multiplier).limit_denominator(10_000)
        object.__setattr__(self, "base_fee_multiplier", mult)
        problems = []
        if self.mode not in ("fixed", "percentile"):
            problems.append(f"mode must be 'fixed' or 'percentile', not {self.mode!r}")
        if not 0 <= self.percentile <= 100:
            problems.append("percentile must be within 0..100")
        if not 1 <= self.history_blocks <= 1024:
            problems.append("history_blocks must be within 1..1024")
        if mult < 1:
            problems.append("base_fee_multiplier must be at least 1")
        for name in ("fixed_priority_fee", "max_priority_fee", "min_priority_fee"):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append(f"{name} must not be negative")
        if self.refresh_every < 1 or self.base_fee_change_denominator < 1:
            problems.append("refresh_every and base_fee_change_denominator must be at least 1")
        if problems:
            raise ConfigError("fee policy: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Fees:
    """The fee fields of one EIP-1559 transaction, and the base fee they were computed from."""

    base_fee: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    block_number: int | None = None

    def bumped(self, bump_bps: int) -> "Fees":
        """Both caps raised by at least ``bump_bps`` / 10 000 (rounded up, +1 wei so an exact threshold
        passes)."""
        factor = 10_000 + bump_bps
        prio = _ceil_div(self.max_priority_fee_per_gas * factor, 10_000) + 1
        fee = max(_ceil_div(self.max_fee_per_gas * factor, 10_000) + 1, prio)
        return replace(self, max_priority_fee_per_gas=prio, max_fee_per_gas=fee)

    def at_least(self, other: "Fees") -> "Fees":
        """Each cap the larger of the two."""
        return replace(
            self,
            base_fee=max(self.base_fee, other.base_fee),
            max_priority_fee_per_gas=max(self.max_priority_fee_per_gas, other.max_priority_fee_per_gas),
            max_fee_per_gas=max(self.max_fee_per_gas, other.max_fee_per_gas),
        )

    def effective_gas_price(self, base_fee: int | None = None) -> int:
        """What one gas costs in a block with ``base_fee`` (default: the base fee these fees were computed
        from)."""
        base = self.base_fee if base_fee is None else base_fee
        return min(self.max_fee_per_gas, base + self.max_priority_fee_per_gas)

    def tx_fields(self) -> dict[str, int]:
        return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}


def next_base_fee(base_fee: int, gas_used: int, gas_limit: int, denominator: int = 8) -> int:
    """EIP-1559's base fee of the child of a block (elasticity 2)."""
    target = gas_limit // ELASTICITY_MULTIPLIER
    if target == 0 or gas_used == target:
        return base_fee
    if gas_used > target:
        delta = max(base_fee * (gas_used - target) // target // denominator, 1)
        return base_fee + delta
    delta = base_fee * (target - gas_used) // target // denominator
    return max(base_fee - delta, 0)


class FeeOracle:
    """Computes ``Fees`` for the next block. ``await refresh()`` once at start, then ``on_head`` per block."""

    def __init__(
        self, rpc: RpcClient | None, policy: FeePolicy | None = None, *, chain_id: int | None = None
    ) -> None:
        self.rpc = rpc
        self.policy = policy or FeePolicy()
        if chain_id is None:
            if rpc is None:
                raise ConfigError("FeeOracle needs a chain id or a started RpcClient")
            chain_id = rpc.chain_id
        self.chain_id = chain_id
        floor = self.policy.min_priority_fee
        self.min_priority_fee = default_min_priority_fee(chain_id) if floor is None else floor
        cap = self.policy.max_priority_fee
        if cap is not None and cap < self.min_priority_fee:
            raise ConfigError(
                f"fee policy: max_priority_fee ({cap} wei) is below chain {chain_id}'s minimum priority fee "
                f"({self.min_priority_fee} wei): no transaction could be accepted"
            )
        self._priority: int | None = (
            None if self.policy.mode == "percentile" else self._clamp(self.policy.fixed_priority_fee)
        )
        self._refreshed_at: int | None = None
        self._refresh_task: asyncio.Task[Any] | None = None
        self.current: Fees | None = None

    # ------------------------------------------------------------------ pure parts
    def _clamp(self, priority: int) -> int:
        cap = self.policy.max_priority_fee
        if cap is not None:
            priority = min(priority, cap)
        return max(priority, self.min_priority_fee)

    def priority_from_history(self, history: dict[str, Any]) -> int:
        """The policy's priority fee from an ``eth_feeHistory`` answer with one reward percentile."""
        if self.policy.mode == "fixed":
            return self._clamp(self.policy.fixed_priority_fee)
        rewards = history.get("reward") or []
        ratios = history.get("gasUsedRatio") or [1.0] * len(rewards)
        samples = [int(r[0], 16) for r, ratio in zip(rewards, ratios) if r and ratio and ratio > 0]
        if not samples:
            return self._clamp(self.policy.fixed_priority_fee)
        return self._clamp(int(statistics.median_low(samples)))

    def compute(self, base_fee: int, priority: int | None = None, *, block_number: int | None = None) -> Fees:
        """Fees for a block whose base fee is ``base_fee``."""
        if priority is None:
            priority = (
                self._priority if self._priority is not None else self._clamp(self.policy.fixed_priority_fee)
            )
        mult = self.policy.base_fee_multiplier
        assert isinstance(mult, Fraction)
        max_fee = _ceil_div(base_fee * mult.numerator, mult.denominator) + priority
        return Fees(
            base_fee=base_fee,
            max_priority_fee_per_gas=priority,
            max_fee_per_gas=max_fee,
            block_number=block_number,
        )

    # ------------------------------------------------------------------ chain
    async def refresh(self) -> Fees:
        """Reads ``eth_feeHistory`` (the node's next base fee, recent tips) and the latest header in one
        batched request, and updates ``current``. When the node's fee history lags its head (anvil fills it
        asynchronously), the next base fee is computed from the header instead."""
        if self.rpc is None:
            raise FeeError("FeeOracle has no RPC client to refresh from")
        pct = [self.policy.percentile] if self.policy.mode == "percentile" else []
        try:
            history, block = await self.rpc.batch(
                [
                    ("eth_feeHistory", [hex(self.policy.history_blocks), "latest", pct]),
                    ("eth_getBlockByNumber", ["latest", False]),
                ]
            )
        except RpcError as exc:
            raise FeeError(f"cannot read fee history: {exc}") from None
        if isinstance(block, Exception) or not isinstance(block, dict):
            raise FeeError(f"cannot read the latest block: {block}")
        if block.get("baseFeePerGas") is None:
            raise FeeError("the chain reports no base fee (not an EIP-1559 chain?)")
        number = int(block["number"], 16)
        next_base = next_base_fee(
            int(block["baseFeePerGas"], 16),
            int(block["gasUsed"], 16),
            int(block["gasLimit"], 16),
            self.policy.base_fee_change_denominator,
        )
        if isinstance(history, dict) and history.get("baseFeePerGas"):
            oldest = int(history.get("oldestBlock", "0x0"), 16)
            newest = oldest + len(history.get("gasUsedRatio") or ()) - 1
            if newest == number:
                next_base = int(history["baseFeePerGas"][-1], 16)
            self._priority = self.priority_from_history(history)
        elif self.policy.mode == "percentile":
            log.warning("fee history unavailable (%s); keeping the previous priority fee", history)
        self._refreshed_at = number
        fees = self.compute(next_base, block_number=number + 1)
        if self.current is None or (self.current.block_number or 0) <= number + 1:
            self.current = fees
        return fees

    def on_head(self, head: Head) -> Fees:
        """Fees for the block after ``head``, without I/O; schedules a background refresh when one is due."""
        if head.base_fee is None:
            raise FeeError(f"block {head.number} has no base fee")
        base = next_base_fee(
            head.base_fee, head.gas_used, head.gas_limit, self.policy.base_fee_change_denominator
        )
        due = self._refreshed_at is None or head.number - self._refreshed_at >= self.policy.refresh_every
        if due and self.policy.mode == "percentile" and self.rpc is not None:
            self._schedule_refresh()
        self.current = self.compute(base, block_number=head.number + 1)
        return self.current

    def _schedule_refresh(self) -> None:
        if self._refresh_task is not None and not self._refresh_task.done():
            return

        async def run() -> None:
            try:
                await self.refresh()
            except FeeError as exc:
                log.warning("fee refresh failed: %s", exc)

        try:
            self._refresh_task = asyncio.get_running_loop().create_task(run(), name="flasharb-fee-refresh")
        except RuntimeError:  # no running loop: the caller is synchronous; the next refresh() call catches up
            self._refresh_task = None


def priority_samples(history: dict[str, Any]) -> Sequence[int]:
    """All reward values of an ``eth_feeHistory`` answer (first percentile), for logs and reports."""
    return [int(r[0], 16) for r in history.get("reward") or [] if r]
