"""The Aave math against the real Aave V3.0 bytecode of the replica (Pool revision 1), to the wei.

Health: ``account_data`` == ``Pool.getUserAccountData`` (collateral, debt, LT, LTV, health factor) at the
block's timestamp, from a snapshot of the same block and from a stale snapshot after time passed (interest
accrual), for a multi-asset borrower and an e-mode borrower (with and without an e-mode price source).
Liquidation: a real ``liquidationCall``'s LiquidationCall event (debtToCover, liquidatedCollateralAmount) and
the protocol fee sent to the treasury == ``liquidation_amounts``, with HF above and below 0.95, a capped
debtToCover, the collateral-capped branch, with and without a protocol fee, predicted from the snapshot of
the block before (the liquidation block's timestamp is fixed with evm_setNextBlockTimestamp).
"""

from __future__ import annotations

import pytest
from aave_chain import ZERO, AaveChain
from web3.exceptions import ContractLogicError

from flasharb.aave.health import account_data
from flasharb.aave.sizing import Refusal, liquidation_amounts

pytestmark = pytest.mark.usefixtures("chain_snapshot")

E18, E8, E6 = 10**18, 10**8, 10**6


def _assert_matches_pool(aave: AaveChain, user: str, market, position, timestamp: int, block) -> None:
    coll, debt, _available, lt, ltv, hf = aave.account_data(user, block)
    ours = account_data(market, position, timestamp)
    assert (ours.total_collateral_base, ours.total_debt_base, ours.avg_liquidation_threshold, ours.avg_ltv, ours.health_factor) == (
        coll, debt, lt, ltv, hf
    )


def _multi_asset_borrower(aave: AaveChain, user: str) -> None:
    aave.supply(user, "WETH", 10 * E18)
    aave.supply(user, "WBTC", 15 * 10**6)  # 0.15 WBTC
    aave.supply(user, "DAI", 7_777 * E18 + 123456789)
    aave.supply(user, "WMATIC", 20_000 * E18)
    aave.borrow(user, "USDC", 21_000 * E6 + 17)
    aave.borrow(user, "LINK", 400 * E18 + 5)
    aave.borrow(user, "WETH", 2 * E18)


def test_health_factor_matches_pool_now_and_after_interest(aave: AaveChain) -> None:
    user = aave.account(3)
    _multi_asset_borrower(aave, user)
    market = aave.market()
    assert market.pool_revision == 1
    position = aave.position(market, user)
    assert len(position.scaled_collateral) == 4 and len(position.scaled_variable_debt) == 3
    _assert_matches_pool(aave, user, market, position, market.block_timestamp, market.block_number)
    assert account_data(market, position).health_factor < 2 * E18  # a real borrower, not a trivially empty one

    # time passes: the stale snapshot's indexes, grown to the new block's timestamp, still match
    for seconds in (1, 13, 3 * 86_400, 400 * 86_400):
        aave.mine(seconds)
        block = aave.w3.eth.get_block("latest")
        _assert_matches_pool(aave, user, market, position, block["timestamp"], block["number"])
    later = aave.market()
    assert account_data(later, position).total_debt_base > account_data(market, position).total_debt_base


def test_health_factor_after_price_moves(aave: AaveChain) -> None:
    user = aave.account(3)
    _multi_asset_borrower(aave, user)
    for symbol, price in (("WETH", 2_345_67890123), ("WBTC", 61_234_5678901), ("LINK", 21_11111111), ("WMATIC", 33333333)):
        aave.set_price(symbol, price)
        market = aave.market()
        position = aave.position(market, user)
        _assert_matches_pool(aave, user, market, position, market.block_timestamp, market.block_number)


def _stable_emode(aave: AaveChain) -> tuple[int, int, int]:
    """Category 1 "Stablecoins" (the replica's, else made here as the pool admin): (ltv, lt, bonus)."""
    ltv, lt, bonus, _source, _label = aave.pool.functions.getEModeCategoryData(1).call()
    if lt == 0:
        ltv, lt, bonus = 9_300, 9_500, 10_100
        aave.ensure_emode(1, ltv, lt, bonus, ZERO, "Stablecoins", ["USDC", "USDT", "DAI"])
    return ltv, lt, bonus


def test_emode_borrower_matches_pool(aave: AaveChain) -> None:
    ltv, lt, bonus = _stable_emode(aave)
    user = aave.account(5)
    aave.send(aave.pool.functions.setUserEMode(1), user)
    aave.supply(user, "DAI", 10_000 * E18)
    aave.supply(user, "WETH", 1 * E18)  # outside the category: its own LT
    aave.borrow(user, "USDC", 11_000 * E6)
    market = aave.market()
    position = aave.position(market, user)
    assert position.emode == 1 and market.emodes[1].liquidation_threshold == lt
    _assert_matches_pool(aave, user, market, position, market.block_timestamp, market.block_number)
    aave.mine(30 * 86_400)
    block = aave.w3.eth.get_block("latest")
    _assert_matches_pool(aave, user, market, position, block["timestamp"], block["number"])

    # v3.0 price source: every reserve of the category is priced at the source's price
    aave.set_price("USDT", 102_000_000)
    aave.ensure_emode(1, ltv, lt, bonus, aave.token("USDT"), "Stablecoins", [])
    market = aave.market()
    assert market.emodes[1].price == 102_000_000
    _assert_matches_pool(aave, user, market, position, market.block_timestamp, market.block_number)


