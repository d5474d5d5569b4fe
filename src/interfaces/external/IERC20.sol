// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The ERC20 subset the executor and the replica touch. Tokens that return no bool are handled by the
///         executor's low-level calls, not through this interface.
interface IERC20 {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
    function allowance(address owner, address spender) external view returns (uint256);
    function decimals() external view returns (uint8);
}
