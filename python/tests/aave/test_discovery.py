"""BorrowerBook on the replica: the replica's borrowers found from genesis, new positions seen in the next scan
with exactly the users and reserves they touched, persistence, chunking, a reorg, and a liquidation."""

from __future__ import annotations

import pytest
from aave_chain import MINTABLE_ABI
from aave_chain import abi as _abi
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.aave.discovery import TOPICS, BorrowerBook, DiscoveryError
from flasharb.engine.errors import RpcError
from flasharb.engine.rpc import HttpRpc

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def aave(devchain):
    assert devchain.aave is not None
    return devchain.aave


def _send(w3, fn, sender: str) -> None:
    assert w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))["status"] == 1


def _supply_and_borrow(devchain, w3, aave, user: str, borrow: bool = True) -> None:
    """``user`` (an unlocked dev account) supplies 10 WETH and, if asked, borrows 5,000 USDC."""
    weth = to_checksum_address(devchain.replica.token("WETH").address)
    usdc = to_checksum_address(devchain.replica.token("USDC").address)
    token = w3.eth.contract(address=weth, abi=_abi(MINTABLE_ABI))
    pool = w3.eth.contract(address=aave.pool, abi=_abi("protocol/pool/Pool.sol/Pool.json"))
    _send(w3, token.functions.mint(user, 10 * 10**18), user)
    _send(w3, token.functions.approve(aave.pool, 10 * 10**18), user)
    _send(w3, pool.functions.supply(weth, 10 * 10**18, user, 0), user)
    if borrow:
        _send(w3, pool.functions.borrow(usdc, 5_000 * 10**6, 2, 0, user), user)


def test_topics_are_the_pools_events():
    events = {e["name"]: e for e in _abi("protocol/pool/Pool.sol/Pool.json") if e["type"] == "event"}
    events["BalanceTransfer"] = next(
        e for e in _abi("protocol/tokenization/AToken.sol/AToken.json") if e.get("name") == "BalanceTransfer"
    )
    for name, topic in TOPICS.items():
        types = ",".join(i["internalType"].startswith("enum") and "uint8" or i["type"] for i in events[name]["inputs"])
        assert topic == "0x" + keccak(text=f"{name}({types})").hex(), name


def test_replica_borrowers_found_from_genesis(devchain, aave, replica, tmp_path):
    with BorrowerBook(devchain.url, aave.pool, tmp_path / "book.sqlite") as book:
        result = book.sync()
        assert result.from_block == 0 and result.to_block == book.last_block == int(
            devchain.rpc("eth_blockNumber"), 16)
        assert set(book.borrowers()) == set(aave.borrowers)
        assert result.new_borrowers == set(aave.borrowers)
        admin = to_checksum_address(replica.admin)
        assert set(book.users()) == {*aave.borrowers, admin}
        assert book.flags(admin) == (False, True), "the admin supplied the reserves' liquidity"
        assert all(book.flags(b) == (True, True) for b in aave.borrowers)
        assert result.reserves_updated == {to_checksum_address(t.address) for t in replica.tokens.values()}
        assert result.reserve_event and not result.reorged
        assert book.flags("0x000000000000000000000000000000000000dEaD") is None
        last = book.last_block
    # Persisted: a reopened book resumes after the last block, with nothing new.
    with BorrowerBook(devchain.url, aave.pool, tmp_path / "book.sqlite") as again:
        assert again.last_block == last and set(again.borrowers()) == set(aave.borrowers)
        assert again.sync().touched == frozenset()
    with pytest.raises(DiscoveryError, match="holds pool"):
        BorrowerBook(devchain.url, aave.oracle, tmp_path / "book.sqlite")


