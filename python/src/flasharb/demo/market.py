"""A seeded market for the local replica: every block, noise traders swap on the real pools through the real
routers, which leaves prices dislocated between venues, as on Polygon after any large trade. On the lending
side it moves Aave's oracle (the replica's PriceOracle mock) and opens borrowers' positions.

The traders are anvil's unlocked replica admin (it can mint the replica's MintableERC20 tokens and wrap native
into WMATIC), so the market needs no keys. Deterministic for a given seed and chain state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.replica import Replica

if TYPE_CHECKING:
    from flasharb.devchain import ReplicaAave

_MAX = 2**256 - 1
_APPROVE = selector("approve(address,uint256)")
_MINT = selector("mint(address,uint256)")
_DEPOSIT = selector("deposit()")
_V2_SWAP = selector("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")
_V3_SWAP = selector("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))")
_GET_PAIR = selector("getPair(address,address)")
_SET_PRICE = selector("setAssetPrice(address,uint256)")
_GET_PRICE = selector("getAssetPrice(address)")
_SUPPLY = selector("supply(address,uint256,address,uint16)")
_BORROW = selector("borrow(address,uint256,uint256,uint16,address)")
_VARIABLE_RATE = 2


@dataclass(frozen=True, slots=True)
class Trade:
    venue: str  # "quickswap", "sushiswap" or "uniswap_v3:<fee>"
    token_in: str
    token_out: str
    amount_in: int
    tx_hash: str


class Market:
    """Noise trading on the replica. ``trade_block()`` sends this block's trades (one block each on automine)."""

    # (token A, token B, V3 fee tiers with a pool); USD sizes are drawn per trade
    PAIRS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
        ("WETH", "USDC", (500, 3000)),
        ("WMATIC", "USDC", (500, 3000)),
        ("WMATIC", "WETH", (500, 3000)),
        ("WBTC", "WETH", (500, 3000)),
        ("LINK", "WETH", (3000, 10000)),
        ("AAVE", "WETH", (3000,)),
        ("WMATIC", "USDT", (10000,)),
        ("USDC", "USDT", (500,)),
    )

    def __init__(
        self,
        w3: Web3,
        replica: Replica,
        *,
        seed: int = 7,
        usd_range: tuple[int, int] = (20_000, 120_000),
        aave: ReplicaAave | None = None,
    ):
        self.w3 = w3
        self.replica = replica
        self.aave = aave
        self.rng = random.Random(seed)
        self.usd_range = usd_range
        self.trader = Web3.to_checksum_address(replica.admin)
        self._ready = False

    # ------------------------------------------------------------------ set-up
    def _send(self, to: str, data: bytes, value: int = 0, sender: str | None = None) -> str:
        tx = {"from": sender or self.trader, "to": Web3.to_checksum_address(to), "data": "0x" + data.hex(),
              "value": value}  # fmt: skip
        tx_hash = self.w3.eth.send_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        if receipt["status"] != 1:
            raise RuntimeError(f"market transaction to {to} reverted")
        return tx_hash.hex()

    def prepare(self) -> None:
        """Approves the routers once (max) for every token."""
        routers = (self.replica.quickswap.router, self.replica.sushiswap.router, self.replica.uniswap_v3.swap_router)
        for token in self.replica.tokens.values():
            for router in routers:
                self._send(token.address, _APPROVE + encode(["address", "uint256"], [router, _MAX]))
        self._ready = True

    def _fund(self, symbol: str, amount: int, to: str | None = None) -> None:
        """Gives ``to`` (an unlocked account; default the trader) ``amount`` of ``symbol``."""
        token = self.replica.token(symbol)
        to = to or self.trader
        if symbol == "WMATIC":
            self._send(token.address, _DEPOSIT, value=amount, sender=to)
        else:
            self._send(token.address, _MINT + encode(["address", "uint256"], [to, amount]))

    def _amount(self, symbol: str, usd: int) -> int:
        token = self.replica.token(symbol)
        return usd * 10**token.decimals * 10**8 // token.usd_price_e8

    # ------------------------------------------------------------------ trading
    def trade(self, venue: str, token_in: str, token_out: str, usd: int) -> Trade:
        if not self._ready:
            self.prepare()
        amount = self._amount(token_in, usd)
        self._fund(token_in, amount)
        a, b = self.replica.token(token_in).address, self.replica.token(token_out).address
        if venue in ("quickswap", "sushiswap"):
            router = getattr(self.replica, venue).router
            data = _V2_SWAP + encode(
                ["uint256", "uint256", "address[]", "address", "uint256"], [amount, 0, [a, b], self.trader, _MAX]
            )
        else:
            fee = int(venue.split(":")[1])
            router = self.replica.uniswap_v3.swap_router
            data = _V3_SWAP + encode(
                ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"],
                [(a, b, fee, self.trader, _MAX, amount, 0, 0)],
            )
        return Trade(venue, token_in, token_out, amount, self._send(router, data))

    def random_trade(self) -> Trade:
        a, b, fees = self.rng.choice(self.PAIRS)
        token_in, token_out = (a, b) if self.rng.random() < 0.5 else (b, a)
        venues = ["quickswap", "sushiswap", *(f"uniswap_v3:{f}" for f in fees)]
        venue = self.rng.choice(venues)
        usd = self.rng.randint(*self.usd_range)
        return self.trade(venue, token_in, token_out, usd)

    # ------------------------------------------------------------------ lending (Aave V3)
    def _aave(self) -> ReplicaAave:
        if self.aave is None:
            raise RuntimeError("this market was built without the replica's Aave market (aave=...)")
        return self.aave

    def oracle_price(self, symbol: str) -> int:
        """Aave's oracle price of ``symbol`` (USD, 8 decimals)."""
        data = _GET_PRICE + encode(["address"], [self.replica.token(symbol).address])
        raw = self.w3.eth.call({"to": self._aave().oracle, "data": "0x" + data.hex()})
        return int.from_bytes(raw, "big")

    def set_oracle_price(self, symbol: str, usd_e8: int) -> None:
        """Sets Aave's oracle price (the replica's PriceOracle mock lets anyone)."""
        data = _SET_PRICE + encode(["address", "uint256"], [self.replica.token(symbol).address, usd_e8])
        self._send(self._aave().oracle, data)

    def shock(self, factors: dict[str, float]) -> dict[str, tuple[int, int]]:
        """Multiplies oracle prices by ``factors`` (symbol -> factor), one transaction each; returns old, new."""
        moved = {}
        for symbol, factor in factors.items():
            old = self.oracle_price(symbol)
            self.set_oracle_price(symbol, int(old * factor))
            moved[symbol] = (old, int(old * factor))
        return moved

    def open_position(self, user: str, collateral: str, amount: int, debt: str, debt_amount: int) -> None:
        """``user`` (an unlocked account) supplies ``amount`` of ``collateral`` and borrows ``debt_amount`` of
        ``debt`` at the variable rate."""
        pool = self._aave().pool
        asset = self.replica.token(collateral).address
        self._fund(collateral, amount, to=user)
        self._send(asset, _APPROVE + encode(["address", "uint256"], [pool, amount]), sender=user)
        self._send(pool, _SUPPLY + encode(["address", "uint256", "address", "uint16"], [asset, amount, user, 0]),
                   sender=user)  # fmt: skip
        borrow = [self.replica.token(debt).address, debt_amount, _VARIABLE_RATE, 0, user]
        self._send(pool, _BORROW + encode(["address", "uint256", "uint256", "uint16", "address"], borrow), sender=user)
