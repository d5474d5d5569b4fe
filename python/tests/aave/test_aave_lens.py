"""AaveLensClient against the replica's real Aave V3.0 market: every field equals what the Pool's own getters,
the oracle, the tokens and the AaveProtocolDataProvider answer at the same block."""

from __future__ import annotations

import pytest
from aave_chain import MINTABLE_ABI
from aave_chain import abi as _abi
from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.aave.lens import AaveLensClient, LensError, decode_market, decode_positions
from flasharb.aave.types import ReserveConfig

pytestmark = pytest.mark.chain
RAY = 10**27


def _ray_mul(a: int, b: int) -> int:
    return (a * b + RAY // 2) // RAY


@pytest.fixture(scope="module")
def aave(devchain):
    assert devchain.aave is not None, "the devchain has no replica Aave file"
    return devchain.aave


@pytest.fixture(scope="module")
def contracts(w3, aave):
    pool = w3.eth.contract(address=aave.pool, abi=_abi("protocol/pool/Pool.sol/Pool.json"))
    dp_abi = _abi("misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json")
    dp = w3.eth.contract(address=aave.data_provider, abi=dp_abi)
    oracle = w3.eth.contract(address=aave.oracle, abi=_abi("mocks/oracle/PriceOracle.sol/PriceOracle.json"))
    return pool, dp, oracle


@pytest.fixture(scope="module")
def client(devchain, aave):
    with AaveLensClient(devchain.url, addresses_provider=aave.pool_addresses_provider) as c:
        yield c


def test_market_equals_the_pools_getters(client, contracts, aave, w3):
    pool, dp, oracle = contracts
    block = w3.eth.block_number
    m = client.market(block)
    assert (m.chain_id, m.block_number, m.pool, m.oracle) == (31337, block, aave.pool, aave.oracle)
    assert m.block_timestamp == w3.eth.get_block(block)["timestamp"]
    assert m.pool_revision == 1 and m.base_currency_unit == 10**8
    assets = pool.functions.getReservesList().call(block_identifier=block)
    assert [r.asset for r in m.reserves] == assets and len(assets) == 8
    for r in m.reserves:
        d = pool.functions.getReserveData(r.asset).call(block_identifier=block)
        assert r.configuration == d[0][0]
        assert (r.liquidity_index, r.current_liquidity_rate, r.variable_borrow_index) == tuple(d[1:4])
        assert (r.current_variable_borrow_rate, r.last_update_timestamp, r.id) == (d[4], d[6], d[7])
        assert (r.a_token, r.stable_debt_token, r.variable_debt_token) == (d[8], d[9], d[10])
        assert r.price == oracle.functions.getAssetPrice(r.asset).call(block_identifier=block) > 0
        # The data provider decodes the same bitmap: LTV, LT, bonus, decimals, protocol fee, e-mode.
        (decimals, ltv, lt, bonus, _, _, borrowing, _, active, frozen) = dp.functions.getReserveConfigurationData(
            r.asset).call(block_identifier=block)
        c = r.config
        assert (c.decimals, c.ltv, c.liquidation_threshold, c.liquidation_bonus) == (decimals, ltv, lt, bonus)
        assert (c.borrowing_enabled, c.active, c.frozen) == (borrowing, active, frozen)
        assert c.liquidation_protocol_fee == dp.functions.getLiquidationProtocolFee(r.asset).call() == 1000
        assert c.emode_category == dp.functions.getReserveEModeCategory(r.asset).call()
    assert list(m.emodes) == [1]
    e = m.emodes[1]
    assert (e.ltv, e.liquidation_threshold, e.liquidation_bonus) == (9300, 9500, 10100)
    assert (e.label, e.price, e.collateral_bitmap) == ("Stablecoins", 0, 0)
    stables = {a for a in assets if ReserveConfig.from_bitmap(m.reserve(a).configuration).emode_category == 1}
    assert len(stables) == 3


def test_pool_only_client_finds_the_provider(devchain, aave, client):
    with AaveLensClient(devchain.url, pool=aave.pool) as by_pool:
        assert by_pool.addresses_provider == aave.pool_addresses_provider
        assert by_pool.market().reserves == client.market().reserves


def test_positions_equal_the_tokens_balances(client, contracts, aave, w3):
    pool, dp, _ = contracts
    block = w3.eth.block_number
    m = client.market(block)
    nobody = "0x000000000000000000000000000000000000c0DE"
    users = [*aave.borrowers, nobody]
    read = client.read_positions(users, block)
    assert read.block == block and read.failed == ()
    assert [p.user for p in read.positions] == users
    for p in read.positions:
        assert p.block == block
        assert p.configuration == pool.functions.getUserConfiguration(p.user).call(block_identifier=block)[0]
        assert p.emode == pool.functions.getUserEMode(p.user).call(block_identifier=block)
        for r in m.reserves:
            a_token = w3.eth.contract(address=r.a_token, abi=_abi("protocol/tokenization/AToken.sol/AToken.json"))
            v_debt = w3.eth.contract(address=r.variable_debt_token, abi=_abi(
                "protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json"))
            scaled_c = a_token.functions.scaledBalanceOf(p.user).call(block_identifier=block)
            scaled_d = v_debt.functions.scaledBalanceOf(p.user).call(block_identifier=block)
            assert p.scaled_collateral.get(r.asset, 0) == scaled_c
            assert p.scaled_variable_debt.get(r.asset, 0) == scaled_d
            assert p.stable_debt.get(r.asset, 0) == 0
            # Scaled balance times the normalized index is the balance the data provider reports, to the wei.
            a_bal, _, v_bal, *_ = dp.functions.getUserReserveData(r.asset, p.user).call(block_identifier=block)
            income = pool.functions.getReserveNormalizedIncome(r.asset).call(block_identifier=block)
            debt_index = pool.functions.getReserveNormalizedVariableDebt(r.asset).call(block_identifier=block)
            assert _ray_mul(scaled_c, income) == a_bal
            assert _ray_mul(scaled_d, debt_index) == v_bal
    assert read.positions[-1].configuration == 0 and not read.positions[-1].scaled_collateral
    assert read.positions[4].emode == 1
    assert len(read.positions[3].scaled_collateral) == 3 and len(read.positions[3].scaled_variable_debt) == 2


def test_chunks_are_one_block(devchain, aave, client, chain_snapshot, w3):
    """Chunked reads pin one block; an older block gives the older state."""
    before = w3.eth.block_number
    # Move the chain on: a fresh dev account supplies WETH and borrows USDC.
    user = _borrow(devchain, w3, aave, w3.eth.accounts[7])
    chunked = AaveLensClient(devchain.url, addresses_provider=aave.pool_addresses_provider, users_per_call=4)
    users = [*aave.borrowers, user]
    now = chunked.read_positions(users)
    assert now.block == w3.eth.block_number and len(now.positions) == 15
    assert now.positions == client.read_positions(users, now.block).positions
    old = chunked.read_positions(users, before)
    assert old.block == before
    assert old.positions[:14] != () and old.positions[14].configuration == 0
    assert now.positions[14].configuration != 0 and now.positions[14].scaled_variable_debt


def _borrow(devchain, w3, aave, user: str) -> str:
    """``user`` (an unlocked dev account) supplies 10 WETH and borrows 5,000 USDC."""
    weth = devchain.replica.token("WETH").address
    usdc = devchain.replica.token("USDC").address
    token = w3.eth.contract(address=to_checksum_address(weth), abi=_abi(MINTABLE_ABI))
    pool = w3.eth.contract(address=aave.pool, abi=_abi("protocol/pool/Pool.sol/Pool.json"))
    for fn in (
        token.functions.mint(user, 10 * 10**18),
        token.functions.approve(aave.pool, 10 * 10**18),
        pool.functions.supply(weth, 10 * 10**18, user, 0),
        pool.functions.borrow(usdc, 5_000 * 10**6, 2, 0, user),
    ):
        tx = fn.transact({"from": user})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return Web3.to_checksum_address(user)


def test_bad_inputs_and_answers_raise_lens_errors(devchain, aave, client):
    with pytest.raises(LensError, match="pool or its addresses provider"):
        AaveLensClient(devchain.url)
    with pytest.raises(LensError, match="not an address"):
        client.positions(["0x1234"])
    with pytest.raises(LensError, match="block must be"):
        client.market("yesterday")
    # A provider that is not one: the lens call reverts, and the error says which call.
    with pytest.raises(LensError, match="market\\(\\) of provider"):
        AaveLensClient(devchain.url, addresses_provider=aave.oracle).market()
    # A pool its provider does not point at.
    with pytest.raises(LensError, match="points at pool"):
        AaveLensClient(devchain.url, pool=aave.oracle, addresses_provider=aave.pool_addresses_provider).market()
    # The data provider also answers ADDRESSES_PROVIDER(): caught by the pool check; the oracle does not at all.
    with pytest.raises(LensError, match="points at pool"):
        AaveLensClient(devchain.url, pool=aave.data_provider).market()
    with pytest.raises(LensError, match="ADDRESSES_PROVIDER\(\) of pool"):
        AaveLensClient(devchain.url, pool=aave.oracle).market()
    with pytest.raises(LensError, match="failed"):
        AaveLensClient("http://127.0.0.1:9", addresses_provider=aave.pool_addresses_provider, timeout=2).market()
    with pytest.raises(LensError, match="malformed AaveLens market"):
        decode_market(b"\x00" * 64, 1)
    with pytest.raises(LensError, match="answered 0 positions for 1 users"):
        decode_positions(abi_encode(["uint256", "uint256[]"], [7, []]), [aave.pool])
    assert client.read_positions([]).positions == ()
