// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlashArbExecutor} from "../interfaces/IFlashArbExecutor.sol";
import {RunState} from "../base/RunState.sol";

/// @notice The boundary every lender adapter sits behind: an adapter borrows, checks its own callback, hands the
///         funds to `_runFunded`, and repays. A new lender (Uniswap V3 `flash` next) is one more adapter and one
///         more lender id in the executor's dispatch.
abstract contract LenderBase is IFlashArbExecutor, RunState {
    /// @dev Runs the plan's steps with `amount` of `token` in hand, owing `fee` on top of it, and enforces the
    ///      plan's min profit. Implemented by the executor.
    function _runFunded(bytes calldata plan, address token, uint256 amount, uint256 fee) internal virtual;
}
