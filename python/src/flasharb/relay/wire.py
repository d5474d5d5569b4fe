"""The relay's wire format: one opportunity as a compact, versioned, fixed-layout binary message.

The spec is ``docs/relay-wire-format.md``; the golden vectors in ``python/tests/relay/vectors.json`` follow it.
Everything is big-endian and laid out with stdlib ``struct`` (ADR 0005): a fixed 252-byte header (format
version and message type first, then chain, block, deadline, the content-derived opportunity id, the loan and
the profit and gas figures), for a liquidation (message type 2) the fixed 148-byte ``LiquidationTarget``,
then the pools (20 bytes each), the cycle's hops (fixed 99 bytes + the DEX name) and the executor plan bytes
exactly as ``execute(bytes)`` takes them.

Decoding never trusts the sender: an unknown version or message type, a message for another chain, a truncated
or oversized message, trailing bytes, a bad enum or an id that does not match the content each raise a
``WireError`` subclass whose ``reason`` is the dead-letter reason.
"""

from __future__ import annotations

import struct
from functools import lru_cache

try:  # the C Keccak (safe-pysha3, ~0.7 us a hash) when present; pycryptodome's (~8 us) otherwise
    from sha3 import keccak_256 as _keccak256
except ImportError:  # pragma: no cover - depends on the environment
    from Crypto.Hash import keccak as _ck

    def _keccak256(data: bytes):  # type: ignore[no-redef]
        return _ck.new(digest_bits=256, data=data)

from flasharb.engine.types import ARBITRAGE, LIQUIDATION, CycleHop, LiquidationTarget, Opportunity, PoolKind
from flasharb.exceptions import FlasharbError
from flasharb.route import HEADER_SIZE, LIQUIDATION_STEP_SIZE, Lender, StepKind
from flasharb.store.store import opportunity_id as _store_opportunity_id

__all__ = [
    "WIRE_VERSION",
    "MSG_OPPORTUNITY",
    "MSG_LIQUIDATION",
    "MAX_MESSAGE_BYTES",
    "HEADER",
    "HOP",
    "LIQUIDATION_TARGET",
    "Envelope",
    "WireError",
    "UnknownVersion",
    "UnknownMessageType",
    "WrongChain",
    "Truncated",
    "Oversized",
    "Malformed",
    "Unencodable",
    "encode_opportunity",
    "decode_opportunity",
    "peek",
    "opportunity_id",
]

WIRE_VERSION = 1
MSG_OPPORTUNITY = 1  # an arbitrage opportunity
MSG_LIQUIDATION = 2  # a liquidation opportunity: the same header, then its LiquidationTarget
MAX_MESSAGE_BYTES = 4096
MAX_DEX_NAME = 32
# message type <-> the P&L store's strategy name (the wire id equals the store's opportunity id)
_TYPE_STRATEGY = {MSG_OPPORTUNITY: ARBITRAGE, MSG_LIQUIDATION: LIQUIDATION}
_STRATEGY_TYPE = {v: k for k, v in _TYPE_STRATEGY.items()}

FLAG_CAPPED = 0x01

# version, type, flags, lender | chain id, block number, block hash, deadline block, opportunity id |
# loan token, amount in (u128 as hi/lo), expected out (u128), gross profit (i128), flash premium (u128),
# gas estimate (u64), gas price (u128), gas cost (u128), net profit (i128), min profit (u128) |
# pool count, hop count, plan length
HEADER = struct.Struct(">BBBB QQ32sQ32s 20s QQ QQ qQ QQ Q QQ QQ qQ QQ BBH")
# pool, kind (1 V2, 2 V3), zeroForOne, fee pips | token in, token out, amount in (u128), amount out (u128) |
# dex name length (the name follows)
HOP = struct.Struct(">20sBBI 20s20sQQQQ B")
# user, collateral, debt | debt to cover (u128), seized (u128), protocol fee (u128) |
# health factor (u256, wad) | pool revision (u64)
LIQUIDATION_TARGET = struct.Struct(">20s20s20s QQQQQQ 32s Q")
_PREFIX = struct.Struct(">BBBBQ")  # what peek() reads: version, type, flags, lender, chain id

# where a plan's first step starts and a liquidation step's op byte: the plan codec's own constants
# (docs/route-encoding.md; the step is op, collateral asset, user)
PLAN_FIRST_STEP = HEADER_SIZE
LIQUIDATION_OP = StepKind.LIQUIDATION

