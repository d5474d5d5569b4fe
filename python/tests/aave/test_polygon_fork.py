"""The off-chain Aave math against the live Polygon Aave V3 market, on an anvil fork (``POLYGON_RPC_URL``, at
``POLYGON_FORK_BLOCK`` when set): recent borrowers' ``account_data`` equals ``Pool.getUserAccountData`` to the
wei, then one borrower is pushed under HF 1 by re-pointing its collateral's oracle source (the ACL admin grants
a pool admin, which calls ``AaveOracle.setAssetSources``) and liquidated: the ``LiquidationCall`` event's
amounts equal ``liquidation_amounts`` for the Pool's revision. Needs the lens from forge out
(``FLASHARB_FORGE_OUT``) and anvil on PATH."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from flasharb.aave.health import account_data
from flasharb.aave.sizing import liquidation_amounts, max_debt_to_cover
from flasharb.devchain import _rpc, start_anvil

pytestmark = pytest.mark.fork

POOL = "0x794a61358D6845594F94dc1DB02A252b5b4814aD"
ADMIN = "0x00000000000000000000000000000000000ad111"  # granted POOL_ADMIN on the fork
LIQUIDATOR = "0x00000000000000000000000000000000000b0b01"


def _sel(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def _call(url: str, to: str, signature: str, types: list[str], args: list, out: list[str], block: str = "latest"):
    data = _sel(signature) + encode(types, args).hex()
    raw = _rpc(url, "eth_call", [{"to": to, "data": data}, block])
    return decode(out, bytes.fromhex(raw[2:]))


def _send(url: str, sender: str, to: str, signature: str, types: list[str], args: list) -> dict:
    _rpc(url, "anvil_impersonateAccount", [sender])
    _rpc(url, "anvil_setBalance", [sender, hex(10**20)])
    data = _sel(signature) + encode(types, args).hex()
    tx = _rpc(url, "eth_sendTransaction", [{"from": sender, "to": to, "data": data, "gas": hex(5_000_000)}])
    receipt = _rpc(url, "eth_getTransactionReceipt", [tx])
    assert int(receipt["status"], 16) == 1, f"{signature} from {sender} reverted"
    return receipt


@pytest.fixture(scope="module")
def fork():
    rpc = os.environ.get("POLYGON_RPC_URL", "")
    if not rpc:
        pytest.skip("POLYGON_RPC_URL is not set")
    block = os.environ.get("POLYGON_FORK_BLOCK", "")
    args = ("--fork-url", rpc, *(("--fork-block-number", block) if block else ()))
    proc, url, _ = start_anvil(extra_args=args)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _borrowers(url: str, head: int, limit: int = 8) -> list[str]:
    """onBehalfOf of the Pool's Borrow events over the last ~2,000 blocks (newest first)."""
    topic = "0x" + keccak(text="Borrow(address,address,address,uint256,uint8,uint256,uint16)").hex()
    logs = _rpc(url, "eth_getLogs", [{"address": POOL, "topics": [topic], "fromBlock": hex(head - 2_000), "toBlock": hex(head)}])
    users: list[str] = []
    for log in reversed(logs):
        user = to_checksum_address("0x" + log["topics"][2][-40:])
        if user not in users:
            users.append(user)
    return users[:limit]


