// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FloorLib} from "./FloorLib.sol";
import {FloorBase, AaveFloor, BalancerFloor} from "./FloorLenders.sol";

/// @notice Liquidation + 1-hop V2 swap-back floor: approve the Aave Pool for exactly the debt to cover, liquidate
///         (receiving the underlying collateral), send all the collateral it now holds to the pair, swap back to this
///         contract. Hard-coded for one borrower and one pair; it assumes it holds no collateral before and that the
///         Pool takes the whole `AMOUNT` (so no allowance is left), which the benchmark's route guarantees.
abstract contract FloorLiquidation is FloorBase {
    address internal immutable POOL;
    address internal immutable COLLATERAL;
    address internal immutable USER;
    address internal immutable PAIR;
    bool internal immutable ZERO_FOR_ONE;

    constructor(address aavePool, address collateral, address user, address pair, bool zeroForOne) {
        (POOL, COLLATERAL, USER, PAIR, ZERO_FOR_ONE) = (aavePool, collateral, user, pair, zeroForOne);
    }

    function _route() internal override {
        FloorLib.approve(TOKEN, POOL, AMOUNT);
        address pool = POOL;
        address collateral = COLLATERAL;
        address debt = TOKEN;
        address user = USER;
        uint256 amount = AMOUNT;
        uint256 seized;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x00a718a900000000000000000000000000000000000000000000000000000000) // `liquidationCall(address,address,address,uint256,bool)`
            mstore(add(m, 0x04), collateral)
            mstore(add(m, 0x24), debt)
            mstore(add(m, 0x44), user)
            mstore(add(m, 0x64), amount)
            mstore(add(m, 0x84), 0) // receiveAToken
            if iszero(call(gas(), pool, 0, m, 0xa4, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            mstore(0x00, 0x70a08231) // `balanceOf(address)`
            mstore(0x20, address())
            pop(staticcall(gas(), collateral, 0x1c, 0x24, 0x00, 0x20))
            seized := mload(0x00)
        }
        FloorLib.transfer(collateral, PAIR, seized);
        FloorLib.swapV2(PAIR, ZERO_FOR_ONE, seized, address(this));
    }
}

contract FloorLiquidationAave is FloorLiquidation, AaveFloor {
    constructor(
        address token,
        uint256 amount,
        address aave,
        address collateral,
        address user,
        address pair,
        bool zeroForOne
    ) FloorBase(token, amount) FloorLiquidation(aave, collateral, user, pair, zeroForOne) AaveFloor(aave) {}
}

contract FloorLiquidationBalancer is FloorLiquidation, BalancerFloor {
    constructor(
        address token,
        uint256 amount,
        address vault,
        address aave,
        address collateral,
        address user,
        address pair,
        bool zeroForOne
    ) FloorBase(token, amount) FloorLiquidation(aave, collateral, user, pair, zeroForOne) BalancerFloor(vault) {}
}