_KIND_CODE = {PoolKind.V2: 1, PoolKind.V3: 2}
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}
_M64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------- errors
class WireError(FlasharbError):
    """A message that cannot be taken as an opportunity. ``reason`` is what the dead-letter record says."""

    reason = "malformed"


class UnknownVersion(WireError):
    reason = "unknown_version"


class UnknownMessageType(WireError):
    reason = "unknown_message_type"


class WrongChain(WireError):
    reason = "wrong_chain"


class Truncated(WireError):
    reason = "truncated"


class Oversized(WireError):
    reason = "oversized"


class Malformed(WireError):
    reason = "malformed"


class Unencodable(WireError):
    """The publisher's side: a value does not fit its field (never sent)."""

    reason = "unencodable"


# ---------------------------------------------------------------------------------------------- helpers
@lru_cache(maxsize=65536)
def _checksum(raw: bytes) -> str:
    """EIP-55 checksummed form of a 20-byte address (what ``eth_utils.to_checksum_address`` returns, ~5x
    faster: decoding checksums every address of every message, and a busy relay brings new pools all the
    time). Cached: most addresses (tokens, busy pools) come again and again."""
    lower = raw.hex()
    mask = int.from_bytes(_keccak256(lower.encode()).digest()[:20], "big")
    out = bytearray(lower.encode())
    for i in range(40):
        if out[i] > 57 and (mask >> (159 - 4 * i)) & 1:  # a letter whose hash nibble is >= 8: upper case
            out[i] -= 32
    return "0x" + out.decode()


@lru_cache(maxsize=65536)
def _addr_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x").removeprefix("0X"))
    if len(raw) != 20:
        raise Unencodable(f"not a 20-byte address: {address!r}")
    return raw


def _u128(v: int) -> tuple[int, int]:
    if not 0 <= v < 1 << 128:
        raise Unencodable(f"{v} does not fit a uint128")
    return v >> 64, v & _M64


def _i128(v: int) -> tuple[int, int]:
    if not -(1 << 127) <= v < 1 << 127:
        raise Unencodable(f"{v} does not fit an int128")
    return v >> 64, v & _M64


def opportunity_id(opp: Opportunity) -> bytes:
    """The content-derived id (32 bytes): the P&L store's ``opportunity_id`` of the same opportunity (under
    its own strategy), so a relay id, a ``Nats-Msg-Id`` and a store row all name it the same way."""
    return bytes.fromhex(_store_opportunity_id(opp.chain_id, opp.block_number, opp.strategy, opp.plan))


def _message_type(opp: Opportunity) -> int:
    msg_type = _STRATEGY_TYPE.get(opp.strategy)
    if msg_type is None:
        raise Unencodable(f"no message type for strategy {opp.strategy!r}")
    if (msg_type == MSG_LIQUIDATION) != (opp.liquidation is not None):
        raise Unencodable(f"a {opp.strategy} opportunity with liquidation={opp.liquidation!r}")
    return msg_type


def _pack_target(t: LiquidationTarget) -> bytes:
    if not 0 <= t.health_factor < 1 << 256:
        raise Unencodable(f"{t.health_factor} does not fit a uint256")
    return LIQUIDATION_TARGET.pack(
        _addr_bytes(t.user),
        _addr_bytes(t.collateral),
        _addr_bytes(t.debt),
        *_u128(t.debt_to_cover),
        *_u128(t.seized),
        *_u128(t.protocol_fee),
        t.health_factor.to_bytes(32, "big"),
        t.pool_revision,
    )


def _plan_matches_target(plan: bytes, loan_token: bytes, t: bytes) -> bool:
    """Whether the plan's first step is the target's liquidation: op 0x03, the target's collateral and user,
    and the target's debt is the loan token (the step's debt asset is the plan's token). ``t`` is the packed
    target."""
    s = PLAN_FIRST_STEP
    return (
        len(plan) >= s + LIQUIDATION_STEP_SIZE
        and plan[s] == LIQUIDATION_OP
        and plan[s + 1 : s + 21] == t[20:40]
        and plan[s + 21 : s + 41] == t[0:20]
        and t[40:60] == loan_token
    )


def _unpack_target(data: bytes, off: int) -> LiquidationTarget:
    user, collateral, debt, dc_h, dc_l, s_h, s_l, pf_h, pf_l, hf, revision = LIQUIDATION_TARGET.unpack_from(
        data, off
    )
    return LiquidationTarget(
        user=_checksum(user),
        collateral=_checksum(collateral),
        debt=_checksum(debt),
        debt_to_cover=(dc_h << 64) | dc_l,
        seized=(s_h << 64) | s_l,
        protocol_fee=(pf_h << 64) | pf_l,
        health_factor=int.from_bytes(hf, "big"),
        pool_revision=revision,
    )


