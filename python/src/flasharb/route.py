"""The executor plan (route) codec, version 1: the Python side of docs/route-encoding.md.

``FlashArbExecutor.execute(bytes plan)`` takes a 59-byte header followed by 2..8 steps, big-endian and packed.
This module builds plans as frozen records, checks every field against its Solidity width when the record is
built (so a ``Plan`` that exists always encodes), and encodes/decodes the wire format. The golden vectors in
test/vectors/routes.json (written by python/tools/gen_route_vectors.py) are shared with the Solidity decoder.

Speed: a step encodes itself once, when it is built, and keeps the bytes; ``encode_plan`` packs the header
with one ``struct`` call and joins. Addresses are stored checksummed (decode(encode(p)) == p) through a cached
checksum, so the same pools and tokens cost the keccak once per process.

Step kinds are open: a kind is a frozen dataclass with ``KIND``, an ``_encoded`` field set in ``__post_init__``,
and a decoder registered with :func:`register_step_kind`. Kind 3 is the Aave V3 liquidation
(:class:`LiquidationStep`): it may only be the first step, and its debt asset is the plan's token.

Decoding checks, in PlanLib's order (every invalid golden vector breaks exactly one of them, so any order
passes them): not empty (``PlanMalformed``), version (``UnsupportedPlanVersion``), length >= 59
(``PlanMalformed``), lender (``UnsupportedLender``), step count 2..8 (``PlanMalformed``), then each step:
its op byte is present (``PlanMalformed``), known kind and flags (``UnsupportedStep``), a liquidation step is
the first one (``PlanMalformed``), its bytes are present, a V2 fee is below 100% and a liquidation's collateral
is not the plan's token (``PlanMalformed``); finally nothing may follow the last step (``PlanMalformed``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import ClassVar, Protocol, TypeAlias

from flasharb.exceptions import FlasharbError

try:  # Rust checksum (a dependency of eth-ape), ~20x faster than eth_utils; same result.
    from cchecksum import to_checksum_address as _to_checksum
except ImportError:  # pragma: no cover
    from eth_utils import to_checksum_address as _to_checksum

__all__ = [
    "PLAN_VERSION",
    "MAX_FEE_PIPS",
    "HEADER_SIZE",
    "MIN_STEPS",
    "MAX_STEPS",
    "Lender",
    "StepKind",
    "V2Step",
    "V3Step",
    "LiquidationStep",
    "Step",
    "Plan",
    "encode_plan",
    "decode_plan",
    "register_step_kind",
    "plan_to_json",
    "plan_from_json",
    "PlanError",
    "PlanFieldError",
    "UnsupportedPlanVersion",
    "UnsupportedLender",
    "UnsupportedStep",
    "PlanMalformed",
]

# ---------------------------------------------------------------------------------------------- constants
PLAN_VERSION = 1
HEADER_SIZE = 59
MIN_STEPS = 2
MAX_STEPS = 8

OP_KIND_MASK = 0x0F
OP_FLAG_PRICE_LIMIT = 0x40  # bit 6, V3 only: a sqrtPriceLimitX96 follows
OP_FLAG_ZERO_FOR_ONE = 0x80  # bit 7

V2_STEP_SIZE = 24
V3_STEP_SIZE = 41
V3_STEP_SIZE_WITH_LIMIT = 61
LIQUIDATION_STEP_SIZE = 41

UINT24_MAX = (1 << 24) - 1
MAX_FEE_PIPS = 999_999  # a V2 fee of 100% or more is malformed (PlanLib checks it too)
UINT32_MAX = (1 << 32) - 1
UINT128_MAX = (1 << 128) - 1
UINT160_MAX = (1 << 160) - 1

# version, lender, steps, deadline (7 bytes); token, amountIn, minProfit follow as raw bytes
_HEADER_HEAD = struct.Struct(">BBBI")


# ---------------------------------------------------------------------------------------------- errors
class PlanError(FlasharbError):
    """A plan cannot be built, encoded or decoded. ``solidity_error`` names the executor's matching revert."""

    solidity_error: ClassVar[str | None] = None


class PlanFieldError(PlanError, ValueError):
    """A field is out of its Solidity range or malformed (Python side only: the wire cannot carry it)."""


