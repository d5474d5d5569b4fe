"""flasharb.lens against the replica on anvil: every field equals a direct call to the pool."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode as abi_encode
from web3 import Web3

from flasharb.lens import (
    LENS_ADDRESS,
    SNAPSHOT_SIGNATURE,
    LensError,
    PoolLensClient,
    decode_snapshot_result,
    decode_snapshot_result_abi,
    encode_snapshot_call,
    forge_out_dir,
    load_runtime_code,
)
from flasharb.math.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState, quote_exact_input

pytestmark = pytest.mark.chain

def _fn(name: str, inputs: tuple[str, ...], outputs: tuple[str, ...], mutability: str = "view") -> dict:
    return {
        "name": name,
        "type": "function",
        "stateMutability": mutability,
        "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(inputs)],
        "outputs": [{"name": "", "type": t} for t in outputs],
    }


V2_ABI = [
    _fn("getReserves", (), ("uint112", "uint112", "uint32")),
    _fn("token0", (), ("address",)),
    _fn("token1", (), ("address",)),
]
TICK_INFO = ("uint128", "int128", "uint256", "uint256", "int56", "uint160", "uint32", "bool")
V3_ABI = [
    _fn("slot0", (), ("uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool")),
    _fn("liquidity", (), ("uint128",)),
    _fn("fee", (), ("uint24",)),
    _fn("tickSpacing", (), ("int24",)),
    _fn("tickBitmap", ("int16",), ("uint256",)),
    _fn("ticks", ("int24",), TICK_INFO),
]
ERC20_ABI = [
    _fn("approve", ("address", "uint256"), ("bool",), "nonpayable"),
    _fn("deposit", (), (), "payable"),
]
ROUTER_V2_ABI = [
    _fn("swapExactTokensForTokens", ("uint256", "uint256", "address[]", "address", "uint256"), ("uint256[]",),
        "nonpayable"),
]
ROUTER_V3_ABI = [
    {
        **_fn("exactInputSingle", (), ("uint256",), "payable"),
        "inputs": [
            {
                "name": "params",
                "type": "tuple",
                "components": [
                    {"name": n, "type": t}
                    for n, t in (
                        ("tokenIn", "address"),
                        ("tokenOut", "address"),
                        ("fee", "uint24"),
                        ("recipient", "address"),
                        ("deadline", "uint256"),
                        ("amountIn", "uint256"),
                        ("amountOutMinimum", "uint256"),
                        ("sqrtPriceLimitX96", "uint160"),
                    )
                ],
            }
        ],
    },
]


@pytest.fixture(scope="module")
def client(devchain):
    with PoolLensClient(devchain.url, batch_size=200, words_each_side=2) as c:
        yield c


def _compress(tick: int, spacing: int) -> int:
    return tick // spacing  # Python's // floors, as the pool's compression does


def _direct_ticks(pool, lower: int, upper: int, spacing: int) -> dict[int, int]:
    """Initialised ticks in [lower, upper] from the pool's own tickBitmap and ticks."""
    out = {}
    for word in range(_compress(lower, spacing) >> 8, (_compress(upper, spacing) >> 8) + 1):
        bits = pool.functions.tickBitmap(word).call()
        for bit in range(256):
            if bits >> bit & 1:
                tick = ((word << 8) + bit) * spacing
                gross, net, *_, initialized = pool.functions.ticks(tick).call()
                assert initialized and gross > 0
                out[tick] = net
    return out


def _assert_v2_matches(w3, snap, with_tokens: bool) -> None:
    pair = w3.eth.contract(address=snap.address, abi=V2_ABI)
    r0, r1, ts = pair.functions.getReserves().call()
    assert (snap.reserve0, snap.reserve1, snap.block_timestamp_last) == (r0, r1, ts)
    assert r0 > 0 and r1 > 0
    if with_tokens:
        assert (snap.token0, snap.token1) == (pair.functions.token0().call(), pair.functions.token1().call())
    else:
        assert snap.token0 is None and snap.token1 is None


def _assert_v3_matches(w3, snap, words: int) -> None:
    pool = w3.eth.contract(address=snap.address, abi=V3_ABI)
    sqrt_price, tick, *_ = pool.functions.slot0().call()
    spacing = pool.functions.tickSpacing().call()
    assert (snap.sqrt_price_x96, snap.tick) == (sqrt_price, tick)
    assert snap.liquidity == pool.functions.liquidity().call()
    assert snap.fee == pool.functions.fee().call()
    assert snap.tick_spacing == spacing
    word = _compress(tick, spacing) >> 8
    assert snap.tick_lower_bound == max(((word - words) << 8) * spacing, MIN_TICK)
    assert snap.tick_upper_bound == min((((word + words) << 8) + 255) * spacing, MAX_TICK)
    direct = _direct_ticks(pool, snap.tick_lower_bound, snap.tick_upper_bound, spacing)
    assert snap.ticks == tuple(sorted(direct))
    assert dict(snap.liquidity_net) == direct


