// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FloorLib} from "./FloorLib.sol";
import {FloorBase, AaveFloor, BalancerFloor, CapitalFloor} from "./FloorLenders.sol";

/// @notice 4-hop V2/V3/V2/V3 floor: pay pair 1, swap to this contract, V3 swap straight into pair 3, swap to this
///         contract, V3 swap back to this contract (both V3 pools paid in the callback).
abstract contract Floor4Hop is FloorBase {
    address internal immutable P1;
    bool internal immutable Z1;
    address internal immutable P2; // V3
    bool internal immutable Z2;
    address internal immutable T2; // its input token
    address internal immutable P3;
    bool internal immutable Z3;
    address internal immutable P4; // V3
    bool internal immutable Z4;
    address internal immutable T4; // its input token

    constructor(address[6] memory a, bool[4] memory z) {
        (P1, P2, T2, P3, P4, T4) = (a[0], a[1], a[2], a[3], a[4], a[5]);
        (Z1, Z2, Z3, Z4) = (z[0], z[1], z[2], z[3]);
    }

    function _route() internal override {
        FloorLib.transfer(TOKEN, P1, AMOUNT);
        uint256 out = FloorLib.swapV2(P1, Z1, AMOUNT, address(this));
        out = FloorLib.swapV3(P2, Z2, out, P3);
        out = FloorLib.swapV2(P3, Z3, out, address(this));
        FloorLib.swapV3(P4, Z4, out, address(this));
    }

    /// @dev Pays whichever of the two V3 pools is calling what it asks for (the positive delta).
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender == P2) FloorLib.transfer(T2, msg.sender, uint256(Z2 ? amount0Delta : amount1Delta));
        else FloorLib.transfer(T4, msg.sender, uint256(Z4 ? amount0Delta : amount1Delta));
    }
}

/// @dev Pools and tokens as [p1, p2 (V3), tokenIn of p2, p3, p4 (V3), tokenIn of p4]; directions [z1..z4].
contract Floor4HopAave is Floor4Hop, AaveFloor {
    constructor(address token, uint256 amount, address aave, address[6] memory a, bool[4] memory z)
        FloorBase(token, amount)
        Floor4Hop(a, z)
        AaveFloor(aave)
    {}
}

contract Floor4HopBalancer is Floor4Hop, BalancerFloor {
    constructor(address token, uint256 amount, address vault, address[6] memory a, bool[4] memory z)
        FloorBase(token, amount)
        Floor4Hop(a, z)
        BalancerFloor(vault)
    {}
}

contract Floor4HopCapital is Floor4Hop, CapitalFloor {
    constructor(address token, uint256 amount, address[6] memory a, bool[4] memory z)
        FloorBase(token, amount)
        Floor4Hop(a, z)
    {}
}
