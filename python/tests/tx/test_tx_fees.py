"""EIP-1559 fee policy: pure rules, and agreement with anvil's base fee."""

from __future__ import annotations

from fractions import Fraction

import pytest
from txhelpers import funded_account

from flasharb.exceptions import ConfigError
from flasharb.tx import Endpoint, FeeOracle, FeePolicy, Fees, Head, RpcClient, default_min_priority_fee
from flasharb.tx.fees import GWEI, next_base_fee


def _history(rewards: list[int], ratios: list[float], base: list[int]) -> dict:
    return {
        "oldestBlock": hex(100),
        "baseFeePerGas": [hex(b) for b in base],
        "gasUsedRatio": ratios,
        "reward": [[hex(r)] for r in rewards],
    }


def test_polygon_floor_is_30_gwei_and_local_is_zero():
    assert default_min_priority_fee(137) == default_min_priority_fee(80002) == 30 * GWEI
    assert default_min_priority_fee(31337) == 0 and default_min_priority_fee(1) == 0
    polygon = FeeOracle(None, FeePolicy(mode="fixed", fixed_priority_fee=1 * GWEI), chain_id=137)
    assert polygon.compute(100 * GWEI).max_priority_fee_per_gas == 30 * GWEI
    local = FeeOracle(None, FeePolicy(mode="fixed", fixed_priority_fee=1 * GWEI), chain_id=31337)
    assert local.compute(100 * GWEI).max_priority_fee_per_gas == 1 * GWEI
    # The floor is configurable (a network that changes its rule).
    lowered = FeeOracle(
        None, FeePolicy(mode="fixed", fixed_priority_fee=1 * GWEI, min_priority_fee=25 * GWEI), chain_id=137
    )
    assert lowered.compute(GWEI).max_priority_fee_per_gas == 25 * GWEI


def test_cap_and_floor():
    oracle = FeeOracle(
        None, FeePolicy(mode="fixed", fixed_priority_fee=500 * GWEI, max_priority_fee=80 * GWEI), chain_id=137
    )
    assert oracle.compute(GWEI).max_priority_fee_per_gas == 80 * GWEI
    with pytest.raises(ConfigError, match="below chain 137's minimum"):
        FeeOracle(None, FeePolicy(max_priority_fee=10 * GWEI), chain_id=137)


def test_max_fee_is_base_times_multiplier_plus_priority():
    oracle = FeeOracle(None, FeePolicy(mode="fixed", fixed_priority_fee=2 * GWEI), chain_id=31337)
    fees = oracle.compute(7 * GWEI + 1)
    assert fees.max_fee_per_gas == 2 * (7 * GWEI + 1) + 2 * GWEI
    oracle = FeeOracle(
        None, FeePolicy(mode="fixed", fixed_priority_fee=0, base_fee_multiplier="1.5"), chain_id=31337
    )
    assert oracle.compute(3).max_fee_per_gas == 5  # ceil(4.5)
    assert FeePolicy(base_fee_multiplier=1.25).base_fee_multiplier == Fraction(5, 4)
    with pytest.raises(ConfigError):
        FeePolicy(base_fee_multiplier=0.5)
    with pytest.raises(ConfigError):
        FeePolicy(percentile=101)


def test_percentile_policy_takes_the_median_of_non_empty_blocks():
    oracle = FeeOracle(None, FeePolicy(mode="percentile", percentile=60), chain_id=31337)
    history = _history([5 * GWEI, 0, 1 * GWEI, 9 * GWEI, 0], [0.5, 0.0, 0.2, 0.9, 0.0], [GWEI] * 6)
    assert oracle.priority_from_history(history) == 5 * GWEI
    capped = FeeOracle(None, FeePolicy(mode="percentile", max_priority_fee=40 * GWEI), chain_id=137)
    busy = _history([100 * GWEI, 120 * GWEI, 90 * GWEI], [0.9, 0.8, 0.7], [GWEI] * 4)
    assert capped.priority_from_history(busy) == 40 * GWEI
    quiet = _history([0, 0], [0.0, 0.0], [GWEI] * 3)
    assert capped.priority_from_history(quiet) == 30 * GWEI  # no sample: the floor


def test_bumps_are_at_least_the_requested_share():
    fees = Fees(base_fee=GWEI, max_priority_fee_per_gas=30 * GWEI, max_fee_per_gas=32 * GWEI)
    bumped = fees.bumped(1250)
    assert bumped.max_priority_fee_per_gas * 1000 >= fees.max_priority_fee_per_gas * 1125
    assert bumped.max_fee_per_gas * 1000 >= fees.max_fee_per_gas * 1125
    assert fees.bumped(1000).max_fee_per_gas > fees.max_fee_per_gas * 11 // 10


def test_next_base_fee_rule():
    assert next_base_fee(1000, 50, 100) == 1000
    assert next_base_fee(1000, 100, 100) == 1125
    assert next_base_fee(1000, 0, 100) == 875


async def test_oracle_matches_anvil_base_fee(anvil):
    acct = funded_account(anvil)
    async with RpcClient([Endpoint("local", anvil.url)], health_interval=None) as rpc:
        oracle = FeeOracle(rpc, FeePolicy(mode="percentile", percentile=50, history_blocks=5))
        anvil.mine(3)
        fees = await oracle.refresh()
        anvil.mine()
        mined = await rpc.get_block("latest")
        assert fees.base_fee == int(mined["baseFeePerGas"], 16)
        assert fees.block_number == int(mined["number"], 16)
        # on_head (no I/O) predicts the next block's base fee from the head, as the chain computes it.
        head = Head.from_json(mined, "test")
        predicted = oracle.on_head(head)
        tx_hash = anvil.rpc("eth_sendRawTransaction", ["0x" + _signed_transfer(acct.key, predicted).hex()])
        after = await rpc.get_block(int(anvil.receipt(tx_hash)["blockNumber"], 16))
        assert int(after["number"], 16) == head.number + 1
        assert predicted.base_fee == int(after["baseFeePerGas"], 16)
        assert predicted.max_fee_per_gas == 2 * predicted.base_fee + predicted.max_priority_fee_per_gas
        if oracle._refresh_task is not None:
            await oracle._refresh_task


def _signed_transfer(key: str, fees: Fees) -> bytes:
    from eth_account import Account

    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": 0,
        "to": "0x000000000000000000000000000000000000dEaD",
        "value": 1,
        "data": b"",
        "gas": 21000,
        **fees.tx_fields(),
    }
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)