# ---------------------------------------------------------------------------------------------- encode
def encode_opportunity(opp: Opportunity) -> bytes:
    """The wire form of ``opp`` (raises ``Unencodable`` if a value does not fit its field)."""
    block_hash = bytes.fromhex(opp.block_hash.removeprefix("0x"))
    if len(block_hash) != 32:
        raise Unencodable(f"block hash is not 32 bytes: {opp.block_hash!r}")
    if len(opp.pools) > 255 or len(opp.cycle) > 255 or len(opp.plan) > 0xFFFF:
        raise Unencodable("too many pools or hops, or plan too long")
    msg_type = _message_type(opp)
    try:
        parts = [
            HEADER.pack(
                WIRE_VERSION,
                msg_type,
                FLAG_CAPPED if opp.capped else 0,
                int(opp.lender),
                opp.chain_id,
                opp.block_number,
                block_hash,
                opp.deadline_block,
                opportunity_id(opp),
                _addr_bytes(opp.loan_token),
                *_u128(opp.amount_in),
                *_u128(opp.expected_out),
                *_i128(opp.gross_profit),
                *_u128(opp.flash_premium),
                opp.gas_estimate,
                *_u128(opp.gas_price),
                *_u128(opp.gas_cost),
                *_i128(opp.net_profit),
                *_u128(opp.min_profit),
                len(opp.pools),
                len(opp.cycle),
                len(opp.plan),
            )
        ]
        if opp.liquidation is not None:
            target = _pack_target(opp.liquidation)
            if not _plan_matches_target(opp.plan, _addr_bytes(opp.loan_token), target):
                raise Unencodable("the plan does not start with the target's liquidation, or debt != loan")
            parts.append(target)
        parts.extend(_addr_bytes(p) for p in opp.pools)
        for h in opp.cycle:
            dex = h.dex.encode()
            if len(dex) > MAX_DEX_NAME:
                raise Unencodable(f"DEX name longer than {MAX_DEX_NAME} bytes: {h.dex!r}")
            parts.append(
                HOP.pack(
                    _addr_bytes(h.pool),
                    _KIND_CODE[h.kind],
                    1 if h.zero_for_one else 0,
                    h.fee_pips,
                    _addr_bytes(h.token_in),
                    _addr_bytes(h.token_out),
                    *_u128(h.amount_in),
                    *_u128(h.amount_out),
                    len(dex),
                )
            )
            parts.append(dex)
    except struct.error as exc:  # a u64/u32 field out of range
        raise Unencodable(str(exc)) from None
    parts.append(opp.plan)
    data = b"".join(parts)
    if len(data) > MAX_MESSAGE_BYTES:
        raise Unencodable(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    return data


# ---------------------------------------------------------------------------------------------- decode
class Envelope(tuple):
    """``(version, message_type, chain_id)`` as read by ``peek``."""

    __slots__ = ()

    @property
    def version(self) -> int:
        return self[0]

    @property
    def message_type(self) -> int:
        return self[1]

    @property
    def chain_id(self) -> int:
        return self[2]


def peek(data: bytes, *, chain_id: int | None = None) -> Envelope:
    """Checks what comes first (size, version, type, chain) without decoding the rest."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise Oversized(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    if len(data) < 2:
        raise Truncated(f"message of {len(data)} bytes has no version and type")
    if data[0] != WIRE_VERSION:
        raise UnknownVersion(f"wire version {data[0]} (this build reads {WIRE_VERSION})")
    if data[1] not in _TYPE_STRATEGY:
        raise UnknownMessageType(f"message type {data[1]}")
    if len(data) < _PREFIX.size:
        raise Truncated(f"message of {len(data)} bytes has no chain id")
    chain = _PREFIX.unpack_from(data)[4]
    if chain_id is not None and chain != chain_id:
        raise WrongChain(f"message for chain {chain}, this agent is on chain {chain_id}")
    return Envelope((data[0], data[1], chain))


def decode_opportunity(data: bytes, *, chain_id: int | None = None) -> Opportunity:
    """The opportunity in ``data``; ``chain_id`` (when given) must be the message's chain."""
    data = bytes(data)
    peek(data, chain_id=chain_id)
    if len(data) < HEADER.size:
        raise Truncated(f"message of {len(data)} bytes is shorter than the {HEADER.size}-byte header")
    (
        _v, msg_type, flags, lender, chain, block_number, block_hash, deadline, opp_id, loan_token,
        ai_h, ai_l, eo_h, eo_l, gp_h, gp_l, fp_h, fp_l, gas_estimate, gpr_h, gpr_l, gc_h, gc_l,
        np_h, np_l, mp_h, mp_l, n_pools, n_hops, plan_len,
    ) = HEADER.unpack_from(data)  # fmt: skip
    if flags & ~FLAG_CAPPED:
        raise Malformed(f"unknown flags 0x{flags:02x}")
    try:
        lender_e = Lender(lender)
    except ValueError:
        raise Malformed(f"unknown lender {lender}") from None
    off = HEADER.size
    target = None
    if msg_type == MSG_LIQUIDATION:
        off += LIQUIDATION_TARGET.size
    need = off + 20 * n_pools + HOP.size * n_hops + plan_len
    if len(data) < need:
        raise Truncated(f"message of {len(data)} bytes, its counts need at least {need}")
    if msg_type == MSG_LIQUIDATION:
        target = _unpack_target(data, HEADER.size)
    pools = tuple(_checksum(data[off + 20 * i : off + 20 * i + 20]) for i in range(n_pools))
    off += 20 * n_pools
    hops = []
    for _ in range(n_hops):
        if len(data) < off + HOP.size:
            raise Truncated("message ends inside a hop")
        pool, kind, zfo, fee, t_in, t_out, ain_h, ain_l, aout_h, aout_l, dex_len = HOP.unpack_from(data, off)
        off += HOP.size
        if kind not in _CODE_KIND or zfo > 1 or dex_len > MAX_DEX_NAME:
            raise Malformed(f"bad hop (kind {kind}, zeroForOne {zfo}, dex name {dex_len} bytes)")
        if len(data) < off + dex_len:
            raise Truncated("message ends inside a DEX name")
        try:
            dex = data[off : off + dex_len].decode()
        except UnicodeDecodeError:
            raise Malformed("DEX name is not UTF-8") from None
        off += dex_len
        hops.append(
            CycleHop(
                pool=_checksum(pool),
                kind=_CODE_KIND[kind],
                dex=dex,
                zero_for_one=bool(zfo),
                token_in=_checksum(t_in),
                token_out=_checksum(t_out),
                fee_pips=fee,
                amount_in=(ain_h << 64) | ain_l,
                amount_out=(aout_h << 64) | aout_l,
            )
        )
    end = off + plan_len
    if len(data) < end:
        raise Truncated(f"message of {len(data)} bytes ends inside the {plan_len}-byte plan")
    if len(data) > end:
        raise Oversized(f"{len(data) - end} bytes after the plan")
    if target is not None and not _plan_matches_target(
        data[off:end], loan_token, data[HEADER.size : HEADER.size + LIQUIDATION_TARGET.size]
    ):
        raise Malformed("the plan does not start with the target's liquidation (or debt != loan token)")
    opp = Opportunity(
        chain_id=chain,
        block_number=block_number,
        block_hash="0x" + block_hash.hex(),
        deadline_block=deadline,
        cycle=tuple(hops),
        lender=lender_e,
        loan_token=_checksum(loan_token),
        amount_in=(ai_h << 64) | ai_l,
        expected_out=(eo_h << 64) | eo_l,
        gross_profit=(gp_h << 64) + gp_l,
        flash_premium=(fp_h << 64) | fp_l,
        gas_estimate=gas_estimate,
        gas_price=(gpr_h << 64) | gpr_l,
        gas_cost=(gc_h << 64) | gc_l,
        net_profit=(np_h << 64) + np_l,
        min_profit=(mp_h << 64) | mp_l,
        plan=data[off:end],
        pools=pools,
        capped=bool(flags & FLAG_CAPPED),
        strategy=_TYPE_STRATEGY[msg_type],
        liquidation=target,
    )
    if opportunity_id(opp) != opp_id:
        raise Malformed("opportunity id does not match the content")
    return opp


def message_id(data: bytes) -> str:
    """The opportunity id of an encoded message (hex), read without decoding: the ``Nats-Msg-Id``."""
    return data[_ID_OFFSET : _ID_OFFSET + 32].hex()


_ID_OFFSET = struct.calcsize(">BBBBQQ32sQ")
