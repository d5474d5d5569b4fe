// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";

/// @notice Readable reference for src/libraries/TokenLib.sol (same success rule: no revert, and either no
///         return data from a contract or a true word).
library TokenLibReference {
    function safeTransfer(address token, address to, uint256 amount) internal {
        _call(token, abi.encodeWithSignature("transfer(address,uint256)", to, amount));
    }

    function safeApprove(address token, address spender, uint256 amount) internal {
        _call(token, abi.encodeWithSignature("approve(address,uint256)", spender, amount));
    }

    function balanceOf(address token, address account) internal view returns (uint256) {
        (bool ok, bytes memory ret) = token.staticcall(abi.encodeWithSignature("balanceOf(address)", account));
        if (!ok || ret.length < 32) revert IFlashArbExecutor.TokenCallFailed(token);
        return abi.decode(ret, (uint256));
    }

    function allowance(address token, address owner, address spender) internal view returns (uint256) {
        (bool ok, bytes memory ret) =
            token.staticcall(abi.encodeWithSignature("allowance(address,address)", owner, spender));
        if (!ok || ret.length < 32) revert IFlashArbExecutor.TokenCallFailed(token);
        return abi.decode(ret, (uint256));
    }

    function _call(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        bool good =
            ok && (ret.length >= 32 ? abi.decode(ret, (uint256)) == 1 : ret.length == 0 && token.code.length > 0);
        if (!good) revert IFlashArbExecutor.TokenCallFailed(token);
    }
}
