// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FloorLib} from "./FloorLib.sol";
import {FloorBase, AaveFloor, BalancerFloor, CapitalFloor} from "./FloorLenders.sol";

/// @notice 3-hop triangular V2/V3/V2 floor: pay pair 1, swap to this contract, V3 swap straight into pair 3
///         (paid in the callback), swap back to this contract.
abstract contract Floor3Hop is FloorBase {
    address internal immutable P1;
    bool internal immutable Z1;
    address internal immutable P2; // V3
    bool internal immutable Z2;
    address internal immutable T2; // V3 input token
    address internal immutable P3;
    bool internal immutable Z3;

    constructor(address[4] memory a, bool[3] memory z) {
        (P1, P2, T2, P3) = (a[0], a[1], a[2], a[3]);
        (Z1, Z2, Z3) = (z[0], z[1], z[2]);
    }

    function _route() internal override {
        FloorLib.transfer(TOKEN, P1, AMOUNT);
        uint256 out = FloorLib.swapV2(P1, Z1, AMOUNT, address(this));
        out = FloorLib.swapV3(P2, Z2, out, P3);
        FloorLib.swapV2(P3, Z3, out, address(this));
    }

    /// @dev Pays the one V3 pool what it asks for (the positive delta).
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        FloorLib.transfer(T2, msg.sender, uint256(Z2 ? amount0Delta : amount1Delta));
    }
}

/// @dev Pools and tokens as [p1, p2 (V3), tokenIn of p2, p3]; directions [z1, z2, z3].
contract Floor3HopAave is Floor3Hop, AaveFloor {
    constructor(address token, uint256 amount, address aave, address[4] memory a, bool[3] memory z)
        FloorBase(token, amount)
        Floor3Hop(a, z)
        AaveFloor(aave)
    {}
}

contract Floor3HopBalancer is Floor3Hop, BalancerFloor {
    constructor(address token, uint256 amount, address vault, address[4] memory a, bool[3] memory z)
        FloorBase(token, amount)
        Floor3Hop(a, z)
        BalancerFloor(vault)
    {}
}

contract Floor3HopCapital is Floor3Hop, CapitalFloor {
    constructor(address token, uint256 amount, address[4] memory a, bool[3] memory z)
        FloorBase(token, amount)
        Floor3Hop(a, z)
    {}
}
