"""An Aave V3 market and its borrowers' positions in one ``eth_call`` each: the client of
``src/lens/AaveLens.sol``.

As with the pool lens (``flasharb.lens``) nothing is deployed: every call puts the lens's runtime code at
``AAVE_LENS_ADDRESS`` with an ``eth_call`` state override. The code comes from forge's artifact
(``$FLASHARB_FORGE_OUT`` or ``<repo>/out``, ``AaveLens.sol/AaveLens.json``). Answers are decoded with eth_abi:
a market is a few dozen reserves and the positions a few hundred users, so clarity wins over speed here.

Users are read ``users_per_call`` at a time; when that takes more than one call the block is pinned first and
all calls go in one JSON-RPC batch, so every position is the same block's state. A user the lens could not read
(its Pool getters or a token it holds refused) is left out of ``positions`` and listed in
``PositionsRead.failed``; a reserve the lens could not read is left out of the market (users touching it are
then unreadable too). Everything else that is wrong raises ``LensError`` saying what.

    client = AaveLensClient(rpc_url, addresses_provider=provider)
    market = client.market()
    positions = client.positions(borrowers, block=market.block_number)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from flasharb.aave.types import EModeCategory, MarketSnapshot, ReserveState, UserPosition
from flasharb.http import JsonRpcClient, JsonRpcPoster
from flasharb.lens import LensError, _runtime_code_at, forge_out_dir

__all__ = [
    "AAVE_LENS_ADDRESS",
    "AaveLensClient",
    "LensError",
    "PositionsRead",
    "decode_market",
    "decode_positions",
    "encode_market_call",
    "encode_positions_call",
    "load_aave_lens_code",
]

#: Where the state override puts the lens: an address with no code on any chain we use ("AAVELENS").
AAVE_LENS_ADDRESS = "0x0000000000000000000000004141564c454e5300"

_MARKET_SELECTOR = keccak(text="market(address,uint8)")[:4]
_POSITIONS_SELECTOR = keccak(text="positions(address,address[])")[:4]
_ADDRESSES_PROVIDER_SELECTOR = "0x" + keccak(text="ADDRESSES_PROVIDER()")[:4].hex()
_RESERVE = "(bool,uint16,address,uint256,uint128,uint128,uint128,uint128,uint40,address,address,address,bool,uint256)"
_EMODE = "(uint8,uint16,uint16,uint16,address,uint256,uint128,uint128,string)"
_MARKET = f"(uint256,uint256,address,address,uint256,uint256,{_RESERVE}[],{_EMODE}[])"
_POSITION = "(bool,address,uint256,uint256,(uint16,address,uint256,uint256,uint256)[])"
_ZERO = "0x0000000000000000000000000000000000000000"
_TAGS = ("latest", "pending", "safe", "finalized", "earliest")


@dataclass(frozen=True, slots=True)
class PositionsRead:
    """The positions of the users asked for at ``block`` (in their order), and the users the lens could not read."""

    block: int
    positions: tuple[UserPosition, ...]
    failed: tuple[str, ...]


def load_aave_lens_code(forge_out: Path | None = None) -> str:
    """AaveLens's runtime bytecode (0x hex) from forge's artifact."""
    return _runtime_code_at((forge_out or forge_out_dir()) / "AaveLens.sol" / "AaveLens.json")


def _address(a: str, what: str) -> str:
    try:
        return to_checksum_address(a)
    except (TypeError, ValueError):
        raise LensError(f"{what} is not an address: {a!r}") from None


# ---------------------------------------------------------------------------------------------- ABI
def encode_market_call(provider: str, max_emode_id: int) -> str:
    """Calldata (0x hex) of ``market(provider, maxEModeId)``."""
    if not 0 <= max_emode_id <= 255:
        raise LensError(f"max_emode_id must be in [0, 255], got {max_emode_id}")
    return "0x" + (_MARKET_SELECTOR + abi_encode(["address", "uint8"], [provider, max_emode_id])).hex()


def encode_positions_call(provider: str, users: Sequence[str]) -> str:
    """Calldata (0x hex) of ``positions(provider, users)``."""
    return "0x" + (_POSITIONS_SELECTOR + abi_encode(["address", "address[]"], [provider, list(users)])).hex()


def decode_market(data: bytes, chain_id: int) -> MarketSnapshot:
    """The lens's ``market`` answer as a ``MarketSnapshot`` (unreadable reserves left out, unknown prices 0)."""
    try:
        (raw,) = abi_decode([_MARKET], data)
    except (DecodingError, ValueError, OverflowError) as exc:
        raise LensError(f"malformed AaveLens market() answer ({len(data)} bytes): {exc}") from None
    block_number, timestamp, pool, oracle, revision, unit, reserves, emodes = raw
    return MarketSnapshot(
        chain_id=chain_id,
        block_number=block_number,
        block_timestamp=timestamp,
        pool=to_checksum_address(pool),
        oracle=to_checksum_address(oracle),
        pool_revision=revision,
        base_currency_unit=unit,
        reserves=tuple(
            ReserveState(
                id=rid,
                asset=to_checksum_address(asset),
                configuration=config,
                liquidity_index=liquidity_index,
                variable_borrow_index=borrow_index,
                current_liquidity_rate=liquidity_rate,
                current_variable_borrow_rate=borrow_rate,
                last_update_timestamp=updated,
                a_token=to_checksum_address(a_token),
                variable_debt_token=to_checksum_address(variable_debt),
                stable_debt_token=to_checksum_address(stable_debt),
                price=price if price_ok else 0,
            )
            for (
                ok,
                rid,
                asset,
                config,
                liquidity_index,
                borrow_index,
                liquidity_rate,
                borrow_rate,
                updated,
                a_token,
                variable_debt,
                stable_debt,
                price_ok,
                price,
            ) in reserves
            if ok
        ),
        emodes={
            eid: EModeCategory(
                id=eid,
                ltv=ltv,
                liquidation_threshold=lt,
                liquidation_bonus=bonus,
                price_source=to_checksum_address(source),
                price=price,
                collateral_bitmap=collateral_bits,
                borrowable_bitmap=borrowable_bits,
                label=label,
            )
            for eid, ltv, lt, bonus, source, price, collateral_bits, borrowable_bits, label in emodes
        },
    )


