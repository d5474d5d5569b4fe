// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {Artifacts} from "../../script/replica/Artifacts.sol";
import {FlashArbExecutor} from "../../src/FlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Factory, IUniswapV2Router02} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Factory} from "../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {PlanBuilder} from "./PlanBuilder.sol";

interface IQuoterV2 {
    struct QuoteExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint256 amountIn;
        uint24 fee;
        uint160 sqrtPriceLimitX96;
    }

    function quoteExactInputSingle(QuoteExactInputSingleParams memory params)
        external
        returns (uint256 amountOut, uint160 sqrtPriceX96After, uint32 initializedTicksCrossed, uint256 gasEstimate);
}

/// @notice Base for executor tests: the replica (real bytecode), an executor wired to its Aave Pool and Balancer
///         Vault, named actors, and the real QuoterV2 to price V3 steps.
abstract contract ExecutorTest is Test, PolygonReplica {
    using PlanBuilder for *;

    FlashArbExecutor internal executor;
    address internal ownerEoa = makeAddr("owner");
    address internal bot = makeAddr("bot");
    address internal treasury = makeAddr("treasury");
    address internal stranger = makeAddr("stranger");
    IQuoterV2 internal quoter;

    uint24 internal constant V2_FEE = 3000;

    function setUp() public virtual {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
        quoter = IQuoterV2(
            Artifacts.deploy(
                "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
                abi.encode(v3Factory, WMATIC)
            )
        );
        executor = new FlashArbExecutor(ownerEoa, aavePool, balancerVault, treasury);
        vm.prank(ownerEoa);
        executor.setExecutor(bot, true);
        vm.roll(1000);
    }

    // ------------------------------------------------------------------ pools
    function quickPair(address a, address b) internal view returns (address) {
        return IUniswapV2Factory(quickswapFactory).getPair(a, b);
    }

    function sushiPair(address a, address b) internal view returns (address) {
        return IUniswapV2Factory(sushiswapFactory).getPair(a, b);
    }

    function v3Pool(address a, address b, uint24 fee) internal view returns (address) {
        return IUniswapV3Factory(v3Factory).getPool(a, b, fee);
    }

    // ------------------------------------------------------------------ plans
    function plan(uint8 lender, address token, uint256 amountIn, uint256 minProfit, PlanBuilder.Step[] memory steps)
        internal
        view
        returns (bytes memory)
    {
        return PlanBuilder.encode(lender, uint32(block.number + 2), token, uint128(amountIn), uint128(minProfit), steps);
    }

    function run(bytes memory p) internal returns (uint256 profit) {
        vm.prank(bot);
        profit = executor.execute(p);
    }

    function aavePremium(uint256 amount) internal view returns (uint256) {
        return amount * IAaveV3Pool(aavePool).FLASHLOAN_PREMIUM_TOTAL() / 10_000;
    }

    function balance(address token, address who) internal view returns (uint256) {
        return IERC20(token).balanceOf(who);
    }

    /// @dev Exact V2 output (the pair's formula), for expectations.
    function v2Out(address pair, address tokenIn, uint256 amountIn) internal view returns (uint256) {
        (uint112 r0, uint112 r1,) = IUniswapV2PairView(pair).getReserves();
        bool zeroForOne = IUniswapV2PairView(pair).token0() == tokenIn;
        (uint256 rIn, uint256 rOut) = zeroForOne ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        return amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
    }

    function v3Out(address tokenIn, address tokenOut, uint24 fee, uint256 amountIn) internal returns (uint256 out) {
        (out,,,) =
            quoter.quoteExactInputSingle(IQuoterV2.QuoteExactInputSingleParams(tokenIn, tokenOut, amountIn, fee, 0));
    }

    // ------------------------------------------------------------------ helpers (security suites)
    /// @dev Mints (or wraps) `amount` of `token` and hands it to the executor as its own capital.
    function fundExecutor(address token, uint256 amount) internal {
        _fund(token, amount);
        tokenCall(token, abi.encodeCall(IERC20.transfer, (address(executor), amount)));
    }

    /// @dev An ERC20 call that accepts "no data or true" (USDT-style tokens), like the executor's TokenLib.
    function tokenCall(address token, bytes memory data) internal {
        (bool ok, bytes memory ret) = token.call(data);
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), "tokenCall");
    }

    /// @dev The premium exactly as Aave computes it: PercentageMath.percentMul rounds half up.
    function aavePremiumExact(uint256 amount) internal view returns (uint256) {
        return (amount * IAaveV3Pool(aavePool).FLASHLOAN_PREMIUM_TOTAL() + 5_000) / 10_000;
    }

    /// @dev Exact V2 output at any fee in millionths (the executor's formula; equals the pair's at 3000).
    function v2OutPips(address pair, address tokenIn, uint256 amountIn, uint256 feePips)
        internal
        view
        returns (uint256)
    {
        (uint112 r0, uint112 r1,) = IUniswapV2PairView(pair).getReserves();
        bool zeroForOne = IUniswapV2PairView(pair).token0() == tokenIn;
        (uint256 rIn, uint256 rOut) = zeroForOne ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        uint256 inWithFee = amountIn * (1e6 - feePips);
        return inWithFee * rOut / (rIn * 1e6 + inWithFee);
    }

    /// @dev QuoterV2 with a price limit (the quote of a partial fill when the limit is reached).
    function v3OutLimit(address tokenIn, address tokenOut, uint24 fee, uint256 amountIn, uint160 limit)
        internal
        returns (uint256 out)
    {
        (out,,,) = quoter.quoteExactInputSingle(
            IQuoterV2.QuoteExactInputSingleParams(tokenIn, tokenOut, amountIn, fee, limit)
        );
    }

    /// @dev Adds liquidity for any pair of tokens (hostile ones included) on a real V2 fork; returns the pair.
    function addV2Liquidity(address router, address a, address b, uint256 amountA, uint256 amountB)
        internal
        returns (address pair)
    {
        _fund(a, amountA);
        _fund(b, amountB);
        tokenCall(a, abi.encodeCall(IERC20.approve, (router, amountA)));
        tokenCall(b, abi.encodeCall(IERC20.approve, (router, amountB)));
        IUniswapV2Router02(router).addLiquidity(a, b, amountA, amountB, 0, 0, address(this), type(uint256).max);
        pair = IUniswapV2Factory(IUniswapV2Router02(router).factory()).getPair(a, b);
    }
}

interface IUniswapV2PairView {
    function token0() external view returns (address);
    function getReserves() external view returns (uint112, uint112, uint32);
}
