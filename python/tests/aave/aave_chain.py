"""Chain helpers for the Aave math tests: the replica's Aave V3 contracts (ABIs from the npm artifacts they were
deployed from), borrowers made with anvil's unlocked dev accounts, and direct eth_calls that read a market
snapshot and positions into ``flasharb.aave.types`` records (no lens: these tests check the math alone)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from eth_utils import to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from flasharb.aave.types import EModeCategory, MarketSnapshot, ReserveState, UserPosition
from flasharb.paths import repo_root
from flasharb.replica import Replica

ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = (1 << 256) - 1


@cache
def abi(path: str) -> list:
    root = repo_root() / "node_modules" / "@aave" / "core-v3" / "artifacts" / "contracts"
    return json.loads((root / path).read_text())["abi"]


POOL_ABI = "protocol/pool/Pool.sol/Pool.json"
CONFIGURATOR_ABI = "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json"
ORACLE_ABI = "mocks/oracle/PriceOracle.sol/PriceOracle.json"
MINTABLE_ABI = "mocks/tokens/MintableERC20.sol/MintableERC20.json"
ATOKEN_ABI = "protocol/tokenization/AToken.sol/AToken.json"
VDEBT_ABI = "protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json"
WETH9_ABI = [
    {"name": "deposit", "type": "function", "inputs": [], "outputs": [], "stateMutability": "payable"},
]


@dataclass
class AaveChain:
    """The replica's Aave market on one anvil, with helpers that send from unlocked dev accounts."""

    w3: Web3
    replica: Replica

    def __post_init__(self) -> None:
        a = self.replica.aave_v3
        self.pool = self.w3.eth.contract(address=to_checksum_address(a.pool), abi=abi(POOL_ABI))
        self.configurator = self.w3.eth.contract(address=to_checksum_address(a.pool_configurator), abi=abi(CONFIGURATOR_ABI))
        self.oracle = self.w3.eth.contract(address=to_checksum_address(a.oracle), abi=abi(ORACLE_ABI))
        self.admin = to_checksum_address(self.replica.admin)

    # -- addresses
    def token(self, symbol: str) -> str:
        return to_checksum_address(self.replica.token(symbol).address)

    def account(self, i: int) -> str:
        return self.w3.eth.accounts[i]

    # -- transactions
    def send(self, fn, sender: str, value: int = 0) -> dict:
        tx_hash = fn.transact({"from": sender, "value": value, "gas": 3_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"transaction reverted: {fn.fn_name}"
        return receipt

    def fund(self, symbol: str, to: str, amount: int) -> None:
        token = self.token(symbol)
        if symbol == "WMATIC":
            self.send(self.w3.eth.contract(address=token, abi=WETH9_ABI).functions.deposit(), to, value=amount)
        else:
            self.send(self.w3.eth.contract(address=token, abi=abi(MINTABLE_ABI)).functions.mint(to, amount), to)

    def approve(self, symbol: str, owner: str, amount: int = MAX_UINT256) -> None:
        c = self.w3.eth.contract(address=self.token(symbol), abi=abi(MINTABLE_ABI))
        self.send(c.functions.approve(self.pool.address, amount), owner)

    def supply(self, user: str, symbol: str, amount: int) -> None:
        self.fund(symbol, user, amount)
        self.approve(symbol, user)
        self.send(self.pool.functions.supply(self.token(symbol), amount, user, 0), user)

    def borrow(self, user: str, symbol: str, amount: int) -> None:
        self.send(self.pool.functions.borrow(self.token(symbol), amount, 2, 0, user), user)

    def set_price(self, symbol_or_asset: str, price: int) -> None:
        asset = self.token(symbol_or_asset) if not symbol_or_asset.startswith("0x") else symbol_or_asset
        self.send(self.oracle.functions.setAssetPrice(asset, price), self.admin)

    def price(self, symbol: str) -> int:
        return self.oracle.functions.getAssetPrice(self.token(symbol)).call()

    def set_protocol_fee(self, symbol: str, bps: int) -> None:
        self.send(self.configurator.functions.setLiquidationProtocolFee(self.token(symbol), bps), self.admin)

    def ensure_emode(self, category: int, ltv: int, lt: int, bonus: int, price_source: str, label: str, symbols: list[str]) -> None:
        """Creates (or re-sets) an e-mode category as the pool admin and puts ``symbols`` in it."""
        self.send(self.configurator.functions.setEModeCategory(category, ltv, lt, bonus, price_source, label), self.admin)
        for s in symbols:
            self.send(self.configurator.functions.setAssetEModeCategory(self.token(s), category), self.admin)

    def mine(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])

    def set_next_timestamp(self, ts: int) -> None:
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [ts])

    # -- reads
    def market(self, block: int | str = "latest") -> MarketSnapshot:
        """The market at ``block`` read with plain eth_calls (one per field group)."""
        blk = self.w3.eth.get_block(block)
        n = blk["number"]
        pool = self.pool.functions
        assets = pool.getReservesList().call(block_identifier=n)
        reserves = []
        for asset in assets:
            d = pool.getReserveData(asset).call(block_identifier=n)
            reserves.append(
                ReserveState(
                    id=d[7],
                    asset=to_checksum_address(asset),
                    configuration=d[0][0],
                    liquidity_index=d[1],
                    variable_borrow_index=d[3],
                    current_liquidity_rate=d[2],
                    current_variable_borrow_rate=d[4],
                    last_update_timestamp=d[6],
                    a_token=to_checksum_address(d[8]),
                    variable_debt_token=to_checksum_address(d[10]),
                    stable_debt_token=to_checksum_address(d[9]),
                    price=self.oracle.functions.getAssetPrice(asset).call(block_identifier=n),
                )
            )
        reserves.sort(key=lambda r: r.id)
        emodes = {}
        for cid in range(1, 6):
            ltv, lt, bonus, source, label = pool.getEModeCategoryData(cid).call(block_identifier=n)
            if lt == 0:
                continue
            price = self.oracle.functions.getAssetPrice(source).call(block_identifier=n) if int(source, 16) else 0
            emodes[cid] = EModeCategory(cid, ltv, lt, bonus, to_checksum_address(source), price, label=label)
        return MarketSnapshot(
            chain_id=self.w3.eth.chain_id,
            block_number=n,
            block_timestamp=blk["timestamp"],
            pool=self.pool.address,
            oracle=self.oracle.address,
            pool_revision=pool.POOL_REVISION().call(block_identifier=n),
            base_currency_unit=10**8,
            reserves=tuple(reserves),
            emodes=emodes,
        )

    def position(self, market: MarketSnapshot, user: str) -> UserPosition:
        n = market.block_number
        config = self.pool.functions.getUserConfiguration(user).call(block_identifier=n)[0]
        emode = self.pool.functions.getUserEMode(user).call(block_identifier=n)
        coll, vdebt, sdebt = {}, {}, {}
        for r in market.reserves:
            a = self.w3.eth.contract(address=r.a_token, abi=abi(ATOKEN_ABI)).functions.scaledBalanceOf(user).call(block_identifier=n)
            v = self.w3.eth.contract(address=r.variable_debt_token, abi=abi(VDEBT_ABI)).functions.scaledBalanceOf(user).call(block_identifier=n)
            s = self.w3.eth.contract(address=r.stable_debt_token, abi=abi(ATOKEN_ABI)).functions.balanceOf(user).call(block_identifier=n)
            if a:
                coll[r.asset] = a
            if v:
                vdebt[r.asset] = v
            if s:
                sdebt[r.asset] = s
        return UserPosition(user, config, emode, coll, vdebt, sdebt, block=n)

    def account_data(self, user: str, block: int | str = "latest") -> tuple[int, ...]:
        """getUserAccountData: (collateral, debt, available, liquidation threshold, ltv, health factor)."""
        return tuple(self.pool.functions.getUserAccountData(user).call(block_identifier=block))

    def liquidate(self, liquidator: str, collateral: str, debt: str, user: str, debt_to_cover: int) -> dict:
        """Sends liquidationCall (receiveAToken false) and returns the LiquidationCall event's args plus the
        protocol fee (the collateral aToken Transfer from the user to the treasury, else 0)."""
        receipt = self.send(self.pool.functions.liquidationCall(collateral, debt, user, debt_to_cover, False), liquidator)
        event = self.pool.events.LiquidationCall().process_receipt(receipt, errors=DISCARD)[0]["args"]
        a_token = self.pool.functions.getReserveData(collateral).call()[8]
        transfers = self.w3.eth.contract(address=a_token, abi=abi(ATOKEN_ABI)).events.Transfer().process_receipt(receipt, errors=DISCARD)
        fee = sum(t["args"]["value"] for t in transfers if t["args"]["from"] == user and t["args"]["to"] != ZERO)
        return {"debt_to_cover": event["debtToCover"], "collateral": event["liquidatedCollateralAmount"], "fee": fee,
                "block": receipt["blockNumber"]}