def decode_positions(data: bytes, users: Sequence[str]) -> PositionsRead:
    """The lens's ``positions`` answer for ``users`` (checksummed, in the order asked)."""
    try:
        block, rows = abi_decode(["uint256", f"{_POSITION}[]"], data)
    except (DecodingError, ValueError, OverflowError) as exc:
        raise LensError(f"malformed AaveLens positions() answer ({len(data)} bytes): {exc}") from None
    if len(rows) != len(users):
        raise LensError(f"AaveLens answered {len(rows)} positions for {len(users)} users")
    positions: list[UserPosition] = []
    failed: list[str] = []
    for user, (ok, got_user, config, emode, balances) in zip(users, rows):
        if to_checksum_address(got_user) != user:
            raise LensError(f"AaveLens answered for {got_user} in place of {user}")
        if not ok:
            failed.append(user)
            continue
        collateral: dict[str, int] = {}
        variable: dict[str, int] = {}
        stable: dict[str, int] = {}
        for _, asset, scaled_collateral, scaled_debt, stable_debt in balances:
            asset = to_checksum_address(asset)
            for book, amount in ((collateral, scaled_collateral), (variable, scaled_debt), (stable, stable_debt)):
                if amount:
                    book[asset] = amount
        positions.append(UserPosition(user, config, emode, collateral, variable, stable, block))
    return PositionsRead(block, tuple(positions), tuple(failed))