def test_new_position_appears_in_next_scan(devchain, aave, chain_snapshot, w3, tmp_path):
    book = BorrowerBook(devchain.url, aave.pool, tmp_path / "b.sqlite")
    book.sync()
    supplier, borrower = (Web3.to_checksum_address(a) for a in w3.eth.accounts[5:7])
    _supply_and_borrow(devchain, w3, aave, supplier, borrow=False)
    r = book.sync()
    assert r.touched == r.new_users == {supplier} and r.new_borrowers == frozenset()
    assert book.flags(supplier) == (False, True)
    weth = to_checksum_address(devchain.replica.token("WETH").address)
    usdc = to_checksum_address(devchain.replica.token("USDC").address)
    assert r.reserves_updated == {weth}
    _supply_and_borrow(devchain, w3, aave, borrower)
    r = book.sync()
    assert r.touched == r.new_users == r.new_borrowers == {borrower}
    assert r.reserves_updated == {weth, usdc}
    # The supplier borrows later: not a new user, a new borrower.
    pool = w3.eth.contract(address=aave.pool, abi=_abi("protocol/pool/Pool.sol/Pool.json"))
    _send(w3, pool.functions.borrow(usdc, 1_000 * 10**6, 2, 0, supplier), supplier)
    r = book.sync()
    assert r.touched == r.new_borrowers == {supplier} and r.new_users == frozenset()
    assert book.flags(supplier) == (True, True)
    assert book.sync().touched == frozenset(), "nothing new"


class _SmallRangesOnly(HttpRpc):
    """The real node, refusing getLogs over more than 100 blocks the way public RPCs do."""

    def call(self, method, params):
        if method == "eth_getLogs" and int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) >= 100:
            raise RpcError("query exceeds max block range 100")
        return super().call(method, params)


def test_chunked_and_range_limited_scans_agree(devchain, aave):
    whole = BorrowerBook(devchain.url, aave.pool).sync()
    small = BorrowerBook(_SmallRangesOnly(devchain.url), aave.pool, chunk_blocks=1_000).sync()
    chunks = BorrowerBook(devchain.url, aave.pool, chunk_blocks=37).sync()
    assert whole.touched == small.touched == chunks.touched
    assert whole.new_borrowers == small.new_borrowers == chunks.new_borrowers == set(aave.borrowers)


def test_reorg_rescans_from_a_safe_block(devchain, aave, chain_snapshot, w3):
    book = BorrowerBook(devchain.url, aave.pool, reorg_depth=8)
    book.sync()
    fork_point = devchain.snapshot()
    a, b = (Web3.to_checksum_address(x) for x in w3.eth.accounts[8:10])
    _supply_and_borrow(devchain, w3, aave, a)
    assert book.sync().new_borrowers == {a}
    devchain.revert(fork_point)  # a's blocks are orphaned; b's take their heights
    _supply_and_borrow(devchain, w3, aave, b)
    w3.provider.make_request("anvil_mine", ["0x2"])  # ...and the chain grows past them
    r = book.sync()
    assert r.reorged and b in r.touched and r.new_borrowers == {b}
    assert r.from_block <= book.last_block - 8
    assert book.flags(a) == (True, True), "users are only ever added"


def test_liquidation_touches_user_and_atoken_receiving_liquidator(devchain, aave, chain_snapshot, w3):
    book = BorrowerBook(devchain.url, aave.pool)
    book.sync()
    user, liquidator = aave.borrowers[0], Web3.to_checksum_address(w3.eth.accounts[4])
    weth = to_checksum_address(devchain.replica.token("WETH").address)
    usdc = to_checksum_address(devchain.replica.token("USDC").address)
    oracle = w3.eth.contract(address=aave.oracle, abi=_abi("mocks/oracle/PriceOracle.sol/PriceOracle.json"))
    _send(w3, oracle.functions.setAssetPrice(weth, 2_550 * 10**8), liquidator)  # WETH -15%: HF 0.92
    token = w3.eth.contract(address=usdc, abi=_abi(MINTABLE_ABI))
    pool = w3.eth.contract(address=aave.pool, abi=_abi("protocol/pool/Pool.sol/Pool.json"))
    _send(w3, token.functions.mint(liquidator, 3_000 * 10**6), liquidator)
    _send(w3, token.functions.approve(aave.pool, 3_000 * 10**6), liquidator)
    _send(w3, pool.functions.liquidationCall(weth, usdc, user, 3_000 * 10**6, True), liquidator)
    r = book.sync()
    assert user in r.touched and liquidator in r.touched
    assert book.flags(liquidator) == (False, True) and r.new_borrowers == frozenset()
    assert r.reserves_updated == {usdc}, "receiveAToken: the collateral reserve is not updated (v3.0)"


def test_scan_rejects_an_empty_range(devchain, aave):
    with pytest.raises(DiscoveryError, match="empty block range"):
        BorrowerBook(devchain.url, aave.pool).scan(10, 9)
