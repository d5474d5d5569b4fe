"""Flash lenders: what each can lend of each token, and what it charges, read from chain.

``FlashSource`` is one (lender, token) offer with the lender's exact premium rounding:

- Aave V3 ``flashLoanSimple``: ``premium = amount.percentMul(FLASHLOAN_PREMIUM_TOTAL)``, i.e. ``(amount * bps
  + 5000) // 10000`` (half up); liquidity is the underlying held by the reserve's aToken, and the reserve must
  be active, not paused, with flash loans enabled.
- Balancer V2 Vault: ``fee = FixedPoint.mulUp(amount, flashLoanFeePercentage)`` (1e18 scale, rounded up);
  liquidity is the Vault's balance.

``LenderBook`` maps a token to its sources, cheapest first. ``load_lender_book`` reads it with one JSON-RPC
batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from eth_utils import keccak

from flasharb.engine._util import checksum
from flasharb.engine.config import EngineConfig
from flasharb.engine.rpc import ChainReader
from flasharb.route import Lender

__all__ = ["FlashSource", "LenderBook", "load_lender_book"]

HALF_UP = "half_up"
UP = "up"


@dataclass(frozen=True, slots=True)
class FlashSource:
    """``lender`` lends up to ``available`` of ``token`` for ``premium(amount)``:
    ``premium_num / premium_den`` of the amount, rounded ``half_up`` (Aave) or ``up`` (Balancer)."""

    lender: Lender
    token: str
    available: int
    premium_num: int
    premium_den: int
    rounding: str = HALF_UP

    def premium(self, amount: int) -> int:
        if self.premium_num == 0 or amount == 0:
            return 0
        if self.rounding == HALF_UP:
            return (amount * self.premium_num + self.premium_den // 2) // self.premium_den
        return -(-(amount * self.premium_num) // self.premium_den)


class LenderBook:
    """token address -> its flash sources, cheapest premium first (then deepest)."""

    def __init__(self, sources: Iterable[FlashSource]) -> None:
        by_token: dict[str, list[FlashSource]] = {}
        for s in sources:
            if s.available > 0:
                by_token.setdefault(checksum(s.token), []).append(s)
        self._by_token: Mapping[str, tuple[FlashSource, ...]] = MappingProxyType(
            {
                t: tuple(sorted(v, key=lambda s: (s.premium_num * 10**36 // s.premium_den, -s.available)))
                for t, v in by_token.items()
            }
        )

    def sources(self, token: str) -> tuple[FlashSource, ...]:
        found = self._by_token.get(token)
        return found if found is not None else self._by_token.get(checksum(token), ())

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(self._by_token)

    def cheapest_rate(self, token: str) -> tuple[int, int] | None:
        """(num, den) of the cheapest premium for ``token``, or None if nobody lends it."""
        s = self.sources(token)
        return (s[0].premium_num, s[0].premium_den) if s else None

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._by_token.values())
        return f"LenderBook({n} sources over {len(self._by_token)} tokens)"


# ---------------------------------------------------------------------------------------------- chain reads
def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


_BALANCE_OF = _selector("balanceOf(address)")
_PREMIUM_TOTAL = _selector("FLASHLOAN_PREMIUM_TOTAL()")
_RESERVE_DATA = _selector("getReserveData(address)")
_FEES_COLLECTOR = _selector("getProtocolFeesCollector()")
_FLASH_FEE = _selector("getFlashLoanFeePercentage()")

_BIT_ACTIVE, _BIT_PAUSED, _BIT_FLASH = 56, 60, 63


def _arg(address: str) -> str:
    return "0" * 24 + address[2:].lower()


def _eth_call(to: str, data: str, block: str) -> tuple[str, list]:
    return "eth_call", [{"to": to, "data": data}, block]


def _words(hexdata: str | None) -> list[int]:
    raw = bytes.fromhex((hexdata or "0x")[2:])
    return [int.from_bytes(raw[i : i + 32]) for i in range(0, len(raw) - len(raw) % 32, 32)]


def load_lender_book(
    rpc: ChainReader,
    config: EngineConfig,
    tokens: Sequence[str] | None = None,
    *,
    block: int | str = "latest",
) -> LenderBook:
    """Reads every configured lender's premium and liquidity for ``tokens`` (default: the universe)."""
    tag = hex(block) if isinstance(block, int) else block
    tokens = [checksum(t) for t in (tokens or config.token_addresses)]
    sources: list[FlashSource] = []
    aave, vault = config.lenders.aave_pool, config.lenders.balancer_vault

    if aave:
        calls = [_eth_call(aave, _PREMIUM_TOTAL, tag)] + [
            _eth_call(aave, _RESERVE_DATA + _arg(t), tag) for t in tokens
        ]
        answers = rpc.batch(calls)
        premium_bps = _words(answers[0])[0]
        a_tokens: dict[str, str] = {}
        for t, answer in zip(tokens, answers[1:]):
            words = _words(answer)
            if len(words) < 9:
                continue
            config_word, a_token = words[0], words[8]
            usable = (config_word >> _BIT_ACTIVE) & 1 and not (config_word >> _BIT_PAUSED) & 1
            if a_token and usable and (config_word >> _BIT_FLASH) & 1:
                a_tokens[t] = checksum("0x" + a_token.to_bytes(32)[12:].hex())
        balances = rpc.batch([_eth_call(t, _BALANCE_OF + _arg(a), tag) for t, a in a_tokens.items()])
        for (t, _), bal in zip(a_tokens.items(), balances):
            sources.append(FlashSource(Lender.AAVE_SIMPLE, t, _words(bal)[0], premium_bps, 10_000, HALF_UP))

    if vault:
        collector = _words(rpc.call("eth_call", [{"to": vault, "data": _FEES_COLLECTOR}, tag]))[0]
        collector_address = checksum("0x" + collector.to_bytes(32)[12:].hex())
        calls = [_eth_call(collector_address, _FLASH_FEE, tag)] + [
            _eth_call(t, _BALANCE_OF + _arg(vault), tag) for t in tokens
        ]
        answers = rpc.batch(calls)
        fee = _words(answers[0])[0]
        for t, bal in zip(tokens, answers[1:]):
            sources.append(FlashSource(Lender.BALANCER, t, _words(bal)[0], fee, 10**18, UP))
    return LenderBook(sources)