class UnsupportedPlanVersion(PlanError):
    """The version byte is not 1. ``version`` is the byte found."""

    solidity_error = "UnsupportedPlanVersion"

    def __init__(self, version: int) -> None:
        super().__init__(f"unsupported plan version {version} (this codec speaks {PLAN_VERSION})")
        self.version = version


class UnsupportedLender(PlanError):
    """The lender byte is not a known lender. ``lender`` is the byte found."""

    solidity_error = "UnsupportedLender"

    def __init__(self, lender: int) -> None:
        super().__init__(f"unsupported lender {lender}")
        self.lender = lender


class UnsupportedStep(PlanError):
    """A step's op byte has an unknown kind or a flag its kind does not take. ``op`` is the byte found."""

    solidity_error = "UnsupportedStep"

    def __init__(self, op: int, reason: str = "") -> None:
        super().__init__(f"unsupported step op 0x{op:02x}" + (f": {reason}" if reason else ""))
        self.op = op


class PlanMalformed(PlanError):
    """The step count is outside 2..8 or the length differs from the one the steps imply."""

    solidity_error = "PlanMalformed"


# ---------------------------------------------------------------------------------------------- field checks
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@lru_cache(maxsize=1 << 16)
def _checksum(address: str) -> str:
    """``address`` checksummed; PlanFieldError if not 0x + 40 hex or if its mixed case is a bad checksum."""
    if type(address) is not str or not _HEX_ADDRESS.fullmatch(address):
        raise PlanFieldError(f"not an address: {address!r}")
    checksummed = _to_checksum(address)
    body = address[2:]
    if address != checksummed and body != body.lower() and body != body.upper():
        raise PlanFieldError(f"bad address checksum: {address} (expected {checksummed})")
    return checksummed


@lru_cache(maxsize=1 << 16)
def _address_from_bytes(raw: bytes) -> str:
    return _to_checksum("0x" + raw.hex())


def _address(name: str, value: object) -> str:
    try:
        return _checksum(value)  # type: ignore[arg-type]
    except TypeError:  # unhashable
        raise PlanFieldError(f"{name}: not an address: {value!r}") from None
    except PlanFieldError as exc:
        raise PlanFieldError(f"{name}: {exc}") from None


def _uint(name: str, value: object, maximum: int) -> int:
    if type(value) is not int:  # bool is an int subclass: refuse it too
        raise PlanFieldError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise PlanFieldError(f"{name} out of range 0..{maximum}: {value}")
    return value


