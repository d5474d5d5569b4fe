"""The bot with the liquidation strategy on the replica, end to end: the replica's borrowers are found from the
Pool's events, prices are moved with Aave's PriceOracle so that a known set falls under health factor 1, and the
bot liquidates each through the real executor (flash loan, liquidationCall, swap back) with the realized profit
equal to the predicted one to the wei. A competitor who liquidates first costs a recorded refusal and no gas; a
liquidation that would not pay is refused with its reason on record."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aave_chain import AaveChain

from flasharb.bot.app import open_bot
from flasharb.demo.run import local_bot
from flasharb.engine.types import LIQUIDATION

pytestmark = pytest.mark.chain

# Reference prices (USD 1e8) and the move that puts borrowers 0, 1, 2, 9 and 11 under 1
# (script/replica/PolygonReplica.sol, _openReplicaBorrowers).
MOVE = {"WETH": 3000e8 * 0.85, "WMATIC": 0.40e8 * 0.80, "WBTC": 90_000e8 * 0.90}
LIQUIDATABLE = (0, 1, 2, 9, 11)


@pytest.fixture()
def aave(w3, replica) -> AaveChain:
    return AaveChain(w3, replica)


def _move_prices(aave: AaveChain) -> None:
    for symbol, price in MOVE.items():
        aave.set_price(symbol, int(price))


def _spec(devchain, tmp_path, **overrides):
    spec, signer, _market = local_bot(devchain, tmp_path, liquidations=True)
    return dataclasses.replace(spec, **overrides), signer


async def _run(bot, blocks: int):
    reports = []
    for _ in range(blocks):
        report = await bot.process_block()
        await bot.drain()
        reports.append(report)
    return reports


def test_bot_liquidates_every_position_pushed_under_one_exactly(devchain, chain_snapshot, aave, tmp_path):
    asyncio.run(_bot_liquidates_every_position_pushed_under_one_exactly(devchain, chain_snapshot, aave, tmp_path))


async def _bot_liquidates_every_position_pushed_under_one_exactly(devchain, chain_snapshot, aave, tmp_path):
    spec, signer = _spec(devchain, tmp_path)
    borrowers = devchain.aave.borrowers
    async with open_bot(spec, signer) as bot:
        assert [o for o in bot.start() if o.strategy == LIQUIDATION] == []  # all healthy at reference prices
        strategy = bot.engine.strategies[0]
        assert set(borrowers) <= set(strategy.screen.users)  # discovered from the Pool's events
        _move_prices(aave)
        await _run(bot, 8)
        outcomes = [o for o in bot.outcomes if o.dispatch.opportunity.strategy == LIQUIDATION]
        liquidated = {o.dispatch.opportunity.liquidation.user for o in outcomes}
        assert liquidated == {borrowers[i] for i in LIQUIDATABLE}
        assert outcomes and all(o.status == "mined" for o in outcomes)
        assert all(o.exact for o in outcomes), [(o.predicted_profit, o.realized_profit) for o in outcomes]
        assert all(o.realized_profit > 0 for o in outcomes)
        for o in outcomes:  # the Pool agrees the position was liquidated as planned
            liq = o.dispatch.opportunity.liquidation
            assert liq.pool_revision == 1 and liq.health_factor < 10**18
        # the off-chain health factors matched the Pool's (checked off the hot path)
        strategy.wait_for_drift_checks()
        assert strategy.stats.drift_checked > 0 and strategy.stats.drift_mismatches == 0
        exposed = bot.metrics.render().decode()
        assert f"flasharb_liquidation_borrowers {float(len(strategy.screen))}" in exposed
        assert f"flasharb_liquidation_hf_checks {float(strategy.stats.drift_checked)}" in exposed
        assert "flasharb_liquidation_hf_mismatches 0.0" in exposed
        rows = bot.store.opportunities()
        assert {r.strategy for r in rows if r.strategy == LIQUIDATION} == {LIQUIDATION}


def test_a_competitor_first_costs_a_recorded_refusal_and_no_gas(devchain, chain_snapshot, aave, tmp_path):
    asyncio.run(_a_competitor_first_costs_a_recorded_refusal_and_no_gas(devchain, chain_snapshot, aave, tmp_path))


async def _a_competitor_first_costs_a_recorded_refusal_and_no_gas(devchain, chain_snapshot, aave, tmp_path):
    spec, signer = _spec(devchain, tmp_path)
    victim = devchain.aave.borrowers[11]  # WMATIC / USDC
    competitor = aave.account(5)
    aave.fund("USDC", competitor, 10**12)
    aave.approve("USDC", competitor)
    async with open_bot(spec, signer) as bot:
        bot.start()
        _move_prices(aave)
        real_simulate = bot.simulator.simulate
        raced = []

        async def competitor_lands_first(plan: bytes):
            # The competitor's liquidation lands between our head and our simulation (on Polygon: earlier in
            # the same block); it repays the whole debt, so ours can no longer run.
            if not raced:
                raced.append(aave.liquidate(competitor, aave.token("WMATIC"), aave.token("USDC"), victim, 2**256 - 1))
            return await real_simulate(plan)

        bot.simulator.simulate = competitor_lands_first
        nonce_before = devchain_nonce(aave, signer.address)
        report = await bot.process_block()
        await bot.drain()
        dropped = [r for r in report.refusals if r.opportunity.liquidation and r.opportunity.liquidation.user == victim]
        assert raced and dropped and dropped[0].reason == "simulation_reverted"
        assert all(d.opportunity.liquidation.user != victim for d in report.dispatches if d.opportunity.liquidation)
        assert devchain_nonce(aave, signer.address) == nonce_before + len(report.dispatches)  # no tx for it
        decisions = bot.store.decisions()
        assert any(d.reason == "simulation_reverted" for d in decisions)


def test_a_liquidation_that_would_not_pay_is_left_alone_with_its_reason(devchain, chain_snapshot, aave, tmp_path):
    asyncio.run(_a_liquidation_that_would_not_pay_is_left_alone_with_its_reason(devchain, chain_snapshot, aave, tmp_path))


async def _a_liquidation_that_would_not_pay_is_left_alone_with_its_reason(devchain, chain_snapshot, aave, tmp_path):
    # gas at 0.1 native per unit: every liquidation's gas costs more than its bonus earns
    spec, signer = _spec(devchain, tmp_path, gas_price=10**17)
    async with open_bot(spec, signer) as bot:
        bot.start()
        _move_prices(aave)
        report = await bot.process_block()
        await bot.drain()
        liquidations = [r for r in report.refusals if r.opportunity.strategy == LIQUIDATION]
        assert liquidations and not [d for d in report.dispatches if d.opportunity.strategy == LIQUIDATION]
        assert all(r.opportunity.net_profit < 0 and r.decision == "refuse" for r in liquidations)
        reasons = {d.reason for d in bot.store.decisions()}
        assert liquidations[0].reason in reasons
        # offered again only when something changes, not every block
        again = await bot.process_block()
        assert not [r for r in again.refusals if r.opportunity.strategy == LIQUIDATION]


def devchain_nonce(aave: AaveChain, address: str) -> int:
    return aave.w3.eth.get_transaction_count(address)


def test_a_failed_read_skips_one_head_of_liquidations_not_the_bot(devchain, chain_snapshot, aave, tmp_path):
    asyncio.run(_a_failed_read_skips_one_head(devchain, chain_snapshot, aave, tmp_path))


async def _a_failed_read_skips_one_head(devchain, chain_snapshot, aave, tmp_path):
    spec, signer = _spec(devchain, tmp_path)
    async with open_bot(spec, signer) as bot:
        bot.start()
        strategy = bot.engine.strategies[0]
        _move_prices(aave)
        lenses = (strategy.lens._http, strategy._prefetch_lens._http)
        urls = [h.url for h in lenses]
        for h in lenses:  # the node stops answering the lens (a dead port)
            h.url = "http://127.0.0.1:9"
        report = await bot.process_block()
        assert report is not None and not [d for d in report.dispatches if d.opportunity.liquidation]
        assert strategy.stats.failures == 1 and strategy.screen is None
        for h, url in zip(lenses, urls):
            h.url = url
        await _run(bot, 2)  # re-reads everything, then liquidates as usual
        liquidated = [o for o in bot.outcomes if o.dispatch.opportunity.strategy == LIQUIDATION]
        assert liquidated and all(o.exact for o in liquidated)
