// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PlanLib} from "../../src/libraries/PlanLib.sol";
import {PlanLibReference} from "../reference/PlanLibReference.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";

/// @notice Exposes the assembly decoder and its reference side by side (both read calldata).
contract PlanDecoders {
    function asmValidate(bytes calldata p) external pure returns (PlanLib.Header memory) {
        return PlanLib.validate(p);
    }

    function refValidate(bytes calldata p) external pure returns (PlanLib.Header memory) {
        return PlanLibReference.validate(p);
    }

    /// @dev Every step's fields, walking a validated plan, as one blob for comparison.
    function asmSteps(bytes calldata p) external pure returns (bytes memory out) {
        PlanLib.Header memory h = PlanLib.validate(p);
        uint256 ptr = PlanLib.HEADER_SIZE;
        for (uint256 i; i < h.steps; ++i) {
            (uint256 op, address pool) = PlanLib.stepAt(p, ptr);
            uint256 fee = op & 0x0f == 1 ? PlanLib.v2Fee(p, ptr) : 0;
            (address tokenIn, uint160 limit) = op & 0x0f == 2 ? PlanLib.v3Fields(p, ptr, op) : (address(0), 0);
            (address collateral, address user) =
                op & 0x0f == 3 ? PlanLib.liquidationFields(p, ptr) : (address(0), address(0));
            out = bytes.concat(out, abi.encode(op, pool, fee, tokenIn, limit, collateral, user));
            ptr += PlanLib.stepSize(op);
        }
    }

    function refSteps(bytes calldata p) external pure returns (bytes memory out) {
        PlanLib.Header memory h = PlanLibReference.validate(p);
        uint256 ptr = PlanLib.HEADER_SIZE;
        for (uint256 i; i < h.steps; ++i) {
            (uint256 op, address pool) = PlanLibReference.stepAt(p, ptr);
            uint256 fee = op & 0x0f == 1 ? PlanLibReference.v2Fee(p, ptr) : 0;
            (address tokenIn, uint160 limit) = op & 0x0f == 2 ? PlanLibReference.v3Fields(p, ptr, op) : (address(0), 0);
            (address collateral, address user) =
                op & 0x0f == 3 ? PlanLibReference.liquidationFields(p, ptr) : (address(0), address(0));
            out = bytes.concat(out, abi.encode(op, pool, fee, tokenIn, limit, collateral, user));
            ptr += PlanLibReference.stepSize(op);
        }
    }
}

/// @notice Differential fuzz: the assembly plan decoder and its readable reference agree on every input,
///         valid or not, down to the revert data.
contract PlanLibDiffTest is Test {
    PlanDecoders internal d = new PlanDecoders();

    function _same(bytes memory p) internal view {
        (bool okA, bytes memory a) = address(d).staticcall(abi.encodeCall(d.asmValidate, (p)));
        (bool okR, bytes memory r) = address(d).staticcall(abi.encodeCall(d.refValidate, (p)));
        assertEq(okA, okR, "both accept or both reject");
        assertEq(a, r, "same header or same revert data");
        if (okA) {
            (okA, a) = address(d).staticcall(abi.encodeCall(d.asmSteps, (p)));
            (okR, r) = address(d).staticcall(abi.encodeCall(d.refSteps, (p)));
            assertTrue(okA && okR);
            assertEq(a, r, "same step fields");
        }
    }

    function test_fuzz_validate_randomBytes(bytes calldata p) public view {
        _same(p);
    }

    /// @dev Mostly-valid plans (random steps, flags and values) with random damage, so both the accept and the
    ///      reject paths are exercised deeply.
    function test_fuzz_validate_structuredPlans(uint256 seed, uint8 damage, uint16 where, uint8 value) public view {
        bytes memory p = _randomPlan(seed);
        if (damage % 4 == 1 && p.length > 0) {
            p[where % p.length] = bytes1(value); // flip one byte
        } else if (damage % 4 == 2) {
            assembly {
                mstore(p, mod(where, add(mload(p), 1))) // truncate
            }
        } else if (damage % 4 == 3) {
            p = bytes.concat(p, bytes1(value)); // trailing byte
        }
        _same(p);
    }

    function _randomPlan(uint256 seed) internal pure returns (bytes memory) {
        uint256 n = 2 + seed % 7;
        PlanBuilder.Step[] memory s = new PlanBuilder.Step[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            s[i].kind = r % 3 == 0 ? 1 : 2;
            // a liquidation first (and, rarely, elsewhere: the position rule must reject it the same way)
            if ((i == 0 && (seed >> 8) % 3 == 0) || (r >> 230) % 16 == 0) s[i].kind = 3;
            s[i].pool = address(uint160(r >> 8));
            s[i].zeroForOne = (r >> 200) & 1 == 1;
            s[i].feePips = uint24((r >> 170) % 1_100_000 > 999_999 ? 999_999 : (r >> 170) % 1_000_000);
            s[i].tokenIn = address(uint160(r >> 40));
            s[i].sqrtPriceLimitX96 = (r >> 210) & 1 == 1 ? uint160(r >> 60) : 0;
        }
        // Sometimes the collateral of a first liquidation is the plan token (rejected by both).
        address token = s[0].kind == 3 && (seed >> 16) % 8 == 0 ? s[0].pool : address(uint160(seed));
        return PlanBuilder.encode(
            uint8(seed >> 240) % 5, uint32(seed >> 100), token, uint128(seed >> 50), uint128(seed >> 30), s
        );
    }
}
