"""The P&L store's writes and reads, each on SQLite and on a real PostgreSQL server (``store``: both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from store_helpers import (
    EXECUTOR,
    POOL_A,
    POOL_B,
    SENDER,
    T0,
    TOKEN,
    WETH,
    opportunity_fields,
    plan_bytes,
    record_trade,
    tx_fields,
    tx_hash,
)

from flasharb.exceptions import FlasharbError
from flasharb.store import (
    DecisionKind,
    Store,
    StoreError,
    TxStatus,
    UnknownTransaction,
    opportunity_id,
    route_shape,
)

UINT128_MAX = 2**128 - 1


# ---------------------------------------------------------------------------------------------- opportunities
def test_record_opportunity_round_trips_every_field(store: Store) -> None:
    fields = opportunity_fields(amount_in=UINT128_MAX, expected_profit=-(2**200), premium=2**130)
    oid = store.record_opportunity(**fields)

    rec = store.get_opportunity(oid)
    assert rec is not None
    assert rec.id == oid == opportunity_id(137, 100, "arbitrage", fields["plan"])
    assert (rec.chain_id, rec.block_number, rec.strategy) == (137, 100, "arbitrage")
    assert rec.route_shape == "3-hop V2/V3/V2"
    assert rec.dexes == ("QuickSwap", "UniswapV3", "SushiSwap")
    assert rec.pools == (POOL_A, POOL_B, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")
    assert rec.lender == "BALANCER"
    assert rec.loan_token == TOKEN
    assert rec.amount_in == UINT128_MAX  # exact past 64 bits
    assert rec.expected_profit == -(2**200)
    assert rec.premium == 2**130
    assert rec.gas_estimate == 250_000
    assert rec.plan == fields["plan"]
    assert rec.created_at == T0 and rec.created_at.tzinfo is not None


def test_record_opportunity_is_idempotent(store: Store) -> None:
    first = store.record_opportunity(**opportunity_fields())
    again = store.record_opportunity(**opportunity_fields(created_at=T0 + timedelta(hours=1)))
    assert first == again
    assert len(store.opportunities()) == 1
    assert store.get_opportunity(first).created_at == T0  # the first record stays

    other_block = store.record_opportunity(**opportunity_fields(block_number=101))
    assert other_block != first
    assert store.opportunity_count() == 2


def test_record_opportunity_normalises_and_checks_input(store: Store) -> None:
    oid = store.record_opportunity(
        **opportunity_fields(
            loan_token=TOKEN.lower(), pools=[POOL_A.lower(), POOL_B.upper().replace("0X", "0x")]
        )
    )
    rec = store.get_opportunity(oid)
    assert rec.loan_token == TOKEN and rec.pools == (POOL_A, POOL_B)
    with pytest.raises(StoreError, match="loan_token: not an address"):
        store.record_opportunity(**opportunity_fields(loan_token="0x1234"))
    with pytest.raises(StoreError, match="amount_in must not be negative"):
        store.record_opportunity(**opportunity_fields(amount_in=-1))
    with pytest.raises(StoreError, match="must be an int"):
        store.record_opportunity(**opportunity_fields(gas_estimate=1.5))
    with pytest.raises(StoreError, match="not a string"):
        store.record_opportunity(**opportunity_fields(dexes="QuickSwap"))
    with pytest.raises(StoreError, match="timezone-aware"):
        store.record_opportunity(**opportunity_fields(created_at=datetime(2026, 1, 1)))
    assert store.opportunity_count() == 1


def test_route_shape_and_explicit_override(store: Store) -> None:
    assert route_shape(plan_bytes("V3", "V3")) == "2-hop V3/V3"
    assert route_shape(plan_bytes("V2", "V3", "V2", "V3")) == "4-hop V2/V3/V2/V3"
    oid = store.record_opportunity(**opportunity_fields(route_shape="triangle"))
    assert store.get_opportunity(oid).route_shape == "triangle"


def test_times_are_stored_as_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    oid = store.record_opportunity(
        **opportunity_fields(created_at=datetime(2026, 3, 1, 14, 0, tzinfo=plus_two))
    )
    assert store.get_opportunity(oid).created_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert store.get_opportunity(oid).created_at.utcoffset() == timedelta(0)


def test_injected_clock_stamps_records(store_url: str) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Store.open(store_url, clock=lambda: when) as s:
        fields = opportunity_fields()
        del fields["created_at"]
        oid = s.record_opportunity(**fields)
        s.record_decision(oid, "refuse", "min_profit")
        assert s.get_opportunity(oid).created_at == when
        assert s.decisions(oid)[0].at == when


# ---------------------------------------------------------------------------------------------- decisions
def test_decisions_are_appended_with_reason_codes(store: Store) -> None:
    oid = store.record_opportunity(**opportunity_fields())
    store.record_decision(oid, DecisionKind.REFUSE, "gas_price_too_high", "120 gwei > 100 gwei", at=T0)
    store.record_decision(
        oid, "drop", "simulation_reverted", "InsufficientProfit(12)", at=T0 + timedelta(seconds=1)
    )
    store.record_decision(
        oid, "refuse", "gas_price_too_high", "130 gwei > 100 gwei", at=T0 + timedelta(seconds=2)
    )

    got = store.decisions(oid)
    assert [(d.decision, d.reason) for d in got] == [
        (DecisionKind.REFUSE, "gas_price_too_high"),
        (DecisionKind.DROP, "simulation_reverted"),
        (DecisionKind.REFUSE, "gas_price_too_high"),
    ]
    counts = store.decision_counts()
    assert [(c.decision, c.reason, c.count) for c in counts] == [
        (DecisionKind.REFUSE, "gas_price_too_high", 2),
        (DecisionKind.DROP, "simulation_reverted", 1),
    ]
    assert counts[0].last_detail == "130 gwei > 100 gwei"
    assert counts[0].last_at == T0 + timedelta(seconds=2)


def test_decision_takes_an_enum_reason(store: Store) -> None:
    from flasharb.risk import RefusalReason

    oid = store.record_opportunity(**opportunity_fields())
    store.record_decision(oid, "refuse", RefusalReason.KILL_SWITCH)
    assert store.decisions(oid)[0].reason == RefusalReason.KILL_SWITCH.value


def test_decision_errors(store: Store) -> None:
    oid = store.record_opportunity(**opportunity_fields())
    with pytest.raises(StoreError, match="never recorded"):
        store.record_decision("ff" * 32, "refuse", "x")
    with pytest.raises(StoreError, match="decision must be one of"):
        store.record_decision(oid, "maybe", "x")
    with pytest.raises(StoreError, match="needs a reason"):
        store.record_decision(oid, "refuse", "")
    assert store.decisions() == []


# ---------------------------------------------------------------------------------------------- transactions
def test_tx_lifecycle_sent_then_mined(store: Store) -> None:
    oid = store.record_opportunity(**opportunity_fields())
    h = store.record_tx_sent(**tx_fields(7, opportunity_id=oid))
    tx = store.get_transaction(h)
    assert tx.status is TxStatus.PENDING and tx.nonce == 7 and tx.opportunity_id == oid
    assert (tx.from_address, tx.to_address) == (SENDER, EXECUTOR)
    assert (tx.gas_limit, tx.max_fee_per_gas, tx.max_priority_fee_per_gas) == (
        400_000,
        100 * 10**9,
        30 * 10**9,
    )
    assert tx.block_number is None and tx.mined_at is None

    mined_at = T0 + timedelta(seconds=3)
    status = store.record_tx_outcome(
        h, "mined", block_number=101, gas_used=180_000, effective_gas_price=51 * 10**9, mined_at=mined_at
    )
    assert status is TxStatus.MINED
    tx = store.get_transaction(h)
    assert (tx.status, tx.block_number, tx.gas_used, tx.effective_gas_price, tx.mined_at) == (
        TxStatus.MINED,
        101,
        180_000,
        51 * 10**9,
        mined_at,
    )
    # A late "dropped" from a slow mempool watcher does not undo a receipt.
    assert store.record_tx_outcome(h, "dropped") is TxStatus.MINED
    assert store.get_transaction(h).block_number == 101
    # A receipt after a reorg does overwrite.
    assert (
        store.record_tx_outcome(
            h, TxStatus.REVERTED, block_number=102, gas_used=90_000, effective_gas_price=1
        )
        is TxStatus.REVERTED
    )
    assert store.get_transaction(h).block_number == 102


def test_tx_sent_is_idempotent_and_hash_is_normalised(store: Store) -> None:
    h = store.record_tx_sent(**tx_fields(1))
    upper = "0x" + h[2:].upper()
    assert store.record_tx_sent(**tx_fields(1, tx_hash=upper, sent_at=T0 + timedelta(hours=1))) == h
    assert store.record_tx_sent(**tx_fields(1, tx_hash=bytes.fromhex(h[2:]))) == h
    assert len(store.transactions()) == 1
    assert store.get_transaction(upper).sent_at == T0


def test_replacement_and_drop(store: Store) -> None:
    first = store.record_tx_sent(**tx_fields(1, nonce=5))
    second = store.record_tx_sent(**tx_fields(2, nonce=5, max_fee_per_gas=200 * 10**9))
    store.record_tx_outcome(first, "replaced", replaced_by=second)
    store.record_tx_outcome(second, "mined", block_number=9, gas_used=1, effective_gas_price=1)
    assert store.get_transaction(first).status is TxStatus.REPLACED
    assert store.get_transaction(first).replaced_by == second
    third = store.record_tx_sent(**tx_fields(3, nonce=6))
    store.record_tx_outcome(third, "dropped")
    assert store.tx_status_counts() == {TxStatus.REPLACED: 1, TxStatus.MINED: 1, TxStatus.DROPPED: 1}


def test_pending_transactions_and_last_nonce_for_a_restart(store: Store) -> None:
    assert store.last_nonce(137, SENDER) is None
    for n in (3, 4, 5):
        store.record_tx_sent(**tx_fields(n))
    store.record_tx_sent(**tx_fields(9, chain_id=80002))
    store.record_tx_sent(**tx_fields(10, from_address=EXECUTOR))
    store.record_tx_outcome(tx_hash(3), "mined", block_number=1, gas_used=1, effective_gas_price=1)
    assert store.last_nonce(137, SENDER) == 5
    assert store.last_nonce(137, SENDER.lower()) == 5
    pending = store.transactions(chain_id=137, from_address=SENDER, status="pending")
    assert [t.nonce for t in pending] == [4, 5]


def test_outcome_errors(store: Store) -> None:
    with pytest.raises(UnknownTransaction):
        store.record_tx_outcome(tx_hash(1), "mined", block_number=1, gas_used=1, effective_gas_price=1)
    h = store.record_tx_sent(**tx_fields(1))
    with pytest.raises(StoreError, match="needs block_number"):
        store.record_tx_outcome(h, "mined")
    with pytest.raises(StoreError, match="status must be one of"):
        store.record_tx_outcome(h, "lost")
    with pytest.raises(StoreError, match="32-byte transaction hash"):
        store.record_tx_sent(**tx_fields(2, tx_hash="0x1234"))
    with pytest.raises(StoreError, match="never recorded"):
        store.record_tx_sent(**tx_fields(3, opportunity_id="ab" * 32))
    assert store.get_transaction(h).status is TxStatus.PENDING


# ---------------------------------------------------------------------------------------------- results
def test_result_exact_flag_and_net_profit(store: Store) -> None:
    exact = record_trade(store, 1, realized=5_000, gas_token=40)
    off = record_trade(store, 2, realized=5_000, predicted=5_001)
    reverted = record_trade(store, 3, realized=0, success=False, gas_token=40)

    r = store.get_result(exact)
    assert r.exact and r.success and r.realized_profit == 5_000 and r.net_profit == 4_960
    assert r.gas_cost_native == 200_000 * 50 * 10**9
    assert not store.get_result(off).exact
    rv = store.get_result(reverted)
    assert not rv.success and not rv.exact and rv.net_profit == -40
    assert store.get_transaction(reverted).status is TxStatus.REVERTED


def test_result_rerecording_replaces(store: Store) -> None:
    h = record_trade(store, 1, realized=100)
    common = dict(success=True, loan_token=TOKEN, premium=0, gas_cost_native=1, gas_cost_token=1)
    assert store.record_result(h, realized_profit=100, predicted_profit=100, **common) is True
    assert store.record_result(h, realized_profit=90, predicted_profit=100, **common) is False
    assert store.get_result(h).realized_profit == 90
    assert len(store.result_rows()) == 1
    with pytest.raises(UnknownTransaction):
        store.record_result(tx_hash(99), realized_profit=1, predicted_profit=1, **common)


def test_result_rows_join_and_window(store: Store) -> None:
    record_trade(store, 1, realized=100, at=T0)
    record_trade(
        store, 2, realized=200, at=T0 + timedelta(days=1), kinds=("V3", "V3"), dexes=["UniswapV3"] * 2
    )
    record_trade(store, 3, realized=300, at=T0 + timedelta(days=2), token=WETH)

    rows = store.result_rows()
    assert [r.realized_profit for r in rows] == [100, 200, 300]
    assert rows[0].route_shape == "3-hop V2/V3/V2" and rows[0].dexes == (
        "QuickSwap",
        "UniswapV3",
        "SushiSwap",
    )
    assert rows[1].route_shape == "2-hop V3/V3"
    assert rows[2].loan_token == WETH
    assert rows[0].at == T0 + timedelta(seconds=2)  # the mined time
    assert rows[0].day == T0.date()
    window = store.result_rows(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2))
    assert [r.realized_profit for r in window] == [200]
    assert store.result_rows(chain_id=80002) == []


# ---------------------------------------------------------------------------------------------- atomic writes
def test_atomic_batch_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="crash"):
        with store.atomic() as b:
            oid = b.record_opportunity(**opportunity_fields())
            b.record_decision(oid, "execute", "ok")
            b.record_tx_sent(**tx_fields(1, opportunity_id=oid))
            raise RuntimeError("crash between send and bookkeeping")
    assert store.opportunity_count() == 0
    assert store.decisions() == [] and store.transactions() == []


def test_failed_write_in_batch_rolls_back_earlier_ones(store: Store) -> None:
    with pytest.raises(UnknownTransaction):
        with store.atomic() as b:
            b.record_opportunity(**opportunity_fields())
            b.record_tx_outcome(tx_hash(42), "dropped")
    assert store.opportunity_count() == 0


def test_data_survives_reopen(store_url: str) -> None:
    with Store.open(store_url) as s:
        h = record_trade(s, 1, realized=123)
    with Store.open(store_url) as s:
        assert s.get_result(h).realized_profit == 123
        assert s.opportunity_count() == 1


def test_tokens_metadata_upserts(store: Store) -> None:
    store.record_token(chain_id=137, address=TOKEN.lower(), symbol="USDC", decimals=6)
    store.record_token(chain_id=137, address=TOKEN, symbol="USDC.e", decimals=6)
    tokens = store.tokens()
    assert list(tokens) == [(137, TOKEN)]
    assert tokens[(137, TOKEN)].symbol == "USDC.e"


def test_closed_store_refuses(store_url: str) -> None:
    s = Store.open(store_url)
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.record_opportunity(**opportunity_fields())
    with pytest.raises(StoreError, match="closed"):
        s.opportunity_count()


def test_store_errors_are_flasharb_errors() -> None:
    assert issubclass(StoreError, FlasharbError) and issubclass(UnknownTransaction, StoreError)