# ---------------------------------------------------------------------------------------------- reads
def test_snapshot_matches_direct_calls(client, replica, w3):
    snap = client.snapshot(replica.pools.v2, replica.pools.v3, with_tokens=True)
    assert snap.block_number == w3.eth.block_number
    assert len(snap.v2) == 22 and len(snap.v3) == 13 and snap.failed == ()
    for expected, got in zip(replica.pools.v2, snap.v2):
        assert got.address == Web3.to_checksum_address(expected)
        _assert_v2_matches(w3, got, with_tokens=True)
    for expected, got in zip(replica.pools.v3, snap.v3):
        assert got.address == Web3.to_checksum_address(expected)
        _assert_v3_matches(w3, got, words=2)
        assert len(got.ticks) >= 6  # the replica's +-2%, +-10% and +-40% positions


@pytest.mark.parametrize("words", [0, 1, 5])
def test_snapshot_window_follows_words_each_side(client, replica, w3, words):
    snap = client.snapshot((), replica.pools.v3[:4], words_each_side=words)
    for got in snap.v3:
        _assert_v3_matches(w3, got, words)


def test_full_window_gives_complete_pool_states(client, replica):
    snap = client.snapshot((), replica.pools.v3, words_each_side=1000)
    for got in snap.v3:
        state = got.to_pool_state()
        assert isinstance(state, V3PoolState) and state.complete
        assert len(state.ticks) == 8  # four positions
        assert sum(state.liquidity_net.values()) == 0
        assert sum(n for t, n in state.liquidity_net.items() if t <= state.tick) == state.liquidity


def test_unreadable_pools_are_none_and_keep_their_places(client, replica, w3):
    v2, v3 = replica.pools.v2, replica.pools.v3
    weth = replica.token("WETH").address
    no_code = "0x000000000000000000000000000000000000dEaD"
    pairs = [no_code, v2[0], v3[0], weth, v2[1], v2[0]]
    pools = [v3[2], v2[3], no_code, weth, v3[2]]
    snap = client.snapshot(pairs, pools)
    assert [p is not None for p in snap.v2] == [False, True, False, False, True, True]
    assert [p is not None for p in snap.v3] == [True, False, False, False, True]
    assert snap.failed == (0, 2, 3, 6 + 1, 6 + 2, 6 + 3)
    assert snap.v2[1] == snap.v2[5]  # duplicates are read twice, identically
    _assert_v2_matches(w3, snap.v2[4], with_tokens=False)
    _assert_v3_matches(w3, snap.v3[4], words=2)


def test_batches_pin_one_block_and_equal_a_single_call(devchain, replica):
    pairs = [replica.pools.v2[i % 22] for i in range(40)]
    pools = [replica.pools.v3[i % 13] for i in range(20)]
    with PoolLensClient(devchain.url) as one, PoolLensClient(devchain.url, batch_size=7) as many:
        assert len(many._batches(pairs, pools)) > 1
        assert many.snapshot(pairs, pools) == one.snapshot(pairs, pools)


def test_snapshot_at_a_past_block_and_after_swaps(client, replica, w3, chain_snapshot):
    """Swaps through the real routers move exactly the pools they touch, a pinned block still reads the past,
    and a snapshot's V3PoolState quotes the real swap to the wei."""
    before = client.snapshot(replica.pools.v2, replica.pools.v3)
    admin = Web3.to_checksum_address(replica.admin)
    wmatic = w3.eth.contract(address=Web3.to_checksum_address(replica.token("WMATIC").address), abi=ERC20_ABI)
    usdc = Web3.to_checksum_address(replica.token("USDC").address)
    amount = 200_000 * 10**18
    wmatic.functions.deposit().transact({"from": admin, "value": 2 * amount})
    quick = Web3.to_checksum_address(replica.quickswap.router)
    v3_router = Web3.to_checksum_address(replica.uniswap_v3.swap_router)
    wmatic.functions.approve(quick, amount).transact({"from": admin})
    wmatic.functions.approve(v3_router, amount).transact({"from": admin})
    w3.eth.contract(address=quick, abi=ROUTER_V2_ABI).functions.swapExactTokensForTokens(
        amount, 0, [wmatic.address, usdc], admin, 2**255
    ).transact({"from": admin})
    swap_v3 = w3.eth.contract(address=v3_router, abi=ROUTER_V3_ABI).functions.exactInputSingle(
        (wmatic.address, usdc, 500, admin, 2**255, amount, 0, 0)
    )
    state = before.v3[2].to_pool_state()
    zero_for_one = int(wmatic.address, 16) < int(usdc, 16)
    assert quote_exact_input(state, zero_for_one, amount) == swap_v3.call({"from": admin})
    swap_v3.transact({"from": admin})

    after = client.snapshot(replica.pools.v2, replica.pools.v3)
    # (not an exact count: after an evm_revert anvil may fold a re-sent identical transaction into no new block)
    assert after.block_number > before.block_number
    moved_v2 = [i for i, (a, b) in enumerate(zip(before.v2, after.v2)) if a.reserve0 != b.reserve0]
    moved_v3 = [i for i, (a, b) in enumerate(zip(before.v3, after.v3)) if a != b]
    assert moved_v2 == [0]  # QuickSwap WMATIC/USDC is the first pair the replica adds
    assert moved_v3 == [2]  # Uniswap V3 WMATIC/USDC 0.05% is its third pool
    _assert_v2_matches(w3, after.v2[0], with_tokens=False)
    _assert_v3_matches(w3, after.v3[2], words=2)
    assert client.snapshot(replica.pools.v2, replica.pools.v3, block=before.block_number) == before


