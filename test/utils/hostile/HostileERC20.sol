// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Minimal ERC20 that the hostile tokens below build on. It is NOT a stand-in for any protocol token:
///         the replica's real tokens come from npm bytecode. It exists so an adversary's token can misbehave in
///         exactly one chosen way. `mint` matches the replica's IMintableERC20 so `_fund` and `_dislocateV2` work.
abstract contract HostileERC20 {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    function mint(address to, uint256 amount) external returns (bool) {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
        return true;
    }

    function _approve(address owner, address spender, uint256 amount) internal {
        allowance[owner][spender] = amount;
        emit Approval(owner, spender, amount);
    }

    function _spendAllowance(address owner, address spender, uint256 amount) internal {
        uint256 allowed = allowance[owner][spender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "HostileERC20: allowance");
            allowance[owner][spender] = allowed - amount;
        }
    }

    /// @dev Moves `amount` from `from`; `received` is what `to` gets (less than `amount` for a taxed token).
    function _move(address from, address to, uint256 amount, uint256 received) internal {
        require(balanceOf[from] >= amount, "HostileERC20: balance");
        balanceOf[from] -= amount;
        balanceOf[to] += received;
        totalSupply -= amount - received;
        emit Transfer(from, to, received);
    }
}
