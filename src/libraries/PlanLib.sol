// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Reads a plan (docs/route-encoding.md, version 1) straight from calldata, in assembly.
/// @dev Layout, big-endian and packed:
///      header (59 bytes): version u8 | lender u8 | steps u8 | deadline u32 | token address | amountIn u128 | minProfit u128
///      V2 step (24 bytes): op u8 | pair address | feePips u24
///      V3 step (41/61 bytes): op u8 | pool address | tokenIn address | [sqrtPriceLimitX96 u160 when op bit 6]
///      liquidation step (41 bytes): op u8 | collateralAsset address | user address; first step only, its debt
///      asset is the header's token and its collateral must differ from it
///      op: bits 0..3 kind (1 = V2, 2 = V3, 3 = Aave V3 liquidation), bit 6 price limit (V3 only), bit 7
///      zeroForOne (V2, V3); bits 4, 5 reserved.
///      Readable reference: test/reference/PlanLibReference.sol (differentially fuzzed against this).
library PlanLib {
    uint256 internal constant VERSION = 1;
    uint256 internal constant HEADER_SIZE = 59;
    uint256 internal constant MIN_STEPS = 2;
    uint256 internal constant MAX_STEPS = 8;
    uint256 internal constant MAX_LENDER = 3;

    uint256 internal constant KIND_V2 = 1;
    uint256 internal constant KIND_V3 = 2;
    uint256 internal constant KIND_LIQUIDATION = 3;
    uint256 internal constant V2_STEP_SIZE = 24;
    uint256 internal constant V3_STEP_SIZE = 41;
    uint256 internal constant V3_LIMIT_SIZE = 20;
    uint256 internal constant LIQUIDATION_STEP_SIZE = 41;
    uint256 internal constant FLAG_LIMIT = 0x40;
    uint256 internal constant FLAG_ZERO_FOR_ONE = 0x80;

    struct Header {
        uint256 lender;
        uint256 steps;
        uint256 deadline;
        address token;
        uint256 amountIn;
        uint256 minProfit;
    }

    /// @notice Checks the whole encoding (version, lender, step count, every step's op and the exact length) and
    ///         returns the header. Reverts with the interface's custom errors.
    function validate(bytes calldata plan) internal pure returns (Header memory h) {
        assembly ("memory-safe") {
            function fail(sel, arg, withArg) {
                mstore(0x00, sel)
                mstore(0x20, arg)
                revert(0x1c, add(0x04, mul(0x20, withArg)))
            }
            let len := plan.length
            let off := plan.offset
            if iszero(len) { fail(0x2a57ea8f, 0, 0) } // PlanMalformed()
            let w := calldataload(off)
            let version := byte(0, w)
            if iszero(eq(version, 1)) { fail(0x5140168a, version, 1) } // UnsupportedPlanVersion(uint256)
            if lt(len, 59) { fail(0x2a57ea8f, 0, 0) }
            let lender := byte(1, w)
            if gt(lender, 3) { fail(0xf148bdb7, lender, 1) } // UnsupportedLender(uint256)
            let steps := byte(2, w)
            if or(lt(steps, 2), gt(steps, 8)) { fail(0x2a57ea8f, 0, 0) }

            let ptr := 59
            for { let i := 0 } lt(i, steps) { i := add(i, 1) } {
                if iszero(lt(ptr, len)) { fail(0x2a57ea8f, 0, 0) }
                let op := byte(0, calldataload(add(off, ptr)))
                let size := 0
                switch and(op, 0x0f)
                case 1 {
                    if and(op, 0x70) { fail(0xf80f8aef, op, 1) } // UnsupportedStep(uint256)
                    size := 24
                    // feePips must be below 100%; read only when the whole step is present
                    if iszero(gt(add(ptr, 24), len)) {
                        if gt(shr(232, calldataload(add(off, add(ptr, 21)))), 999999) { fail(0x2a57ea8f, 0, 0) }
                    }
                }
                case 2 {
                    if and(op, 0x30) { fail(0xf80f8aef, op, 1) }
                    size := add(41, mul(20, iszero(iszero(and(op, 0x40)))))
                }
                case 3 {
                    if and(op, 0xf0) { fail(0xf80f8aef, op, 1) }
                    // first step only; its collateral may not be the debt asset (the header's token)
                    if i { fail(0x2a57ea8f, 0, 0) }
                    size := 41
                    if iszero(gt(add(ptr, 21), len)) {
                        if eq(shr(96, calldataload(add(off, add(ptr, 1)))), shr(96, calldataload(add(off, 7)))) {
                            fail(0x2a57ea8f, 0, 0)
                        }
                    }
                }
                default { fail(0xf80f8aef, op, 1) }
                ptr := add(ptr, size)
                if gt(ptr, len) { fail(0x2a57ea8f, 0, 0) }
            }
            if iszero(eq(ptr, len)) { fail(0x2a57ea8f, 0, 0) }

            mstore(h, lender)
            mstore(add(h, 0x20), steps)
            mstore(add(h, 0x40), shr(224, shl(24, w)))
            mstore(add(h, 0x60), shr(96, calldataload(add(off, 7))))
            mstore(add(h, 0x80), shr(128, calldataload(add(off, 27))))
            mstore(add(h, 0xa0), shr(128, calldataload(add(off, 43))))
        }
    }

    /// @dev The op byte and the pool address of the step at byte `ptr` of a validated plan.
    function stepAt(bytes calldata plan, uint256 ptr) internal pure returns (uint256 op, address pool) {
        assembly ("memory-safe") {
            let w := calldataload(add(plan.offset, ptr))
            op := byte(0, w)
            pool := shr(96, shl(8, w))
        }
    }

    /// @dev The 3-byte fee of the V2 step at `ptr`.
    function v2Fee(bytes calldata plan, uint256 ptr) internal pure returns (uint256 feePips) {
        assembly ("memory-safe") {
            feePips := shr(232, calldataload(add(plan.offset, add(ptr, 21))))
        }
    }

    /// @dev Encoded size of a validated step from its op byte. A validated liquidation op (kind 3) has no flags,
    ///      so it shares the V3 formula: 41 bytes.
    function stepSize(uint256 op) internal pure returns (uint256 size) {
        assembly ("memory-safe") {
            size := 24
            if gt(and(op, 0x0f), 1) { size := add(41, mul(20, iszero(iszero(and(op, 0x40))))) }
        }
    }

    /// @dev collateralAsset and user of the liquidation step at `ptr`.
    function liquidationFields(bytes calldata plan, uint256 ptr)
        internal
        pure
        returns (address collateral, address user)
    {
        assembly ("memory-safe") {
            collateral := shr(96, calldataload(add(plan.offset, add(ptr, 1))))
            user := shr(96, calldataload(add(plan.offset, add(ptr, 21))))
        }
    }

    /// @dev tokenIn and price limit (0 when absent) of the V3 step at `ptr`.
    function v3Fields(bytes calldata plan, uint256 ptr, uint256 op)
        internal
        pure
        returns (address tokenIn, uint160 limit)
    {
        assembly ("memory-safe") {
            tokenIn := shr(96, calldataload(add(plan.offset, add(ptr, 21))))
            limit := mul(iszero(iszero(and(op, 0x40))), shr(96, calldataload(add(plan.offset, add(ptr, 41)))))
        }
    }
}
