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
