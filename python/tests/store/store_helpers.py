"""Builders for store tests: plans and a filled-in record of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flasharb.route import Lender, Plan, V2Step, V3Step, encode_plan
from flasharb.store import Store

TOKEN = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"  # USDC.e on Polygon (any checksummed address would do)
WETH = "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619"
SENDER = "0x1111111111111111111111111111111111111111"
EXECUTOR = "0x2222222222222222222222222222222222222222"
POOL_A = "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"
POOL_B = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"
POOL_C = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def plan_bytes(*kinds: str, amount_in: int = 10**9, deadline: int = 1000, token: str = TOKEN) -> bytes:
    pools = [POOL_A, POOL_B, POOL_C, POOL_A, POOL_B, POOL_C, POOL_A, POOL_B]
    steps = []
    for kind, pool in zip(kinds, pools, strict=False):
        steps.append(V2Step(pool, True, 3000) if kind == "V2" else V3Step(pool, False, token))
    return encode_plan(Plan(Lender.BALANCER, deadline, token, amount_in, 0, tuple(steps)))


def opportunity_fields(**over: Any) -> dict[str, Any]:
    kinds = over.pop("kinds", ("V2", "V3", "V2"))
    fields: dict[str, Any] = dict(
        chain_id=137,
        block_number=100,
        loan_token=TOKEN,
        amount_in=10**9,
        expected_profit=1_000,
        premium=0,
        gas_estimate=250_000,
        plan=plan_bytes(*kinds),
        dexes=["QuickSwap", "UniswapV3", "SushiSwap"][: len(kinds)],
        pools=[POOL_A, POOL_B, POOL_C][: len(kinds)],
        lender="BALANCER",
        created_at=T0,
    )
    fields.update(over)
    return fields


def tx_hash(n: int) -> str:
    return "0x" + f"{n:064x}"


def tx_fields(n: int, **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        tx_hash=tx_hash(n),
        chain_id=137,
        nonce=n,
        from_address=SENDER,
        to_address=EXECUTOR,
        gas_limit=400_000,
        max_fee_per_gas=100 * 10**9,
        max_priority_fee_per_gas=30 * 10**9,
        sent_at=T0,
    )
    fields.update(over)
    return fields


def record_trade(
    store: Store,
    n: int,
    *,
    realized: int,
    predicted: int | None = None,
    gas_token: int = 10,
    success: bool = True,
    kinds: tuple[str, ...] = ("V2", "V3", "V2"),
    dexes: list[str] | None = None,
    at: datetime = T0,
    token: str = TOKEN,
) -> str:
    """One opportunity, its execute decision, a sent transaction, its receipt and result; the tx hash."""
    opp = opportunity_fields(block_number=1000 + n, kinds=kinds, created_at=at, loan_token=token)
    opp["plan"] = plan_bytes(*kinds, token=token)
    if dexes is not None:
        opp["dexes"] = dexes
    with store.atomic() as b:
        oid = b.record_opportunity(**opp)
        b.record_decision(oid, "execute", "ok", at=at)
        h = b.record_tx_sent(**tx_fields(n, opportunity_id=oid, sent_at=at))
        b.record_tx_outcome(
            h,
            "mined" if success else "reverted",
            block_number=1001 + n,
            gas_used=200_000,
            effective_gas_price=50 * 10**9,
            mined_at=at + timedelta(seconds=2),
        )
        b.record_result(
            h,
            success=success,
            loan_token=token,
            realized_profit=realized if success else 0,
            premium=0,
            gas_cost_native=200_000 * 50 * 10**9,
            gas_cost_token=gas_token,
            predicted_profit=realized if predicted is None else predicted,
        )
    return h
