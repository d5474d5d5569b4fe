// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";
import {ReentrantToken} from "../utils/hostile/ReentrantToken.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";

/// @notice Plans that try to misuse the liquidation step against the real Aave Pool: a collateral that is no
///         reserve (a token, a contract, an EOA), a borrower with no such debt or collateral. Each reverts cleanly
///         with Aave's own reason or the executor's error, and leaves no allowance and no balance change.
contract LiquidationAdversarialTest is ExecutorTest {
    using PlanBuilder for *;

    AaveBorrowers.Position internal pos;

    function setUp() public override {
        super.setUp();
        pos = AaveBorrowers.open(aavePool, aaveOracle, "victim", WETH, 10e18, USDC, 9_900, WMATIC);
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, pos, 0.97e18);
        fundExecutor(USDC, 10_000e6);
    }

    function _attempt(address collateral, address user, uint8 lender, bytes memory err) internal {
        PlanBuilder.Step[] memory steps =
            PlanBuilder.steps2(PlanBuilder.liquidation(collateral, user), quickPair(WETH, USDC).v2(WETH, 3000));
        uint256 usdc = balance(USDC, address(executor));
        uint256 debt = AaveBorrowers.debtOf(aavePool, pos.user, USDC);
        vm.expectRevert(err);
        run(plan(lender, USDC, 5_000e6, 0, steps));
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0, "no allowance left");
        assertEq(balance(USDC, address(executor)), usdc, "nothing moved");
        assertEq(AaveBorrowers.debtOf(aavePool, pos.user, USDC), debt, "nobody liquidated");
    }

    function test_nonReserveToken_revertsWithAaveReason() public {
        ReentrantToken fake = new ReentrantToken("FAKE", 18); // a working ERC20 Aave never listed
        _attempt(address(fake), pos.user, PlanBuilder.CAPITAL, bytes("27")); // RESERVE_INACTIVE
        _attempt(address(fake), pos.user, PlanBuilder.BALANCER, bytes("27"));
        _attempt(address(fake), pos.user, PlanBuilder.AAVE_SIMPLE, bytes("27"));
    }

    function test_collateralWithoutCode_revertsTokenCallFailed() public {
        address eoa = makeAddr("not-a-token");
        _attempt(
            eoa, pos.user, PlanBuilder.CAPITAL, abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, eoa)
        );
    }

    function test_collateralIsAContractButNoToken_reverts() public {
        // The Aave Pool itself as "collateral": no balanceOf, so the executor's balance read fails first.
        _attempt(
            aavePool,
            pos.user,
            PlanBuilder.BALANCER,
            abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, aavePool)
        );
    }

    function test_reserveTheUserDoesNotSupply_revertsWithAaveReason() public {
        _attempt(WBTC, pos.user, PlanBuilder.CAPITAL, bytes("46")); // COLLATERAL_CANNOT_BE_LIQUIDATED
    }

    function test_userWithoutDebt_revertsWithAaveReason() public {
        _attempt(WETH, makeAddr("nobody"), PlanBuilder.BALANCER, bytes("45")); // no debt: HF is max
    }
}
