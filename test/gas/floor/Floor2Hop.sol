// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FloorLib} from "./FloorLib.sol";
import {FloorBase, AaveFloor, BalancerFloor, CapitalFloor} from "./FloorLenders.sol";

/// @notice 2-hop V2/V2 floor: pay pair 1, swap into pair 2, swap back to this contract.
abstract contract Floor2Hop is FloorBase {
    address internal immutable P1;
    bool internal immutable Z1;
    address internal immutable P2;
    bool internal immutable Z2;

    constructor(address p1, bool z1, address p2, bool z2) {
        (P1, Z1, P2, Z2) = (p1, z1, p2, z2);
    }

    function _route() internal override {
        FloorLib.transfer(TOKEN, P1, AMOUNT);
        uint256 out = FloorLib.swapV2(P1, Z1, AMOUNT, P2);
        FloorLib.swapV2(P2, Z2, out, address(this));
    }
}

contract Floor2HopAave is Floor2Hop, AaveFloor {
    constructor(address token, uint256 amount, address aave, address p1, bool z1, address p2, bool z2)
        FloorBase(token, amount)
        Floor2Hop(p1, z1, p2, z2)
        AaveFloor(aave)
    {}
}

contract Floor2HopBalancer is Floor2Hop, BalancerFloor {
    constructor(address token, uint256 amount, address vault, address p1, bool z1, address p2, bool z2)
        FloorBase(token, amount)
        Floor2Hop(p1, z1, p2, z2)
        BalancerFloor(vault)
    {}
}

contract Floor2HopCapital is Floor2Hop, CapitalFloor {
    constructor(address token, uint256 amount, address p1, bool z1, address p2, bool z2)
        FloorBase(token, amount)
        Floor2Hop(p1, z1, p2, z2)
    {}
}
