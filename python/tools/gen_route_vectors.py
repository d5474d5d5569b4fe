"""Writes test/vectors/routes.json: the plan-encoding golden vectors shared by flasharb.route and PlanLib.

    python python/tools/gen_route_vectors.py           # (re)write the file
    python python/tools/gen_route_vectors.py --check   # exit 1 if the committed file is stale

Deterministic: addresses are keccak256("flasharb/vectors/<label>")[12:] (plus the zero and all-ones
addresses for byte boundaries), so the output only changes when this script or the codec changes. The "valid"
vectors are encoded by flasharb.route; each "invalid" vector is built by hand from valid bytes and breaks
exactly one rule, so it fails with the same error whatever order a decoder checks in. "error" is the
executor's custom error name and "errorArg" (when the error takes one) its argument as a decimal string.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eth_utils import keccak, to_checksum_address

from flasharb.paths import repo_root
from flasharb.route import (
    HEADER_SIZE,
    MAX_FEE_PIPS,
    UINT32_MAX,
    UINT128_MAX,
    UINT160_MAX,
    LiquidationStep,
    Lender,
    Plan,
    V2Step,
    V3Step,
    encode_plan,
    plan_to_json,
)

MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
ZERO = "0x" + "00" * 20
ONES = to_checksum_address("0x" + "ff" * 20)


def addr(label: str) -> str:
    return to_checksum_address(keccak(f"flasharb/vectors/{label}".encode())[12:])


SYMBOLS = ("WMATIC", "USDC", "WETH", "USDT", "WBTC", "DAI")
WMATIC, USDC, WETH, USDT, WBTC, DAI = (addr(f"token/{s}") for s in SYMBOLS)
E18 = 10**18


def v2(label: str, zero_for_one: bool, fee: int = 3000) -> V2Step:
    return V2Step(addr(f"v2/{label}"), zero_for_one, fee)


def v3(label: str, zero_for_one: bool, token_in: str, limit: int | None = None) -> V3Step:
    return V3Step(addr(f"v3/{label}"), zero_for_one, token_in, limit)


def valid_plans() -> list[tuple[str, Plan]]:
    return [
        (
            "2-hop V2/V2, capital",
            Plan(Lender.CAPITAL, 65_000_000, WMATIC, 1_000 * E18, 10**15,
                 (v2("quick/WMATIC-USDC", True), v2("sushi/WMATIC-USDC", False))),
        ),
        (
            "3-hop V2/V3/V2, aave simple",
            Plan(Lender.AAVE_SIMPLE, 65_000_001, USDC, 50_000 * 10**6, 5 * 10**6,
                 (v2("quick/WETH-USDC", False), v3("WETH-WBTC-500", True, WETH),
                  v2("sushi/WBTC-USDC", True))),
        ),
        (
            "2-hop V3/V3 with price limits at MIN+1 and MAX-1, capital",
            Plan(Lender.CAPITAL, 65_000_002, WETH, 3 * E18, 0,
                 (v3("WETH-USDC-500", True, WETH, MIN_SQRT_RATIO + 1),
                  v3("WETH-USDC-3000", False, USDC, MAX_SQRT_RATIO - 1))),
        ),
        (
            "3-hop V3 limit/V3 no limit/V2, aave simple",
            Plan(Lender.AAVE_SIMPLE, 65_000_003, WMATIC, 25_000 * E18, 2 * E18,
                 (v3("WMATIC-WETH-500", False, WMATIC, Q96 * 2),
                  v3("WETH-USDC-3000", True, WETH), v2("quick/WMATIC-USDC", False))),
        ),
        (
            "5-hop mixed, aave multi",
            Plan(Lender.AAVE_MULTI, 65_000_004, USDC, 100_000 * 10**6, 20 * 10**6,
                 (v2("quick/WETH-USDC", False), v3("WBTC-WETH-3000", False, WETH),
                  v2("sushi/WBTC-USDT", True, 2500), v3("USDC-USDT-100", False, USDT, Q96 + 1),
                  v2("quick/DAI-USDC", True, 1000))),
        ),
        (
            "8-hop mixed, balancer",
            Plan(Lender.BALANCER, 65_000_005, WETH, 40 * E18, 10**16,
                 (v3("WETH-USDC-500", True, WETH), v2("quick/USDC-USDT", True),
                  v2("sushi/USDT-DAI", False, 2500),
                  v3("DAI-WMATIC-3000", True, DAI, MIN_SQRT_RATIO + 12345), v2("quick/WMATIC-WBTC", True),
                  v3("WBTC-USDC-500", True, WBTC), v2("sushi/USDC-WMATIC", False),
                  v3("WMATIC-WETH-3000", True, WMATIC, MAX_SQRT_RATIO - 1))),
        ),
        (
            "2-hop V3/V2, balancer",
            Plan(Lender.BALANCER, 65_000_006, WBTC, 2 * 10**8, 10**4,
                 (v3("WBTC-WETH-500", True, WBTC), v2("sushi/WBTC-WETH", False))),
        ),
        (
            "3-hop V2/V3/V3, aave multi",
            Plan(Lender.AAVE_MULTI, 65_000_007, DAI, 75_000 * E18, 3 * E18,
                 (v2("quick/DAI-USDC", False), v3("USDC-USDT-500", True, USDC, MIN_SQRT_RATIO + 1),
                  v3("USDT-DAI-100", False, USDT))),
        ),
        (
            "8-hop all V2, smallest steps",
            Plan(Lender.CAPITAL, 65_000_008, WMATIC, E18, 1,
                 tuple(v2(f"ring/{i}", i % 2 == 0, 3000 - 500 * (i % 3)) for i in range(8))),
        ),
        (
            "8-hop all V3 with limits, longest plan (547 bytes)",
            Plan(Lender.AAVE_SIMPLE, 65_000_009, USDC, 10**6, 0,
                 tuple(v3(f"ring/{i}", i % 2 == 1, addr(f"token/ring/{i}"), MIN_SQRT_RATIO + i)
                       for i in range(8))),
        ),
        (
            "edge values: max uint32/uint128/uint160, fee 999999, zero and all-ones addresses",
            Plan(Lender.BALANCER, UINT32_MAX, ONES, UINT128_MAX, UINT128_MAX,
                 (V2Step(ZERO, True, MAX_FEE_PIPS), V3Step(ONES, True, ZERO, UINT160_MAX),
                  V2Step(ONES, False, 0))),
        ),
        (
            "2-step liquidation (WETH collateral, USDC debt) + V2 swap back, balancer",
            Plan(Lender.BALANCER, 65_000_010, USDC, 8_000 * 10**6, 40 * 10**6,
                 (LiquidationStep(WETH, addr("borrower/1")), v2("quick/WETH-USDC", True))),
        ),
        (
            "2-step liquidation + V3 swap back, aave simple",
            Plan(Lender.AAVE_SIMPLE, 65_000_011, USDC, 5_000 * 10**6, 10**6,
                 (LiquidationStep(WBTC, addr("borrower/2")), v3("WBTC-USDC-500", True, WBTC))),
        ),
        (
            "3-step liquidation + V3 limit/V2 swap back, capital",
            Plan(Lender.CAPITAL, 65_000_012, DAI, 20_000 * E18, 0,
                 (LiquidationStep(WMATIC, addr("borrower/3")), v3("WMATIC-WETH-500", True, WMATIC, Q96 // 3),
                  v2("sushi/WETH-DAI", True, 2500))),
        ),
        (
            "8-step liquidation + 7 V2 hops, aave multi",
            Plan(Lender.AAVE_MULTI, 65_000_013, USDT, 10**12, 10**8,
                 (LiquidationStep(WETH, addr("borrower/4")),
                  *(v2(f"liq-ring/{i}", i % 2 == 0, 3000) for i in range(7)))),
        ),
        (
            "edge values: zeros everywhere, limit flag with a zero limit",
            Plan(Lender.CAPITAL, 0, ZERO, 0, 0, (V3Step(ZERO, False, ZERO, 0), V2Step(ZERO, False, 0))),
        ),
    ]


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def invalid_vectors(valid: dict[str, bytes]) -> list[dict]:
    two_v2 = valid["2-hop V2/V2, capital"]  # 59 + 24 + 24
    three = valid["3-hop V2/V3/V2, aave simple"]  # 59 + 24 + 41 + 24
    limit = valid["2-hop V3/V3 with price limits at MIN+1 and MAX-1, capital"]  # 59 + 61 + 61
    v3_last = valid["2-hop V3/V2, balancer"]  # V3 then V2
    out: list[dict] = []

    def bad(name: str, data: bytes, error: str, arg: int | None = None) -> None:
        item = {"name": name, "encoded": _hex(data), "error": error}
        if arg is not None:
            item["errorArg"] = str(arg)
        out.append(item)

    def patch(data: bytes, offset: int, value: int) -> bytes:
        return data[:offset] + bytes((value,)) + data[offset + 1 :]

    # version
    for version in (0, 2, 0xFF):
        bad(f"version {version}", patch(two_v2, 0, version), "UnsupportedPlanVersion", version)
    # lender
    for lender in (4, 5, 0xFF):
        bad(f"lender {lender}", patch(two_v2, 1, lender), "UnsupportedLender", lender)
    # step count and length
    bad("empty plan", b"", "PlanMalformed")
    bad("header cut at 58 bytes", two_v2[: HEADER_SIZE - 1], "PlanMalformed")
    bad("header only, no steps", two_v2[:HEADER_SIZE], "PlanMalformed")
    bad("step count 0, nothing follows", patch(two_v2[:HEADER_SIZE], 2, 0), "PlanMalformed")
    bad("step count 1, one V2 step", patch(two_v2[: HEADER_SIZE + 24], 2, 1), "PlanMalformed")
    nine = patch(two_v2[:HEADER_SIZE], 2, 9) + two_v2[HEADER_SIZE : HEADER_SIZE + 24] * 9
    bad("step count 9, nine V2 steps", nine, "PlanMalformed")
    bad("step count 255", patch(two_v2, 2, 0xFF), "PlanMalformed")
    bad("count 3 but two steps", patch(two_v2, 2, 3), "PlanMalformed")
    bad("count 2 but three steps", patch(three, 2, 2), "PlanMalformed")
    bad("one trailing byte", two_v2 + b"\x00", "PlanMalformed")
    bad("last V2 step cut by one byte", two_v2[:-1], "PlanMalformed")
    fee_at = HEADER_SIZE + 21
    fee_100 = two_v2[:fee_at] + (10**6).to_bytes(3, "big") + two_v2[fee_at + 3 :]
    bad("V2 fee 1000000 pips (100%)", fee_100, "PlanMalformed")
    bad("last V2 fee 0xffffff", two_v2[:-3] + b"\xff\xff\xff", "PlanMalformed")
    bad("last V2 step is only its op byte", two_v2[: HEADER_SIZE + 25], "PlanMalformed")
    bad("V3 limit flag but the limit is missing (41 bytes)", limit[:-20], "PlanMalformed")
    bad("last V3 limit cut by one byte", limit[:-1], "PlanMalformed")
    cleared = patch(limit, HEADER_SIZE + 61, limit[HEADER_SIZE + 61] & ~0x40)
    bad("last V3 limit flag cleared, its 20 limit bytes left behind", cleared, "PlanMalformed")
    # step op byte
    first, second = HEADER_SIZE, HEADER_SIZE + 24
    for op in (0x00, 0x80):
        bad(f"step kind 0 (op 0x{op:02x})", patch(two_v2, first, op), "UnsupportedStep", op)
    liq = valid["2-step liquidation (WETH collateral, USDC debt) + V2 swap back, balancer"]  # 59 + 41 + 24
    for flag in (0x10, 0x20, 0x40, 0x80):
        op = 0x03 | flag
        bad(f"liquidation with flag bit (op 0x{op:02x})", patch(liq, first, op), "UnsupportedStep", op)
    liq_step = liq[first : first + 41]
    v2_step = liq[first + 41 :]
    bad("liquidation as the second step", liq[:first] + v2_step + liq_step, "PlanMalformed")
    bad("liquidation as the last of three steps", patch(liq[:first], 2, 3) + v2_step + v2_step + liq_step,
        "PlanMalformed")
    bad("liquidation step cut by one byte, nothing after", patch(liq[:first], 2, 2) + liq_step[:-1], "PlanMalformed")
    bad("liquidation step is only its op byte", liq[: first + 1], "PlanMalformed")
    bad("liquidation without its swap back (count 2, one step)", liq[: first + 41], "PlanMalformed")
    same = liq[:first + 1] + liq[7:27] + liq[first + 21 :]
    bad("liquidation collateral is the plan token (its debt asset)", same, "PlanMalformed")
    bad("reserved step kind 4 (op 0x84)", patch(two_v2, second, 0x84), "UnsupportedStep", 0x84)
    bad("reserved step kind 15 (op 0x0f)", patch(two_v2, first, 0x0F), "UnsupportedStep", 0x0F)
    bad("V2 with price-limit flag (op 0x41)", patch(two_v2, first, 0x41), "UnsupportedStep", 0x41)
    bad("V2 with bit 4 (op 0x91)", patch(two_v2, second, 0x91), "UnsupportedStep", 0x91)
    bad("V2 with bit 5 (op 0x21)", patch(two_v2, first, 0x21), "UnsupportedStep", 0x21)
    bad("V3 with bit 4 (op 0x12)", patch(v3_last, first, 0x12), "UnsupportedStep", 0x12)
    bad("V3 with bit 5 and limit flag (op 0xe2)", patch(limit, first, 0xE2), "UnsupportedStep", 0xE2)
    bad("unknown kind in the middle of three steps (op 0x07)", patch(three, HEADER_SIZE + 24, 0x07),
        "UnsupportedStep", 0x07)
    return out


def build() -> dict:
    valid, encoded = [], {}
    for name, plan in valid_plans():
        data = encode_plan(plan)
        encoded[name] = data
        valid.append({"name": name, "plan": plan_to_json(plan), "encoded": _hex(data)})
    return {
        "spec": "docs/route-encoding.md (plan version 1)",
        "generator": "python/tools/gen_route_vectors.py",
        "valid": valid,
        "invalid": invalid_vectors(encoded),
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=repo_root() / "test" / "vectors" / "routes.json")
    parser.add_argument("--check", action="store_true", help="fail if the file is not what would be written")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is stale: run python/tools/gen_route_vectors.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}: {len(build()['valid'])} valid, {len(build()['invalid'])} invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