def test_account_data_and_liquidation_match_the_pool(fork: str) -> None:
    from flasharb.aave.lens import AaveLensClient

    url = fork
    forge_out = os.environ.get("FLASHARB_FORGE_OUT")
    client = AaveLensClient(url, pool=POOL, forge_out=Path(forge_out) if forge_out else None)
    market = client.market()
    tag = hex(market.block_number)
    users = _borrowers(url, market.block_number)
    assert users, "no Borrow event in the last 2,000 blocks"
    positions = client.positions(users, market.block_number)
    for p in positions:
        onchain = _call(url, POOL, "getUserAccountData(address)", ["address"], [p.user], ["uint256"] * 6, tag)
        mine = account_data(market, p)
        assert (mine.total_collateral_base, mine.total_debt_base, mine.health_factor) == (onchain[0], onchain[1], onchain[5])
        assert (mine.avg_liquidation_threshold, mine.avg_ltv) == (onchain[3], onchain[4])

    # the borrower with the most collateral in one reserve; its largest debt
    def largest(scaled, index_of):
        return max(scaled.items(), key=lambda kv: kv[1] * index_of(market.reserve(kv[0])) * market.reserve(kv[0]).price
                   // 10 ** market.reserve(kv[0]).config.decimals, default=(None, 0))

    candidates = [p for p in positions if p.scaled_collateral and p.scaled_variable_debt]
    assert candidates
    victim = max(candidates, key=lambda p: account_data(market, p).total_collateral_base)
    collateral, _ = largest(victim.scaled_collateral, lambda r: r.liquidity_index)
    debt, _ = largest(victim.scaled_variable_debt, lambda r: r.variable_borrow_index)
    reserve = market.reserve(collateral)
    # the highest new price (in 1% steps) that puts the borrower at HF < 1, by the off-chain model
    for pct in range(99, 0, -1):
        price = reserve.price * pct // 100
        moved = replace(market, reserves=tuple(replace(r, price=price) if r.asset == collateral else r for r in market.reserves))
        if account_data(moved, victim).liquidatable:
            break
    else:
        pytest.fail("no price cut of the collateral makes the borrower liquidatable")

    # a constant price source: runtime code returning `price` for any call (latestAnswer())
    source = "0x00000000000000000000000000000000000f0ce1"
    _rpc(url, "anvil_setCode", [source, "0x7f" + price.to_bytes(32, "big").hex() + "60005260206000f3"])
    (provider,) = _call(url, POOL, "ADDRESSES_PROVIDER()", [], [], ["address"])
    (acl,) = _call(url, provider, "getACLManager()", [], [], ["address"])
    (acl_admin,) = _call(url, provider, "getACLAdmin()", [], [], ["address"])
    _send(url, acl_admin, acl, "addPoolAdmin(address)", ["address"], [ADMIN])
    _send(url, ADMIN, market.oracle, "setAssetSources(address[],address[])", ["address[]", "address[]"], [[collateral], [source]])

    # fund the liquidator with twice the borrower's debt: anvil's ERC-20 deal, else from the reserve's aToken
    funds = 2 * victim.scaled_variable_debt[debt] * market.reserve(debt).variable_borrow_index // 10**27 + 10**6
    try:
        _rpc(url, "anvil_dealERC20", [LIQUIDATOR, debt, hex(funds)])
    except Exception:
        _send(url, market.reserve(debt).a_token, debt, "transfer(address,uint256)", ["address", "uint256"], [LIQUIDATOR, funds])
    _send(url, LIQUIDATOR, debt, "approve(address,uint256)", ["address", "uint256"], [POOL, 2**256 - 1])

    after = client.market()
    assert after.reserve(collateral).price == price
    (position,) = client.positions([victim.user], after.block_number)
    data = account_data(after, position)
    onchain = _call(url, POOL, "getUserAccountData(address)", ["address"], [victim.user], ["uint256"] * 6, hex(after.block_number))
    assert data.liquidatable and data.health_factor == onchain[5] and data.total_debt_base == onchain[1]

    ts = after.block_timestamp + 2  # the liquidation's block, pinned below
    cover = max_debt_to_cover(after, position, collateral, debt, ts)
    amount = cover.maximum if cover.maximum_allowed else (cover.full_min or cover.partial_max)
    assert 0 < amount <= funds
    expected = liquidation_amounts(after, position, collateral, debt, amount, ts)
    assert expected.allowed, expected.refusal
    _rpc(url, "evm_setNextBlockTimestamp", [ts])
    receipt = _send(url, LIQUIDATOR, POOL, "liquidationCall(address,address,address,uint256,bool)",
                    ["address", "address", "address", "uint256", "bool"], [collateral, debt, victim.user, amount, False])
    topic = "0x" + keccak(text="LiquidationCall(address,address,address,uint256,uint256,address,bool)").hex()
    (event,) = [log for log in receipt["logs"] if log["topics"][0] == topic and log["address"].lower() == POOL.lower()]
    actual_debt, seized, _, _ = decode(["uint256", "uint256", "address", "bool"], bytes.fromhex(event["data"][2:]))
    assert (actual_debt, seized) == (expected.actual_debt, expected.seized)