# ---------------------------------------------------------------------------------------------- client
class AaveLensClient(JsonRpcClient):
    """Reads one Aave V3 market through the lens over raw JSON-RPC (one keep-alive HTTP session).

    Give the market's ``addresses_provider``, or its ``pool`` (the provider is then read from the Pool's
    ``ADDRESSES_PROVIDER()`` once); with both, the provider must point at that pool. ``users_per_call`` bounds
    the users per ``eth_call`` (a borrower with four reserves costs ~100k gas).
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        pool: str | None = None,
        addresses_provider: str | None = None,
        code: str | None = None,
        forge_out: Path | None = None,
        lens_address: str = AAVE_LENS_ADDRESS,
        users_per_call: int = 50,
        max_emode_id: int = 32,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        if pool is None and addresses_provider is None:
            raise LensError("AaveLensClient needs the market's pool or its addresses provider")
        if users_per_call < 1:
            raise LensError("users_per_call must be at least 1")
        self.rpc_url = rpc_url
        self.pool = _address(pool, "pool") if pool is not None else None
        self._provider = (
            _address(addresses_provider, "addresses provider") if addresses_provider is not None else None
        )
        self.code = code or load_aave_lens_code(forge_out)
        self.lens_address = lens_address
        self.users_per_call = users_per_call
        self.max_emode_id = max_emode_id
        self.timeout = timeout
        self._http = JsonRpcPoster(rpc_url, LensError, timeout=timeout, session=session)
        self._override = {lens_address: {"code": self.code}}
        self._chain_id: int | None = None

    # ------------------------------------------------------------------ JSON-RPC
    @staticmethod
    def _result(answer: Any, what: str) -> Any:
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise LensError(f"malformed JSON-RPC answer to {what}: {str(answer)[:200]}")
        if "error" in answer:
            raise LensError(f"{what} failed: {answer['error']}")
        return answer["result"]

    def _call(self, method: str, params: list, what: str) -> Any:
        return self._result(self._post(self._request(method, params)), what)

    def _hex_result(self, result: Any, what: str) -> bytes:
        if not isinstance(result, str) or not result.startswith("0x"):
            raise LensError(f"{what} answered {str(result)[:80]!r}, not hex data")
        try:
            data = bytes.fromhex(result[2:])
        except ValueError:
            raise LensError(f"{what} answered {result[:80]!r}, not hex data") from None
        if not data:
            raise LensError(f"{what} answered no data (does the node support eth_call state overrides?)")
        return data

    @staticmethod
    def _tag(block: int | str) -> str:
        if isinstance(block, int):
            if block < 0:
                raise LensError(f"block must be >= 0, got {block}")
            return hex(block)
        if block in _TAGS or (isinstance(block, str) and block.startswith("0x")):
            return block
        raise LensError(f"block must be a number or one of {', '.join(_TAGS)}; got {block!r}")

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._call("eth_chainId", [], "eth_chainId"), 16)
        return self._chain_id

    @property
    def addresses_provider(self) -> str:
        """The market's PoolAddressesProvider (read from the Pool the first time when only the pool was given)."""
        if self._provider is None:
            what = f"ADDRESSES_PROVIDER() of pool {self.pool}"
            data = self._hex_result(
                self._call("eth_call", [{"to": self.pool, "data": _ADDRESSES_PROVIDER_SELECTOR}, "latest"], what),
                what,
            )
            if len(data) != 32 or int.from_bytes(data) >> 160:
                raise LensError(f"{what} answered {data.hex()!r}: not an Aave V3 Pool")
            self._provider = to_checksum_address(data[12:])
        return self._provider

    def _lens_call(self, calldata: str, tag: str) -> dict:
        return self._request("eth_call", [{"to": self.lens_address, "data": calldata}, tag, self._override])

    # ------------------------------------------------------------------ reads
    def market(self, block: int | str = "latest") -> MarketSnapshot:
        """Every reserve (state and oracle price), the e-mode categories 1..``max_emode_id`` and the Pool's
        revision at ``block``."""
        provider = self.addresses_provider
        what = f"AaveLens market() of provider {provider} at {block}"
        call = self._lens_call(encode_market_call(provider, self.max_emode_id), self._tag(block))
        snapshot = decode_market(self._hex_result(self._result(self._post(call), what), what), self.chain_id)
        if self.pool is not None and snapshot.pool != self.pool:
            raise LensError(f"addresses provider {provider} points at pool {snapshot.pool}, not {self.pool}")
        return snapshot

    def positions(self, users: Sequence[str], block: int | str = "latest") -> list[UserPosition]:
        """The readable positions of ``users`` at ``block``, in order (see ``read_positions`` for the others)."""
        return list(self.read_positions(users, block).positions)

    def read_positions(self, users: Sequence[str], block: int | str = "latest") -> PositionsRead:
        """Every user's position at one block: ``users_per_call`` users a call, all calls in one JSON-RPC batch."""
        checked = [_address(u, "user") for u in users]
        provider = self.addresses_provider
        tag = self._tag(block)
        chunks = [checked[i : i + self.users_per_call] for i in range(0, len(checked), self.users_per_call)]
        if not chunks:
            number = int(self._call("eth_blockNumber", [], "eth_blockNumber"), 16) if tag in _TAGS else int(tag, 16)
            return PositionsRead(number, (), ())
        if len(chunks) > 1 and tag in _TAGS:
            tag = hex(int(self._call("eth_blockNumber", [], "eth_blockNumber"), 16))  # one block for every chunk
        requests_ = [self._lens_call(encode_positions_call(provider, chunk), tag) for chunk in chunks]
        answers = self._post(requests_[0] if len(requests_) == 1 else requests_)
        if len(requests_) == 1:
            answers = [answers]
        elif not isinstance(answers, list) or len(answers) != len(requests_):
            got = len(answers) if isinstance(answers, list) else str(answers)[:200]
            raise LensError(f"JSON-RPC batch of {len(requests_)} positions() calls answered {got!r}")
        else:
            by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
            answers = [by_id.get(r["id"], {"error": "no answer in the batch"}) for r in requests_]
        positions: list[UserPosition] = []
        failed: list[str] = []
        read_block: int | None = None
        for n, (chunk, answer) in enumerate(zip(chunks, answers)):
            what = f"AaveLens positions() chunk {n} ({len(chunk)} users) at {tag}"
            part = decode_positions(self._hex_result(self._result(answer, what), what), chunk)
            if read_block is None:
                read_block = part.block
            elif part.block != read_block:
                raise LensError(f"positions() chunks read different blocks: {read_block} and {part.block}")
            positions.extend(part.positions)
            failed.extend(part.failed)
        return PositionsRead(read_block or 0, tuple(positions), tuple(failed))
