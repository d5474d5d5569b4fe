from web3 import Web3


def test_replica_is_live_after_cached_start(devchain, replica, w3):
    assert w3.eth.chain_id == replica.chain_id == 31337
    # Real bytecode is on chain at every recorded address.
    for addr in (replica.aave_v3.pool, replica.balancer_v2.vault, replica.uniswap_v3.factory, *replica.pools.v2):
        assert len(w3.eth.get_code(Web3.to_checksum_address(addr))) > 0
    pair = w3.eth.contract(
        address=Web3.to_checksum_address(replica.pools.v2[0]),
        abi=[{"name": "getReserves", "type": "function", "stateMutability": "view", "inputs": [],
              "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]}],
    )
    r0, r1, _ = pair.functions.getReserves().call()
    assert r0 > 0 and r1 > 0


def test_replica_aave_borrowers(devchain, w3):
    """The replica's Aave side: its file matches the main one, each borrower is its key's address, and every
    position is open with a health factor in the designed 1.04-2.0 band."""
    from eth_account import Account

    aave = devchain.aave
    assert aave is not None and aave.chain_id == 31337
    assert aave.pool == Web3.to_checksum_address(devchain.replica.aave_v3.pool)
    assert aave.oracle == Web3.to_checksum_address(devchain.replica.aave_v3.oracle)
    assert aave.liquidation_protocol_fee_bps == 1000 and aave.emode_stablecoins == 1
    assert len(aave.borrowers) == 14 and len(set(aave.borrowers)) == 14
    pool = w3.eth.contract(
        address=aave.pool,
        abi=[{"name": "getUserAccountData", "type": "function", "stateMutability": "view",
              "inputs": [{"type": "address"}], "outputs": [{"type": "uint256"}] * 6}],
    )
    for i, user in enumerate(aave.borrowers):
        assert Account.from_key(aave.borrower_key(i)).address == user
        coll, debt, _, _, _, hf = pool.functions.getUserAccountData(user).call()
        assert 3_000e8 <= coll <= 500_000e8 and debt > 0
        assert 1.04e18 <= hf <= 2.01e18
