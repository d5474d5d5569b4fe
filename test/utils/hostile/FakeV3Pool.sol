// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IV3SwapCallback {
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

interface ITransfer {
    function transfer(address to, uint256 amount) external returns (bool);
}

/// @notice ADVERSARY, not a protocol stand-in: a contract an attacker deploys to look like a Uniswap V3 pool
///         (token0/token1/fee/swap) and bait the bot into listing it in a plan. Its `swap` follows a script: it
///         may first make a side call (re-enter the executor, trigger a flash loan, poke another fake pool), then
///         call the swap callback 0, 1 or 2 times asking for any amount in any token, then send some of its own
///         output tokens and report any output it likes. Real V3 behaviour is tested against the replica's pools.
contract FakeV3Pool {
    address public immutable token0;
    address public immutable token1;
    uint24 public constant fee = 3000;

    struct Script {
        uint8 callbacks; // how many times swap calls uniswapV3SwapCallback
        uint256 extraPay; // asks for amountSpecified + extraPay ...
        uint256 payOverride; // ... or exactly this when non-zero
        address payToken; // data passed to the callback: abi.encode(payToken), or the swap's own data when zero
        uint256 sendOut; // output tokens actually sent to the recipient (from this contract's balance)
        uint256 claimOut; // output the swap reports (negative delta of the bought token)
        bool claimPositive; // report the output delta as positive (not a V3 answer)
        address sideTarget; // optional call made at the start of swap
        bytes sideData;
        bool sideBubbles; // revert swap with the side call's revert data when it fails
    }

    Script internal script;
    uint256 public swaps;
    bool public lastSideOk;
    bytes public lastSideReturn;

    constructor(address tokenA, address tokenB) {
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    function setScript(Script calldata s) external {
        script = s;
    }

    /// @notice Calls anything from this contract's address (e.g. the executor's callbacks outside a run).
    function poke(address target, bytes calldata data) external returns (bool ok, bytes memory ret) {
        (ok, ret) = target.call(data);
        lastSideOk = ok;
        lastSideReturn = ret;
    }

    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        ++swaps;
        Script memory s = script;
        if (s.sideTarget != address(0)) {
            (bool ok, bytes memory ret) = s.sideTarget.call(s.sideData);
            lastSideOk = ok;
            lastSideReturn = ret;
            if (!ok && s.sideBubbles) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
        int256 pay = s.payOverride != 0 ? int256(s.payOverride) : amountSpecified + int256(s.extraPay);
        int256 out = s.claimPositive ? int256(s.claimOut) : -int256(s.claimOut);
        (amount0, amount1) = zeroForOne ? (pay, out) : (out, pay);
        bytes memory payData = s.payToken == address(0) ? data : abi.encode(s.payToken);
        for (uint256 i; i < s.callbacks; ++i) {
            IV3SwapCallback(msg.sender).uniswapV3SwapCallback(amount0, amount1, payData);
        }
        if (s.sendOut != 0) require(ITransfer(zeroForOne ? token1 : token0).transfer(recipient, s.sendOut));
    }
}