# ---------------------------------------------------------------------------------------------- codec
def test_fast_decoder_equals_eth_abi(client, replica, devchain):
    pairs = list(replica.pools.v2) + ["0x000000000000000000000000000000000000dEaD"]
    pools = list(replica.pools.v3) + [replica.pools.v2[0]]
    for with_tokens in (False, True):
        calldata = encode_snapshot_call(pairs, with_tokens, pools, 3)
        raw = devchain.rpc("eth_call", [{"to": LENS_ADDRESS, "data": calldata}, "latest", client._override])
        data = bytes.fromhex(raw[2:])
        pairs_cs = [Web3.to_checksum_address(a) for a in pairs]
        pools_cs = [Web3.to_checksum_address(a) for a in pools]
        fast = decode_snapshot_result(data, pairs_cs, pools_cs, with_tokens)
        assert fast == decode_snapshot_result_abi(data, pairs_cs, pools_cs, with_tokens)
        assert fast.v2[-1] is None and fast.v3[-1] is None


def test_decoder_rejects_truncated_answers(client, replica, devchain):
    calldata = encode_snapshot_call(replica.pools.v2, False, replica.pools.v3, 2)
    data = bytes.fromhex(devchain.rpc("eth_call", [{"to": LENS_ADDRESS, "data": calldata}, "latest",
                                                    client._override])[2:])
    for cut in (0, 95, 96 + 32, len(data) // 2, len(data) - 32):
        with pytest.raises(LensError):
            decode_snapshot_result(data[:cut], replica.pools.v2, replica.pools.v3, False)
    with pytest.raises(LensError):
        decode_snapshot_result(data, replica.pools.v2[:-1], replica.pools.v3, False)


def test_calldata_equals_eth_abi_and_the_artifact_selector():
    pairs = ["0x7a537D80682BaAe2C38403F06e7a493C2aaff4FA", "0x" + "ff" * 20]
    pools = ["0x" + "00" * 20]
    artifact = json.loads((forge_out_dir() / "PoolLens.sol" / "PoolLens.json").read_text())
    selector = artifact["methodIdentifiers"][SNAPSHOT_SIGNATURE]
    types = ["address[]", "bool", "address[]", "uint256"]
    for args in ((pairs, True, pools, 7), ([], False, [], 0)):
        assert encode_snapshot_call(*args) == "0x" + selector + abi_encode(types, list(args)).hex()


def test_batches_split_evenly_within_the_size(devchain):
    with PoolLensClient(devchain.url, batch_size=200) as c:
        pairs, pools = [f"0x{i:040x}" for i in range(333)], [f"0x{i:040x}" for i in range(167)]
        batches = c._batches(pairs, pools)
        assert len(batches) == 3 and all(len(p) + len(q) <= 200 for p, q in batches)
        assert [a for p, _ in batches for a in p] == pairs and [a for _, q in batches for a in q] == pools
        assert c._batches([], []) == [([], [])]


def test_missing_artifact_and_bad_input_raise_lens_errors(tmp_path, devchain):
    with pytest.raises(LensError, match="forge build"):
        load_runtime_code(tmp_path)
    with PoolLensClient(devchain.url) as c:
        with pytest.raises(LensError):
            c.snapshot(["0x1234"], [])
    with PoolLensClient("http://127.0.0.1:9", code="0x00", timeout=2) as c:
        with pytest.raises(LensError, match="JSON-RPC"):
            c.snapshot([], [])


def test_bench_reports_the_500_pool_snapshot(devchain):
    from flasharb.bench.lens import run

    result = run(devchain, repeats=3, warmup=1)
    assert result["pools_v2"] + result["pools_v3"] == 500
    assert 0 < result["snapshot_500_pools_ms"] < 1000
