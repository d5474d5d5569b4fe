// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {PlanLib} from "../../src/libraries/PlanLib.sol";

/// @notice Readable reference for src/libraries/PlanLib.sol: the same decoding written with plain Solidity
///         slices and conversions, no assembly. test/differential/PlanLib.diff.t.sol fuzzes the two against each other.
library PlanLibReference {
    function validate(bytes calldata plan) internal pure returns (PlanLib.Header memory h) {
        if (plan.length == 0) revert IFlashArbExecutor.PlanMalformed();
        if (uint8(plan[0]) != 1) revert IFlashArbExecutor.UnsupportedPlanVersion(uint8(plan[0]));
        if (plan.length < 59) revert IFlashArbExecutor.PlanMalformed();
        if (uint8(plan[1]) > 3) revert IFlashArbExecutor.UnsupportedLender(uint8(plan[1]));
        uint256 steps = uint8(plan[2]);
        if (steps < 2 || steps > 8) revert IFlashArbExecutor.PlanMalformed();

        uint256 ptr = 59;
        for (uint256 i; i < steps; ++i) {
            if (ptr >= plan.length) revert IFlashArbExecutor.PlanMalformed();
            uint8 op = uint8(plan[ptr]);
            uint256 size;
            if (op & 0x0f == 1) {
                if (op & 0x70 != 0) revert IFlashArbExecutor.UnsupportedStep(op);
                size = 24;
                if (ptr + size <= plan.length && uint24(bytes3(plan[ptr + 21:ptr + 24])) >= 1e6) {
                    revert IFlashArbExecutor.PlanMalformed();
                }
            } else if (op & 0x0f == 2) {
                if (op & 0x30 != 0) revert IFlashArbExecutor.UnsupportedStep(op);
                size = op & 0x40 != 0 ? 61 : 41;
            } else if (op & 0x0f == 3) {
                // Aave V3 liquidation: no flags, first step only, collateral differs from the debt asset (token)
                if (op & 0xf0 != 0) revert IFlashArbExecutor.UnsupportedStep(op);
                if (i != 0) revert IFlashArbExecutor.PlanMalformed();
                size = 41;
                if (ptr + 21 <= plan.length && bytes20(plan[ptr + 1:ptr + 21]) == bytes20(plan[7:27])) {
                    revert IFlashArbExecutor.PlanMalformed();
                }
            } else {
                revert IFlashArbExecutor.UnsupportedStep(op);
            }
            ptr += size;
            if (ptr > plan.length) revert IFlashArbExecutor.PlanMalformed();
        }
        if (ptr != plan.length) revert IFlashArbExecutor.PlanMalformed();

        h.lender = uint8(plan[1]);
        h.steps = steps;
        h.deadline = uint32(bytes4(plan[3:7]));
        h.token = address(bytes20(plan[7:27]));
        h.amountIn = uint128(bytes16(plan[27:43]));
        h.minProfit = uint128(bytes16(plan[43:59]));
    }

    function stepAt(bytes calldata plan, uint256 ptr) internal pure returns (uint256 op, address pool) {
        op = uint8(plan[ptr]);
        pool = address(bytes20(plan[ptr + 1:ptr + 21]));
    }

    function stepSize(uint256 op) internal pure returns (uint256) {
        if (op & 0x0f == 1) return 24;
        if (op & 0x0f == 3) return 41;
        return op & 0x40 != 0 ? 61 : 41;
    }

    function liquidationFields(bytes calldata plan, uint256 ptr)
        internal
        pure
        returns (address collateral, address user)
    {
        collateral = address(bytes20(plan[ptr + 1:ptr + 21]));
        user = address(bytes20(plan[ptr + 21:ptr + 41]));
    }

    function v2Fee(bytes calldata plan, uint256 ptr) internal pure returns (uint256) {
        return uint24(bytes3(plan[ptr + 21:ptr + 24]));
    }

    function v3Fields(bytes calldata plan, uint256 ptr, uint256 op)
        internal
        pure
        returns (address tokenIn, uint160 limit)
    {
        tokenIn = address(bytes20(plan[ptr + 21:ptr + 41]));
        if (op & 0x40 != 0) limit = uint160(bytes20(plan[ptr + 41:ptr + 61]));
    }
}
