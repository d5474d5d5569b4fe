// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";

/// @notice Fuzzed liquidations on the real replica Aave Pool: any debtToCover (below, at and far above the close
///         factor, up to more than the whole debt), any price move that leaves HF in [0.80, 0.999] (both close
///         factors, and the collateral running out), any lender, a V2 or V3 swap-back. With min profit = the
///         prediction (Aave's arithmetic + the pools'), the run earns it to the wei, or, when the prediction is a
///         loss, reverts with exactly that shortfall; no allowance is ever left and the debt falls by what was taken.
contract LiquidationFuzzTest is ExecutorTest {
    using PlanBuilder for *;

    struct Case {
        AaveBorrowers.Position pos;
        uint256 debt;
        uint256 cover;
        uint8 lender;
        uint256 taken;
        uint256 loss; // predicted shortfall when not profitable
        uint256 minProfit;
        bytes plan;
    }

    function test_fuzz_liquidation_exactProfitOrShortfall(uint256 cover, uint256 hfBps, uint256 lenderSeed, bool v3)
        public
    {
        Case memory c = _case(cover, hfBps, lenderSeed, v3);
        uint256 before = balance(USDC, address(executor));
        if (c.loss == 0) {
            assertEq(run(c.plan), c.minProfit, "exact profit");
            assertEq(balance(USDC, address(executor)), before + c.minProfit);
            assertEq(AaveBorrowers.debtOf(aavePool, c.pos.user, USDC), c.debt - c.taken, "debt reduced by the take");
        } else {
            vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, c.loss));
            run(c.plan);
        }
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0, "no allowance left");
        assertEq(balance(WETH, address(executor)), 0, "no collateral left behind");
    }

    function _case(uint256 cover, uint256 hfBps, uint256 lenderSeed, bool v3) internal returns (Case memory c) {
        c.pos = AaveBorrowers.open(aavePool, aaveOracle, "fuzz-borrower", WETH, 10e18, USDC, 9_900, WMATIC);
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, c.pos, bound(hfBps, 8_000, 9_990) * 1e14);
        c.debt = AaveBorrowers.debtOf(aavePool, c.pos.user, USDC);
        c.cover = bound(cover, 1e6, c.debt * 3 / 2);
        c.lender = uint8(lenderSeed % 4);
        uint256 seized;
        (c.taken, seized) = AaveBorrowers.quote(aavePool, aaveOracle, c.pos, c.cover);
        uint256 out = v3 ? v3Out(WETH, USDC, 500, seized) : v2Out(quickPair(WETH, USDC), WETH, seized);
        uint256 cost = c.taken + (c.lender == 1 || c.lender == 2 ? aavePremiumExact(c.cover) : 0);
        if (out >= cost) c.minProfit = out - cost;
        else c.loss = cost - out;
        PlanBuilder.Step memory back = v3 ? v3Pool(WETH, USDC, 500).v3(WETH) : quickPair(WETH, USDC).v2(WETH, 3000);
        c.plan = plan(
            c.lender, USDC, c.cover, c.minProfit, PlanBuilder.steps2(PlanBuilder.liquidation(WETH, c.pos.user), back)
        );
        if (c.lender == 0) fundExecutor(USDC, c.cover);
    }
}