# ------------------------------------------------------------------------------------------------ liquidations
def _liquidate_and_compare(aave: AaveChain, user: str, collateral: str, debt: str, debt_to_cover: int):
    market = aave.market()
    position = aave.position(market, user)
    ts = market.block_timestamp + 3_600  # an hour of interest between the snapshot and the liquidation
    predicted = liquidation_amounts(market, position, aave.token(collateral), aave.token(debt), debt_to_cover, ts)
    assert predicted.allowed, predicted.refusal
    liquidator = aave.account(4)
    aave.fund(debt, liquidator, predicted.actual_debt + 10)
    aave.approve(debt, liquidator)
    aave.set_next_timestamp(ts)
    got = aave.liquidate(liquidator, aave.token(collateral), aave.token(debt), user, debt_to_cover)
    assert (got["debt_to_cover"], got["collateral"], got["fee"]) == (predicted.actual_debt, predicted.seized, predicted.protocol_fee)
    return predicted, market, position


def _weth_usdc_borrower(aave: AaveChain, user: str) -> None:
    aave.supply(user, "WETH", 10 * E18)
    aave.borrow(user, "USDC", 20_000 * E6)


@pytest.mark.parametrize("fee_bps", [0, 1_000])
@pytest.mark.parametrize(
    ("target_hf", "debt_to_cover", "branch"),
    [
        (0.975, 2**256 - 1, "half"),  # 50% close factor
        (0.975, 1_234_567_891, "capped"),  # a debtToCover below the close factor
        (0.92, 2**256 - 1, "full"),  # 100% close factor, collateral suffices
        (0.70, 2**256 - 1, "collateral"),  # all collateral seized, debt recomputed from it
    ],
)
def test_liquidation_matches_pool(aave: AaveChain, target_hf: float, debt_to_cover: int, branch: str, fee_bps: int) -> None:
    user = aave.account(3)
    _weth_usdc_borrower(aave, user)
    aave.set_protocol_fee("WETH", fee_bps)
    lt = aave.market().reserve(aave.token("WETH")).config.liquidation_threshold
    # 10 WETH against 20,000 USDC: HF = 10 * price * LT / 20,000
    aave.set_price("WETH", int(target_hf * 20_000 * E8 * 10_000 / (10 * lt)))
    predicted, market, position = _liquidate_and_compare(aave, user, "WETH", "USDC", debt_to_cover)
    hf = predicted.health_factor
    debt = predicted.user_reserve_debt
    if branch == "half":
        assert 95 * 10**16 < hf < E18 and predicted.actual_debt == (debt * 5_000 + 5_000) // 10_000
    elif branch == "capped":
        assert predicted.actual_debt == debt_to_cover
    elif branch == "full":
        assert hf <= 95 * 10**16 and predicted.actual_debt == debt
    else:
        assert predicted.seized + predicted.protocol_fee == predicted.user_collateral_balance
        assert predicted.actual_debt < debt
    assert (predicted.protocol_fee > 0) == bool(fee_bps)


def test_cross_asset_liquidation_matches_pool(aave: AaveChain) -> None:
    """WBTC collateral for LINK debt on a multi-asset borrower (8 vs 18 decimals)."""
    user = aave.account(3)
    _multi_asset_borrower(aave, user)
    aave.set_protocol_fee("WBTC", 2_000)
    aave.set_price("WETH", 1_500 * E8)
    aave.set_price("LINK", 40 * E8)
    _liquidate_and_compare(aave, user, "WBTC", "LINK", 10**30)
    _liquidate_and_compare(aave, user, "DAI", "USDC", 3_000 * E6 + 1)


def test_emode_liquidation_uses_category_bonus(aave: AaveChain) -> None:
    _ltv, lt, bonus = _stable_emode(aave)
    user = aave.account(5)
    aave.send(aave.pool.functions.setUserEMode(1), user)
    aave.supply(user, "DAI", 10_000 * E18)
    aave.borrow(user, "USDC", 9_200 * E6)
    aave.set_protocol_fee("DAI", 1_000)
    aave.set_price("USDC", 106_000_000)
    predicted, _market, _position = _liquidate_and_compare(aave, user, "DAI", "USDC", 2**256 - 1)
    assert predicted.liquidation_bonus == bonus


def test_refusals_match_pool_reverts(aave: AaveChain) -> None:
    user = aave.account(3)
    _weth_usdc_borrower(aave, user)
    market = aave.market()
    position = aave.position(market, user)
    healthy = liquidation_amounts(market, position, aave.token("WETH"), aave.token("USDC"), 1_000 * E6)
    assert healthy.refusal is Refusal.HEALTH_FACTOR_NOT_BELOW_THRESHOLD
    with pytest.raises(ContractLogicError, match="45"):
        aave.pool.functions.liquidationCall(aave.token("WETH"), aave.token("USDC"), user, 1_000 * E6, False).call(
            {"from": aave.account(4)}
        )
    aave.set_price("WETH", 2_000 * E8)
    market = aave.market()
    position = aave.position(market, user)
    no_debt = liquidation_amounts(market, position, aave.token("WETH"), aave.token("DAI"), 1_000 * E18)
    assert no_debt.refusal is Refusal.SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER
    with pytest.raises(ContractLogicError, match="47"):
        aave.pool.functions.liquidationCall(aave.token("WETH"), aave.token("DAI"), user, 1_000 * E18, False).call(
            {"from": aave.account(4)}
        )
    not_collateral = liquidation_amounts(market, position, aave.token("DAI"), aave.token("USDC"), 1_000 * E6)
    assert not_collateral.refusal is Refusal.COLLATERAL_CANNOT_BE_LIQUIDATED
    with pytest.raises(ContractLogicError, match="46"):
        aave.pool.functions.liquidationCall(aave.token("DAI"), aave.token("USDC"), user, 1_000 * E6, False).call(
            {"from": aave.account(4)}
        )
