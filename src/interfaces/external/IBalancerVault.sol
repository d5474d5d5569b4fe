// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Balancer V2 Vault flash loans (zero fee on Polygon; the receiver repays by transfer).
interface IBalancerVault {
    function flashLoan(
        address recipient,
        address[] calldata tokens,
        uint256[] calldata amounts,
        bytes calldata userData
    ) external;
    function getProtocolFeesCollector() external view returns (address);
}

interface IBalancerProtocolFeesCollector {
    function getFlashLoanFeePercentage() external view returns (uint256);
}
