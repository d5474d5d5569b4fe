// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Per-transaction run state in transient storage (EIP-1153; Polygon has Cancun). It is what closes the
///         callbacks: a lender may call back only while this executor's own run waits for it, and a V3 pool only
///         during its own step, once, for at most the step's input, paid in the step's input token (never in a
///         token the pool names).
abstract contract RunState {
    uint256 internal constant RUN_SLOT = 0x66a9b25df2cf1d4079a64c03e7498287597521e82b899a983cf02b2f59165758; // keccak256("flasharb.run.active") - 1
    uint256 internal constant LENDER_SLOT = 0x1e20e50bde12e471f92d2e6b14a94a7b61694ab00b7717a938b8d6ff5a5c15c5; // keccak256("flasharb.run.lender") - 1
    uint256 internal constant POOL_SLOT = 0x8dfaeed1383ed82d20bf1e9dacbbec747e3a4b306325fd06f287b6a310249aad; // keccak256("flasharb.run.pool") - 1
    uint256 internal constant POOL_MAX_PAY_SLOT = 0xa4831d0c1a821a8ea07b8280dcc0dfc2f608980b782c49aea5574e487bbda329; // keccak256("flasharb.run.poolMaxPay") - 1
    uint256 internal constant POOL_TOKEN_SLOT = 0x56c83159381978551d989c6ae9a0fdf62dda9ce5f0bd3aefcb059e5b6fc35c9f; // keccak256("flasharb.run.poolToken") - 1
    uint256 internal constant PROFIT_SLOT = 0xe3a2357447c91d135ef9062e0b4f3f59e606767109daf95ddec7d30980dae67; // keccak256("flasharb.run.profit") - 1

    function _expectLender(address lender) internal {
        assembly ("memory-safe") {
            tstore(LENDER_SLOT, lender)
        }
    }

    /// @dev Consumes the lender expectation: true only for the one expected caller, once.
    function _takeLender(address sender) internal returns (bool ok) {
        assembly ("memory-safe") {
            ok := and(eq(tload(LENDER_SLOT), sender), iszero(iszero(sender)))
            if ok { tstore(LENDER_SLOT, 0) }
        }
    }

    function _setProfit(uint256 profit) internal {
        assembly ("memory-safe") {
            tstore(PROFIT_SLOT, profit)
        }
    }

    function _profit() internal view returns (uint256 profit) {
        assembly ("memory-safe") {
            profit := tload(PROFIT_SLOT)
        }
    }
}