def _bool(name: str, value: object) -> bool:
    if type(value) is not bool:
        raise PlanFieldError(f"{name} must be a bool, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------- enums
class Lender(IntEnum):
    """How the first step's input is funded (the header's ``lender`` byte)."""

    CAPITAL = 0
    AAVE_SIMPLE = 1
    AAVE_MULTI = 2
    BALANCER = 3


class StepKind(IntEnum):
    """The low nibble of a step's op byte."""

    V2 = 1
    V3 = 2
    LIQUIDATION = 3


# ---------------------------------------------------------------------------------------------- steps
@dataclass(frozen=True, slots=True)
class V2Step:
    """Kind 1: a Uniswap V2-style pair (24 bytes). ``fee_pips`` in millionths (3000 = 0.30%), below 1e6."""

    KIND: ClassVar[int] = StepKind.V2

    pair: str
    zero_for_one: bool
    fee_pips: int
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pair = _address("pair", self.pair)
        object.__setattr__(self, "pair", pair)
        zero_for_one = _bool("zero_for_one", self.zero_for_one)
        fee = _uint("fee_pips", self.fee_pips, MAX_FEE_PIPS)
        op = StepKind.V2 | (OP_FLAG_ZERO_FOR_ONE if zero_for_one else 0)
        object.__setattr__(self, "_encoded", bytes((op,)) + bytes.fromhex(pair[2:]) + fee.to_bytes(3, "big"))

    @property
    def op(self) -> int:
        return self._encoded[0]


@dataclass(frozen=True, slots=True)
class V3Step:
    """Kind 2: a Uniswap V3-style pool (41 bytes, 61 with a price limit); the callback pays ``token_in``.

    ``sqrt_price_limit_x96`` None means the pool's own min/max limit (no bytes on the wire).
    """

    KIND: ClassVar[int] = StepKind.V3

    pool: str
    zero_for_one: bool
    token_in: str
    sqrt_price_limit_x96: int | None = None
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pool = _address("pool", self.pool)
        token_in = _address("token_in", self.token_in)
        object.__setattr__(self, "pool", pool)
        object.__setattr__(self, "token_in", token_in)
        zero_for_one = _bool("zero_for_one", self.zero_for_one)
        limit = self.sqrt_price_limit_x96
        op = StepKind.V3 | (OP_FLAG_ZERO_FOR_ONE if zero_for_one else 0)
        body = bytes.fromhex(pool[2:] + token_in[2:])
        if limit is None:
            encoded = bytes((op,)) + body
        else:
            _uint("sqrt_price_limit_x96", limit, UINT160_MAX)
            encoded = bytes((op | OP_FLAG_PRICE_LIMIT,)) + body + limit.to_bytes(20, "big")
        object.__setattr__(self, "_encoded", encoded)

    @property
    def op(self) -> int:
        return self._encoded[0]


@dataclass(frozen=True, slots=True)
class LiquidationStep:
    """Kind 3: an Aave V3 liquidation on the executor's own Aave Pool (41 bytes, no flags).

    Repays up to the plan's ``amount_in`` of ``user``'s debt in the plan's token and receives the seized
    ``collateral`` (the underlying), which the next steps sell back. Only the first step of a plan, and
    ``collateral`` must differ from the plan's token (:class:`Plan` checks both, as the executor does).
    """

    KIND: ClassVar[int] = StepKind.LIQUIDATION

    collateral: str
    user: str
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        collateral = _address("collateral", self.collateral)
        user = _address("user", self.user)
        object.__setattr__(self, "collateral", collateral)
        object.__setattr__(self, "user", user)
        encoded = bytes((StepKind.LIQUIDATION,)) + bytes.fromhex(collateral[2:] + user[2:])
        object.__setattr__(self, "_encoded", encoded)

    @property
    def op(self) -> int:
        return self._encoded[0]


class _EncodedStep(Protocol):
    KIND: ClassVar[int]
    _encoded: bytes


Step: TypeAlias = "V2Step | V3Step | LiquidationStep"

#: Decodes one step: (data, offset of its op byte, op) -> (step, offset after it). Raises UnsupportedStep for
#: flags the kind does not take and PlanMalformed when the data ends early.
StepDecoder: TypeAlias = Callable[[bytes, int, int], "tuple[object, int]"]

_STEP_DECODERS: dict[int, StepDecoder] = {}
_STEP_TYPES: set[type] = set()


def register_step_kind(kind: int, step_type: type[_EncodedStep], decoder: StepDecoder) -> None:
    """Adds a step kind (1..15). ``step_type`` must be a frozen dataclass with ``KIND`` and ``_encoded``."""
    if not 1 <= kind <= OP_KIND_MASK:
        raise ValueError(f"step kind must be 1..15, got {kind}")
    if getattr(step_type, "KIND", None) != kind:
        raise ValueError(f"{step_type.__name__}.KIND must be {kind}")
    if kind in _STEP_DECODERS:
        raise ValueError(f"step kind {kind} is already registered")
    _STEP_DECODERS[kind] = decoder
    _STEP_TYPES.add(step_type)


def _need(data: bytes, end: int, what: str) -> None:
    if len(data) < end:
        raise PlanMalformed(f"plan ends inside {what}: needs {end} bytes, has {len(data)}")


def _decode_v2(data: bytes, at: int, op: int) -> tuple[V2Step, int]:
    if op & ~(OP_KIND_MASK | OP_FLAG_ZERO_FOR_ONE):
        raise UnsupportedStep(op, "V2 takes only the zeroForOne flag")
    end = at + V2_STEP_SIZE
    _need(data, end, "a V2 step")
    fee = int.from_bytes(data[at + 21 : end])
    if fee > MAX_FEE_PIPS:
        raise PlanMalformed(f"V2 fee {fee} pips is 100% or more")
    return V2Step(_address_from_bytes(data[at + 1 : at + 21]), bool(op & OP_FLAG_ZERO_FOR_ONE), fee), end


def _decode_v3(data: bytes, at: int, op: int) -> tuple[V3Step, int]:
    if op & ~(OP_KIND_MASK | OP_FLAG_ZERO_FOR_ONE | OP_FLAG_PRICE_LIMIT):
        raise UnsupportedStep(op, "V3 takes only the zeroForOne and price-limit flags")
    has_limit = bool(op & OP_FLAG_PRICE_LIMIT)
    end = at + (V3_STEP_SIZE_WITH_LIMIT if has_limit else V3_STEP_SIZE)
    _need(data, end, "a V3 step")
    step = V3Step(
        _address_from_bytes(data[at + 1 : at + 21]),
        bool(op & OP_FLAG_ZERO_FOR_ONE),
        _address_from_bytes(data[at + 21 : at + 41]),
        int.from_bytes(data[at + 41 : end]) if has_limit else None,
    )
    return step, end


def _decode_liquidation(data: bytes, at: int, op: int) -> tuple[LiquidationStep, int]:
    if op != StepKind.LIQUIDATION:
        raise UnsupportedStep(op, "a liquidation takes no flags")
    if at != HEADER_SIZE:
        raise PlanMalformed("a liquidation step may only be the first step")
    end = at + LIQUIDATION_STEP_SIZE
    _need(data, end, "a liquidation step")
    if data[at + 1 : at + 21] == data[7:27]:
        raise PlanMalformed("a liquidation's collateral must differ from the plan token (its debt asset)")
    step = LiquidationStep(_address_from_bytes(data[at + 1 : at + 21]), _address_from_bytes(data[at + 21 : end]))
    return step, end


register_step_kind(StepKind.V2, V2Step, _decode_v2)
register_step_kind(StepKind.V3, V3Step, _decode_v3)
register_step_kind(StepKind.LIQUIDATION, LiquidationStep, _decode_liquidation)


# ---------------------------------------------------------------------------------------------- plan
@dataclass(frozen=True, slots=True)
class Plan:
    """What ``FlashArbExecutor.execute`` runs: funding, deadline block, loan token, input, least profit and
    the hops."""

    lender: Lender
    deadline: int
    token: str
    amount_in: int
    min_profit: int
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        lender = self.lender
        if type(lender) is not Lender:
            if type(lender) is not int:
                raise PlanFieldError(f"lender must be a Lender, got {type(lender).__name__}")
            try:
                lender = Lender(lender)
            except ValueError:
                raise UnsupportedLender(lender) from None
            object.__setattr__(self, "lender", lender)
        _uint("deadline", self.deadline, UINT32_MAX)
        object.__setattr__(self, "token", _address("token", self.token))
        _uint("amount_in", self.amount_in, UINT128_MAX)
        _uint("min_profit", self.min_profit, UINT128_MAX)
        steps = self.steps
        if type(steps) is not tuple:
            steps = tuple(steps)
            object.__setattr__(self, "steps", steps)
        if not MIN_STEPS <= len(steps) <= MAX_STEPS:
            raise PlanMalformed(f"a plan has {MIN_STEPS}..{MAX_STEPS} steps, got {len(steps)}")
        for i, step in enumerate(steps):
            if type(step) not in _STEP_TYPES:
                raise PlanFieldError(f"not a step: {step!r}")
            if type(step) is LiquidationStep:
                if i:
                    raise PlanMalformed(f"a liquidation step may only be the first step, found at step {i}")
                if step.collateral == self.token:
                    raise PlanMalformed("a liquidation's collateral must differ from the plan token (its debt asset)")

    @property
    def hops(self) -> int:
        return len(self.steps)


def encode_plan(plan: Plan) -> bytes:
    """The wire bytes of ``plan`` (fields were checked when it was built)."""
    steps = plan.steps
    return b"".join(
        (
            _HEADER_HEAD.pack(PLAN_VERSION, plan.lender, len(steps), plan.deadline),
            bytes.fromhex(plan.token[2:]),
            plan.amount_in.to_bytes(16, "big"),
            plan.min_profit.to_bytes(16, "big"),
            *[s._encoded for s in steps],
        )
    )


def decode_plan(data: bytes | bytearray | memoryview) -> Plan:
    """The plan in ``data``; raises the PlanError subclass named after the executor's revert."""
    data = bytes(data)
    size = len(data)
    if not size:
        raise PlanMalformed("empty plan")
    if data[0] != PLAN_VERSION:
        raise UnsupportedPlanVersion(data[0])
    if size < HEADER_SIZE:
        raise PlanMalformed(f"plan is {size} bytes, shorter than the {HEADER_SIZE}-byte header")
    _, lender, count, deadline = _HEADER_HEAD.unpack_from(data)
    try:
        lender = Lender(lender)
    except ValueError:
        raise UnsupportedLender(lender) from None
    if not MIN_STEPS <= count <= MAX_STEPS:
        raise PlanMalformed(f"a plan has {MIN_STEPS}..{MAX_STEPS} steps, header says {count}")
    steps = []
    at = HEADER_SIZE
    decoders = _STEP_DECODERS
    for i in range(count):
        if at >= size:
            raise PlanMalformed(f"plan ends before step {i} of {count}")
        op = data[at]
        decoder = decoders.get(op & OP_KIND_MASK)
        if decoder is None:
            raise UnsupportedStep(op, f"unknown kind {op & OP_KIND_MASK}")
        step, at = decoder(data, at, op)
        steps.append(step)
    if at != size:
        raise PlanMalformed(f"{size - at} bytes follow the last step")
    return Plan(
        lender,
        deadline,
        _address_from_bytes(data[7:27]),
        int.from_bytes(data[27:43]),
        int.from_bytes(data[43:59]),
        tuple(steps),
    )


# ---------------------------------------------------------------------------------------------- JSON form
# The golden vectors' shape (test/vectors/routes.json): the spec's field names, ints as decimal strings (JSON
# numbers lose precision past 2**53, and forge's vm.parseJsonUint reads decimal strings), addresses
# checksummed.


def plan_to_json(plan: Plan) -> dict:
    """``plan`` as the JSON object of the golden vectors."""
    steps = []
    for step in plan.steps:
        if type(step) is V2Step:
            steps.append(
                {
                    "kind": str(StepKind.V2),
                    "op": str(step.op),
                    "pair": step.pair,
                    "zeroForOne": step.zero_for_one,
                    "feePips": str(step.fee_pips),
                }
            )
        elif type(step) is V3Step:
            item = {
                "kind": str(StepKind.V3),
                "op": str(step.op),
                "pool": step.pool,
                "zeroForOne": step.zero_for_one,
                "tokenIn": step.token_in,
                "hasPriceLimit": step.sqrt_price_limit_x96 is not None,
            }
            if step.sqrt_price_limit_x96 is not None:
                item["sqrtPriceLimitX96"] = str(step.sqrt_price_limit_x96)
            steps.append(item)
        elif type(step) is LiquidationStep:
            steps.append(
                {
                    "kind": str(StepKind.LIQUIDATION),
                    "op": str(step.op),
                    "collateral": step.collateral,
                    "user": step.user,
                }
            )
        else:
            raise PlanFieldError(f"no JSON form for step {step!r}")
    return {
        "version": str(PLAN_VERSION),
        "lender": str(int(plan.lender)),
        "lenderName": plan.lender.name,
        "deadline": str(plan.deadline),
        "token": plan.token,
        "amountIn": str(plan.amount_in),
        "minProfit": str(plan.min_profit),
        "steps": steps,
    }


def plan_from_json(obj: dict) -> Plan:
    """The plan of a golden vector's JSON object (the inverse of :func:`plan_to_json`)."""
    if int(obj.get("version", PLAN_VERSION)) != PLAN_VERSION:
        raise UnsupportedPlanVersion(int(obj["version"]))
    steps: list[Step] = []
    for item in obj["steps"]:
        kind = int(item["kind"])
        if kind == StepKind.V2:
            steps.append(V2Step(item["pair"], item["zeroForOne"], int(item["feePips"])))
        elif kind == StepKind.V3:
            limit = item.get("sqrtPriceLimitX96")
            limit = None if limit is None else int(limit)
            steps.append(V3Step(item["pool"], item["zeroForOne"], item["tokenIn"], limit))
        elif kind == StepKind.LIQUIDATION:
            steps.append(LiquidationStep(item["collateral"], item["user"]))
        else:
            raise UnsupportedStep(kind, "no JSON form")
    return Plan(
        int(obj["lender"]),
        int(obj["deadline"]),
        obj["token"],
        int(obj["amountIn"]),
        int(obj["minProfit"]),
        tuple(steps),
    )
