"""Addresses and keys the deployment tests use (anvil's public dev keys, never real ones)."""

from eth_utils import to_checksum_address

# anvil's well-known dev keys (public test keys, never real ones): #1 deploys, #2..#4 are plain addresses.
DEPLOYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEPLOYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ALICE = to_checksum_address("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")
BOB = to_checksum_address("0x90f79bf6eb2c4f870365e785982e1f101e93b906")
CAROL = to_checksum_address("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65")
