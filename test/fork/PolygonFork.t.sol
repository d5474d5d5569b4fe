// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, console2} from "forge-std/Test.sol";
import {FlashArbExecutor} from "../../src/FlashArbExecutor.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Factory, IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Factory} from "../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";

/// @notice The executor against Polygon mainnet state (Aave V3, Balancer V2, QuickSwap, SushiSwap, Uniswap V3).
///         Runs when POLYGON_RPC_URL is set (optionally POLYGON_FORK_BLOCK to pin a block); otherwise every
///         test is skipped with that reason.
/// @dev Addresses as listed in @bgd-labs/aave-address-book (AaveV3Polygon) and the protocols' deployments.
contract PolygonForkTest is Test {
    using PlanBuilder for *;

    address internal constant AAVE_POOL = 0x794a61358D6845594F94dc1DB02A252b5b4814aD;
    address internal constant BALANCER_VAULT = 0xBA12222222228d8Ba445958a75a0704d566BF2C8;
    address internal constant UNIV3_FACTORY = 0x1F98431c8aD98523631AE4a59f267346ea31F984;
    address internal constant QUICKSWAP_FACTORY = 0x5757371414417b8C6CAad45bAeF941aBc7d3Ab32;
    address internal constant SUSHISWAP_FACTORY = 0xc35DADB65012eC5796536bD9864eD8773aBc74C4;
    address internal constant WPOL = 0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270;
    address internal constant WETH = 0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619;
    address internal constant USDC_E = 0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174;

    bool internal forked;
    FlashArbExecutor internal executor;

    modifier onlyFork() {
        if (!forked) {
            console2.log("SKIPPED: POLYGON_RPC_URL is not set; fork tests need a Polygon RPC endpoint");
            vm.skip(true, "POLYGON_RPC_URL is not set");
        }
        _;
    }

    function setUp() public {
        string memory url = vm.envOr("POLYGON_RPC_URL", string(""));
        if (bytes(url).length == 0) return;
        uint256 blockNumber = vm.envOr("POLYGON_FORK_BLOCK", uint256(0));
        if (blockNumber == 0) vm.createSelectFork(url);
        else vm.createSelectFork(url, blockNumber);
        forked = true;
        executor = new FlashArbExecutor(address(this), AAVE_POOL, BALANCER_VAULT, address(this));
    }

    function _plan(uint8 lender, uint256 amountIn, uint256 minProfit) internal view returns (bytes memory) {
        address quick = IUniswapV2Factory(QUICKSWAP_FACTORY).getPair(WPOL, USDC_E);
        address sushi = IUniswapV2Factory(SUSHISWAP_FACTORY).getPair(WPOL, USDC_E);
        return PlanBuilder.encode(
            lender,
            uint32(block.number),
            USDC_E,
            uint128(amountIn),
            uint128(minProfit),
            PlanBuilder.steps2(quick.v2(USDC_E, 3000), sushi.v2(WPOL, 3000))
        );
    }

    function _v2Out(address pair, address tokenIn, uint256 amountIn) internal view returns (uint256) {
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        (uint256 rIn, uint256 rOut) =
            IUniswapV2Pair(pair).token0() == tokenIn ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        return amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
    }

    /// @dev A round trip QuickSwap -> SushiSwap at today's prices loses fees: the executor must revert with the
    ///      exact shortfall the pools' math predicts, after really borrowing from Aave and swapping.
    function test_fork_aaveRoundTrip_revertsWithExactShortfall() public onlyFork {
        uint256 amountIn = 1_000e6;
        address quick = IUniswapV2Factory(QUICKSWAP_FACTORY).getPair(WPOL, USDC_E);
        address sushi = IUniswapV2Factory(SUSHISWAP_FACTORY).getPair(WPOL, USDC_E);
        uint256 out = _v2Out(sushi, WPOL, _v2Out(quick, USDC_E, amountIn));
        uint256 premium = amountIn * IAaveV3Pool(AAVE_POOL).FLASHLOAN_PREMIUM_TOTAL() / 10_000;
        uint256 minProfit = 1e6;
        if (out >= amountIn + premium + minProfit) vm.skip(true, "a live arbitrage exists at this block");
        vm.expectRevert(
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, amountIn + premium + minProfit - out)
        );
        executor.execute(_plan(PlanBuilder.AAVE_SIMPLE, amountIn, minProfit));
    }

    /// @dev A planted dislocation (WPOL dumped into the QuickSwap pair) is captured with a zero-fee Balancer loan,
    ///      profit exact to the wei.
    function test_fork_balancerCapturesPlantedDislocation() public onlyFork {
        address quick = IUniswapV2Factory(QUICKSWAP_FACTORY).getPair(WPOL, USDC_E);
        address sushi = IUniswapV2Factory(SUSHISWAP_FACTORY).getPair(WPOL, USDC_E);
        // Make WPOL expensive on SushiSwap by buying it there with USDC.e.
        deal(USDC_E, address(this), 50_000e6);
        uint256 usdcIn = 50_000e6;
        uint256 wpolOut = _v2Out(sushi, USDC_E, usdcIn);
        require(IERC20(USDC_E).transfer(sushi, usdcIn));
        bool usdcIs0 = IUniswapV2Pair(sushi).token0() == USDC_E;
        IUniswapV2Pair(sushi).swap(usdcIs0 ? 0 : wpolOut, usdcIs0 ? wpolOut : 0, address(this), "");

        uint256 amountIn = 500e6;
        uint256 out = _v2Out(sushi, WPOL, _v2Out(quick, USDC_E, amountIn));
        assertGt(out, amountIn, "the planted dislocation is profitable");
        uint256 profit = executor.execute(_plan(PlanBuilder.BALANCER, amountIn, 0));
        assertEq(profit, out - amountIn);
        assertEq(IERC20(USDC_E).balanceOf(address(executor)), profit);
    }

    /// @dev The real Uniswap V3 WPOL/WETH 0.05% pool takes a step: a round trip through V3 and QuickSwap
    ///      executes every call and reverts on the min-profit check only.
    function test_fork_v3StepExecutesAgainstRealPool() public onlyFork {
        address pool = IUniswapV3Factory(UNIV3_FACTORY).getPool(WPOL, WETH, 500);
        address quick = IUniswapV2Factory(QUICKSWAP_FACTORY).getPair(WPOL, WETH);
        assertTrue(pool != address(0) && quick != address(0));
        bytes memory p = PlanBuilder.encode(
            PlanBuilder.AAVE_SIMPLE,
            uint32(block.number),
            WPOL,
            1_000e18,
            type(uint128).max,
            PlanBuilder.steps2(pool.v3(WPOL), quick.v2(WETH, 3000))
        );
        vm.expectPartialRevert(IFlashArbExecutor.InsufficientProfit.selector);
        executor.execute(p);
    }
}
