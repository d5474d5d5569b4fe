// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Factory, IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Factory, IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {IBalancerVault} from "../../src/interfaces/external/IBalancerVault.sol";
import {FlashReceiver} from "../utils/FlashReceiver.sol";

/// @notice Proves the replica is the real protocols: swaps and flash loans behave as on Polygon.
contract ReplicaTest is Test, PolygonReplica {
    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
    }

    function test_replica_layout() public view {
        assertEq(replicaTokens.length, 8);
        assertEq(v2Pairs.length, 22, "11 pairs on each V2 fork");
        assertEq(v3Pools.length, 13);
        assertEq(IERC20(USDC).decimals(), 6);
        assertEq(IERC20(USDT).decimals(), 6);
        assertEq(IERC20(WBTC).decimals(), 8);
        assertEq(IERC20(WMATIC).decimals(), 18);
        assertTrue(quickswapFactory != sushiswapFactory, "two independent V2 forks");
    }

    function test_replica_v2PairInitCodeHashIsMainnets() public view {
        // CREATE2 address from the factory with Uniswap V2's mainnet init code hash: proves the pair bytecode is real.
        (address t0, address t1) = WETH < USDC ? (WETH, USDC) : (USDC, WETH);
        bytes32 initCodeHash = 0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f;
        address predicted = address(
            uint160(
                uint256(
                    keccak256(
                        abi.encodePacked(hex"ff", quickswapFactory, keccak256(abi.encodePacked(t0, t1)), initCodeHash)
                    )
                )
            )
        );
        assertEq(IUniswapV2Factory(quickswapFactory).getPair(WETH, USDC), predicted);
    }

    function test_replica_v2Swap() public {
        address pair = IUniswapV2Factory(quickswapFactory).getPair(WETH, USDC);
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        (uint256 rIn, uint256 rOut) =
            IUniswapV2Pair(pair).token0() == USDC ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        uint256 amountIn = 30_000e6;
        uint256 expected = amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
        uint256 wethBefore = IERC20(WETH).balanceOf(address(this));
        _fund(USDC, amountIn);
        require(IERC20(USDC).transfer(pair, amountIn));
        bool usdcIs0 = IUniswapV2Pair(pair).token0() == USDC;
        IUniswapV2Pair(pair).swap(usdcIs0 ? 0 : expected, usdcIs0 ? expected : 0, address(this), "");
        assertEq(IERC20(WETH).balanceOf(address(this)) - wethBefore, expected);
        assertApproxEqRel(expected, 10e18, 0.02e18, "about 10 WETH for 30k USDC at 3,000 USD");
        // One wei more violates K: the real pair enforces its fee.
        _fund(USDC, amountIn);
        require(IERC20(USDC).transfer(pair, amountIn));
        (r0, r1,) = IUniswapV2Pair(pair).getReserves();
        (rIn, rOut) = usdcIs0 ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        uint256 exact = amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
        vm.expectRevert("UniswapV2: K");
        IUniswapV2Pair(pair).swap(usdcIs0 ? 0 : exact + 1, usdcIs0 ? exact + 1 : 0, address(this), "");
    }

    function test_replica_v3SwapCrossesInitialisedTicks() public {
        address pool = IUniswapV3Factory(v3Factory).getPool(WETH, USDC, 500);
        (, int24 tickBefore,,,,,) = IUniswapV3Pool(pool).slot0();
        uint128 liquidityBefore = IUniswapV3Pool(pool).liquidity();
        bool wethIs0 = IUniswapV3Pool(pool).token0() == WETH;
        // Sell WETH: the price moves away from the two inner ranges (+-200 and +-1000 ticks) and out of both.
        uint256 usdcOut = _dislocateV3(WETH, USDC, 500, 400e18);
        (, int24 tickAfter,,,,,) = IUniswapV3Pool(pool).slot0();
        int24 spacing = IUniswapV3Pool(pool).tickSpacing();
        int24 moved = wethIs0 ? tickBefore - tickAfter : tickAfter - tickBefore;
        assertGt(moved, 1000, "moved past the +-1000 range");
        // The inner ranges' boundaries on the way are initialised ticks that the swap crossed.
        int24 inner = wethIs0 ? _floor(tickBefore - 200, spacing) : _floor(tickBefore + 200, spacing) + spacing;
        int24 middle = wethIs0 ? _floor(tickBefore - 1000, spacing) : _floor(tickBefore + 1000, spacing) + spacing;
        (,,,,,,, bool innerInit) = IUniswapV3Pool(pool).ticks(inner);
        (,,,,,,, bool middleInit) = IUniswapV3Pool(pool).ticks(middle);
        assertTrue(innerInit && middleInit, "crossed two initialised ticks");
        assertLt(IUniswapV3Pool(pool).liquidity(), liquidityBefore, "liquidity dropped as ranges were left");
        assertGt(usdcOut, 0);
    }

    function test_replica_aaveFlashLoanSimple_paysPremium() public {
        FlashReceiver receiver = new FlashReceiver(aavePool);
        uint256 amount = 100_000e6;
        uint256 premiumBps = IAaveV3Pool(aavePool).FLASHLOAN_PREMIUM_TOTAL();
        assertEq(premiumBps, AAVE_FLASH_PREMIUM_BPS);
        uint256 premium = amount * premiumBps / 10_000;
        _fund(USDC, premium);
        require(IERC20(USDC).transfer(address(receiver), premium));
        address aToken = IAaveV3Pool(aavePool).getReserveData(USDC).aTokenAddress;
        uint256 reserveBefore = IERC20(USDC).balanceOf(aToken);

        IAaveV3Pool(aavePool).flashLoanSimple(address(receiver), USDC, amount, "", 0);

        assertEq(receiver.calls(), 1);
        assertEq(receiver.receivedAmounts(0), amount);
        assertEq(receiver.premiums(0), premium);
        assertEq(receiver.balancesInCallback(0), amount + premium, "loan arrived before the callback");
        assertEq(IERC20(USDC).balanceOf(address(receiver)), 0, "loan and premium pulled back");
        assertEq(IERC20(USDC).balanceOf(aToken), reserveBefore + premium, "premium went to the reserve");
    }

    function test_replica_aaveMultiAssetFlashLoan_paysPremiumPerAsset() public {
        FlashReceiver receiver = new FlashReceiver(aavePool);
        address[] memory assets = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (assets[0], assets[1]) = (WETH, WBTC);
        (amounts[0], amounts[1]) = (50e18, 2e8);
        uint256[] memory modes = new uint256[](2);
        uint256 bps = IAaveV3Pool(aavePool).FLASHLOAN_PREMIUM_TOTAL();
        for (uint256 i; i < 2; ++i) {
            uint256 premium = amounts[i] * bps / 10_000;
            _fund(assets[i], premium);
            require(IERC20(assets[i]).transfer(address(receiver), premium));
        }
        IAaveV3Pool(aavePool).flashLoan(address(receiver), assets, amounts, modes, address(receiver), "", 0);
        assertEq(receiver.calls(), 2);
        for (uint256 i; i < 2; ++i) {
            assertEq(receiver.receivedAmounts(i), amounts[i]);
            assertEq(receiver.premiums(i), amounts[i] * bps / 10_000);
            assertEq(IERC20(assets[i]).balanceOf(address(receiver)), 0);
        }
    }

    function test_replica_balancerFlashLoan_isFeeFree() public {
        FlashReceiver receiver = new FlashReceiver(balancerVault);
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        tokens[0] = USDC;
        amounts[0] = 1_000_000e6;
        uint256 vaultBefore = IERC20(USDC).balanceOf(balancerVault);
        IBalancerVault(balancerVault).flashLoan(address(receiver), tokens, amounts, "");
        assertEq(receiver.receivedAmounts(0), amounts[0]);
        assertEq(receiver.premiums(0), 0, "zero fee, as on Polygon");
        assertEq(IERC20(USDC).balanceOf(balancerVault), vaultBefore);
        // More than the Vault holds: BAL#528.
        amounts[0] = vaultBefore + 1;
        vm.expectRevert(bytes("BAL#528"));
        IBalancerVault(balancerVault).flashLoan(address(receiver), tokens, amounts, "");
    }

    function test_replica_dislocationMovesOneVenueOnly() public {
        address quick = IUniswapV2Factory(quickswapFactory).getPair(WETH, USDC);
        address sushi = IUniswapV2Factory(sushiswapFactory).getPair(WETH, USDC);
        (uint112 q0,,) = IUniswapV2Pair(quick).getReserves();
        (uint112 s0,,) = IUniswapV2Pair(sushi).getReserves();
        _dislocateV2(sushiswapRouter, WETH, USDC, 200);
        (uint112 q0After,,) = IUniswapV2Pair(quick).getReserves();
        (uint112 s0After,,) = IUniswapV2Pair(sushi).getReserves();
        assertEq(q0After, q0, "QuickSwap untouched");
        assertTrue(s0After != s0, "SushiSwap moved");
    }

    function _floor(int24 tick, int24 spacing) private pure returns (int24) {
        int24 q = tick / spacing;
        if (tick < 0 && tick % spacing != 0) q--;
        return q * spacing;
    }
}
