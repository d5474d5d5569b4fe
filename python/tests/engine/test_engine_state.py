"""flasharb.engine.state: log application (unit), then sync on the replica: swaps, mints and burns through the
real routers and position manager, the drift check, and reorgs made with evm_snapshot/evm_revert."""

from __future__ import annotations

import pytest
from engine_chain import units, v2_swap, v3_burn, v3_mint, v3_position_liquidity, v3_swap
from eth_abi import encode

from flasharb.bench.engine import v3_state
from flasharb.engine import PoolRegistry, StateSync, V2State
from flasharb.engine.rpc import LogEntry
from flasharb.engine.state import (
    BURN_TOPIC,
    MINT_TOPIC,
    SWAP_TOPIC,
    SYNC_TOPIC,
    apply_log,
    compare_states,
)
from flasharb.math.uniswap_v3.tick_math import get_sqrt_ratio_at_tick


def _log(topics: list[str], data: bytes) -> LogEntry:
    return LogEntry(("0xpool", tuple(topics), data, 1, "0xblock", 0))


def _tick_topic(tick: int) -> str:
    return "0x" + (tick % (1 << 256)).to_bytes(32).hex()


def _pool():
    # price at tick 0, positions [-600, 600) and [-120, 120), spacing 60, window covering +-30720
    return v3_state(
        get_sqrt_ratio_at_tick(0) + 10**20,
        3000,
        [(-600, 600, 10**18), (-120, 120, 4 * 10**18)],
        words_each_side=2,
    )


# ---------------------------------------------------------------------------------------------- unit
def test_sync_sets_v2_reserves():
    state, refresh = apply_log(V2State(1, 2), _log([SYNC_TOPIC], encode(["uint112", "uint112"], [7, 9])))
    assert state == V2State(7, 9) and not refresh


def test_swap_sets_price_tick_liquidity():
    s = _pool()
    sqrt = get_sqrt_ratio_at_tick(-200) + 5
    data = encode(["int256", "int256", "uint160", "uint128", "int24"], [10, -9, sqrt, 10**18, -200])
    new, refresh = apply_log(s, _log([SWAP_TOPIC, "0x" + "0" * 64, "0x" + "0" * 64], data))
    assert (new.sqrt_price_x96, new.tick, new.liquidity) == (sqrt, -200, 10**18)
    assert new.ticks == s.ticks and not refresh


def test_swap_near_window_edge_asks_for_a_reread():
    s = _pool()
    tick = s.tick_upper_bound - 60
    data = encode(
        ["int256", "int256", "uint160", "uint128", "int24"], [1, -1, get_sqrt_ratio_at_tick(tick), 1, tick]
    )
    _, refresh = apply_log(s, _log([SWAP_TOPIC, "0x" + "0" * 64, "0x" + "0" * 64], data))
    assert refresh


def _mint(lower: int, upper: int, amount: int) -> LogEntry:
    data = encode(["address", "uint128", "uint256", "uint256"], ["0x" + "11" * 20, amount, 1, 1])
    return _log([MINT_TOPIC, "0x" + "0" * 64, _tick_topic(lower), _tick_topic(upper)], data)


def _burn(lower: int, upper: int, amount: int) -> LogEntry:
    data = encode(["uint128", "uint256", "uint256"], [amount, 1, 1])
    return _log([BURN_TOPIC, "0x" + "0" * 64, _tick_topic(lower), _tick_topic(upper)], data)


def test_mint_in_range_adds_ticks_and_liquidity():
    s = _pool()
    new, refresh = apply_log(s, _mint(-60, 180, 5))
    assert new.liquidity == s.liquidity + 5
    assert new.liquidity_net[-60] == 5 and new.liquidity_net[180] == -5
    assert new.ticks == tuple(sorted(set(s.ticks) | {-60, 180})) and not refresh


def test_mint_out_of_range_leaves_active_liquidity():
    s = _pool()
    new, _ = apply_log(s, _mint(1200, 2400, 5))
    assert new.liquidity == s.liquidity and new.liquidity_net[1200] == 5


def test_mint_outside_the_window_is_left_to_the_next_read():
    s = _pool()
    far = s.tick_upper_bound + 600
    new, refresh = apply_log(s, _mint(far, far + 60, 5))
    assert new.ticks == s.ticks and new.liquidity == s.liquidity and not refresh


def test_partial_burn_keeps_ticks():
    s = _pool()
    new, refresh = apply_log(s, _burn(-120, 120, 10**18))
    assert new.liquidity == s.liquidity - 10**18
    assert new.liquidity_net[-120] == 3 * 10**18 and not refresh


def test_burn_to_zero_net_asks_for_a_reread():
    s = _pool()
    new, refresh = apply_log(s, _burn(-120, 120, 4 * 10**18))
    assert refresh and new.liquidity_net[-120] == 0  # kept (may still be initialised) until the re-read


def test_poke_changes_nothing():
    s = _pool()
    new, refresh = apply_log(s, _burn(-120, 120, 0))
    assert new is s and not refresh


def test_compare_states_reports_fields():
    a = _pool()
    b, _ = apply_log(a, _mint(-60, 180, 5))
    fields = dict((f, (x, y)) for f, x, y in compare_states(a, b))
    assert set(fields) == {"liquidity", "liquidity_net"}
    assert compare_states(V2State(1, 2), V2State(1, 3)) == (("reserve1", 2, 3),)


