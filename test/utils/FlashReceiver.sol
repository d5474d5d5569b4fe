// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../../src/interfaces/external/IERC20.sol";

/// @notice A plain flash-loan receiver for the replica tests: records what each real lender handed over and
///         repays exactly what it owes (Aave pulls by allowance; Balancer is paid by transfer).
contract FlashReceiver {
    address public immutable lender;
    uint256[] public receivedAmounts;
    uint256[] public premiums;
    uint256[] public balancesInCallback;

    constructor(address lender_) {
        lender = lender_;
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address, bytes calldata)
        external
        returns (bool)
    {
        require(msg.sender == lender, "lender only");
        _record(asset, amount, premium);
        IERC20(asset).approve(lender, amount + premium);
        return true;
    }

    function executeOperation(
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata premiums_,
        address,
        bytes calldata
    ) external returns (bool) {
        require(msg.sender == lender, "lender only");
        for (uint256 i; i < assets.length; ++i) {
            _record(assets[i], amounts[i], premiums_[i]);
            IERC20(assets[i]).approve(lender, amounts[i] + premiums_[i]);
        }
        return true;
    }

    function receiveFlashLoan(
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata fees,
        bytes calldata
    ) external {
        require(msg.sender == lender, "lender only");
        for (uint256 i; i < tokens.length; ++i) {
            _record(tokens[i], amounts[i], fees[i]);
            require(IERC20(tokens[i]).transfer(lender, amounts[i] + fees[i]), "repay");
        }
    }

    function calls() external view returns (uint256) {
        return receivedAmounts.length;
    }

    function _record(address asset, uint256 amount, uint256 premium) private {
        receivedAmounts.push(amount);
        premiums.push(premium);
        balancesInCallback.push(IERC20(asset).balanceOf(address(this)));
    }
}