# ---------------------------------------------------------------------------------------------- replica
@pytest.fixture()
def synced(rpc, lens, engine_config, chain_snapshot):
    registry = PoolRegistry(engine_config)
    registry.sync(rpc)
    sync = StateSync(rpc, lens, registry.pools(), max_reorg_depth=16)
    sync.bootstrap()
    return sync


def _pool_address(replica, rpc, engine_config, sym_a, sym_b, fee=None, dex=None):
    a, b = replica.token(sym_a).address, replica.token(sym_b).address
    registry = PoolRegistry(engine_config)
    registry.sync(rpc)
    for p in registry.pools():
        if (
            {p.token0, p.token1} == {a, b}
            and (fee is None or p.fee_pips == fee)
            and (dex is None or p.dex == dex)
        ):
            if fee is not None and p.kind.value != "v3":
                continue
            return p.address
    raise AssertionError("pool not found")


@pytest.mark.chain
def test_bootstrap_matches_a_fresh_snapshot(synced):
    report = synced.check_consistency()
    assert report.ok and report.checked == 35 and not report.unreadable


@pytest.mark.chain
def test_logs_follow_swaps_mints_and_burns(synced, w3, replica, rpc, engine_config):
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 20_000))
    v3_swap(w3, replica, "USDC", "WETH", 500, units(replica, "USDC", 150_000))  # crosses the +-200 range
    tick = synced.states[_pool_address(replica, rpc, engine_config, "WETH", "USDC", 500)].tick
    v3_mint(
        w3,
        replica,
        "WETH",
        "USDC",
        500,
        (tick // 10 - 30) * 10,
        (tick // 10 + 50) * 10,
        units(replica, "WETH", 10_000),
        units(replica, "USDC", 10_000),
    )
    v3_burn(w3, replica, 3, v3_position_liquidity(w3, replica, 3) // 3)  # WETH/USDC 0.05%, +-1000: partial
    update = synced.poll()
    assert len(update.applied) >= 7 and not update.reorg
    assert _pool_address(replica, rpc, engine_config, "WETH", "USDC", dex="quickswap") in update.changed
    assert _pool_address(replica, rpc, engine_config, "WETH", "USDC", 500) in update.changed
    report = synced.check_consistency()
    assert report.ok, report.drift


@pytest.mark.chain
def test_full_burn_rereads_the_pool(synced, w3, replica, rpc, engine_config):
    pool = _pool_address(replica, rpc, engine_config, "WETH", "USDC", 500)
    v3_burn(w3, replica, 4, v3_position_liquidity(w3, replica, 4))  # the +-200 position: its ticks clear
    update = synced.poll()
    assert pool in update.refreshed
    assert synced.check_consistency().ok


@pytest.mark.chain
def test_drift_is_reported_and_repaired(synced):
    address = next(a for a, s in synced.states.items() if isinstance(s, V2State))
    true = synced.states[address]
    synced.states[address] = V2State(true.reserve0 + 1, true.reserve1)
    report = synced.check_consistency(repair=True)
    assert [d.address for d in report.drift] == [address]
    assert report.drift[0].fields == (("reserve0", true.reserve0 + 1, true.reserve0),)
    assert synced.states[address] == true and synced.check_consistency().ok


@pytest.mark.chain
def test_reorg_rolls_back_and_resyncs(synced, devchain, w3, replica, rpc, engine_config):
    quick = _pool_address(replica, rpc, engine_config, "WETH", "USDC", dex="quickswap")
    sushi = _pool_address(replica, rpc, engine_config, "WETH", "USDC", dex="sushiswap")
    v3 = _pool_address(replica, rpc, engine_config, "WBTC", "WETH", 3000)
    before = dict(synced.states)
    fork_point = devchain.snapshot()
    # branch A: three blocks moving QuickSwap WETH/USDC and the WBTC/WETH 0.3% pool
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 30_000))
    v3_swap(w3, replica, "WBTC", "WETH", 3000, units(replica, "WBTC", 20_000))
    first = synced.poll()
    assert first.changed >= {quick, v3} and not first.reorg
    branch_a_head = synced.head
    # the chain drops branch A: branch B moves SushiSwap instead (same heights, other blocks)
    devchain.revert(fork_point)
    v2_swap(w3, replica, "sushiswap", "USDC", "WETH", units(replica, "USDC", 40_000))
    update = synced.poll()
    assert update.reorg and update.dropped
    assert branch_a_head in update.dropped
    assert update.ancestor is not None and update.ancestor.number < branch_a_head.number
    assert {quick, v3} <= update.changed and sushi in update.changed
    # the pools branch A had moved are back to their pre-fork state; the drift check agrees with the chain
    assert synced.states[quick] == before[quick]
    assert synced.states[v3].sqrt_price_x96 == before[v3].sqrt_price_x96
    assert synced.check_consistency().ok


@pytest.mark.chain
def test_same_height_reorg_is_detected(synced, devchain, w3, replica, rpc, engine_config):
    quick = _pool_address(replica, rpc, engine_config, "WETH", "USDC", dex="quickswap")
    fork_point = devchain.snapshot()
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 30_000))
    synced.poll()
    height = synced.head.number
    devchain.revert(fork_point)
    while int(devchain.rpc("eth_blockNumber"), 16) < height:
        devchain.rpc("evm_mine")
    update = synced.poll()
    assert update.reorg and quick in update.changed
    assert synced.check_consistency().ok
