// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {FakeV3Pool} from "../utils/hostile/FakeV3Pool.sol";
import {ReentrantToken} from "../utils/hostile/ReentrantToken.sol";
import {Artifacts} from "../../script/replica/Artifacts.sol";
import {IPoolConfigurator, InitReserveInput} from "../../script/replica/ReplicaInterfaces.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {IBalancerVault} from "../../src/interfaces/external/IBalancerVault.sol";

/// @notice Flash loans pointed at the executor by someone else, through the REAL Aave V3 Pool and Balancer Vault:
///         from outside, from inside our own run (via a baited fake pool), and nested inside the lender's own
///         transfer to us (via a hooked token listed on the replica's Aave and held by its Vault). None may make
///         the executor run a plan, pay a premium, or lose a wei.
contract FlashLoanAttacksTest is ExecutorTest {
    using PlanBuilder for *;

    uint256 internal constant AMOUNT = 10_000e6;
    uint256 internal constant STASH = 50_000e6;

    function setUp() public override {
        super.setUp();
        fundExecutor(USDC, STASH); // enough to pay any premium an attacker hopes to charge us
    }

    function _profitablePlan(uint8 lender) internal returns (bytes memory p, uint256 profit) {
        _dislocateV2(sushiswapRouter, WETH, USDC, 300);
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 premium =
            lender == PlanBuilder.AAVE_SIMPLE || lender == PlanBuilder.AAVE_MULTI ? aavePremiumExact(AMOUNT) : 0;
        profit = v2Out(quick, WETH, v2Out(sushi, USDC, AMOUNT)) - AMOUNT - premium;
        p = plan(lender, USDC, AMOUNT, profit, PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE)));
    }

    // ------------------------------------------------------------------ from outside
    /// @dev The attacker starts an Aave simple flash loan with receiver = executor and a plan that would run.
    function test_flashLoanSimple_attackerWithExecutorAsReceiverRefused() public {
        (bytes memory p,) = _profitablePlan(PlanBuilder.AAVE_SIMPLE);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        IAaveV3Pool(aavePool).flashLoanSimple(address(executor), USDC, AMOUNT, p, 0);
        assertEq(balance(USDC, address(executor)), STASH);
    }

    function test_flashLoan_attackerMultiWithExecutorAsReceiverRefused() public {
        (bytes memory p,) = _profitablePlan(PlanBuilder.AAVE_MULTI);
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1);
        (assets[0], amounts[0]) = (USDC, AMOUNT);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        IAaveV3Pool(aavePool).flashLoan(address(executor), assets, amounts, modes, address(executor), p, 0);
        assertEq(balance(USDC, address(executor)), STASH);
    }

    function test_balancerFlashLoan_attackerWithExecutorAsRecipientRefused() public {
        (bytes memory p,) = _profitablePlan(PlanBuilder.BALANCER);
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (tokens[0], amounts[0]) = (USDC, AMOUNT);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        IBalancerVault(balancerVault).flashLoan(address(executor), tokens, amounts, p);
        assertEq(balance(USDC, address(executor)), STASH);
    }

    // ------------------------------------------------------------------ from inside our run (a baited pool)
    /// @dev A fake pool in the plan starts a flash loan to the executor while our run is in progress.
    function _runWithFakeSideCall(uint8 lender, address target, bytes memory data, bytes memory expected) internal {
        FakeV3Pool fake = new FakeV3Pool(USDC, WETH);
        FakeV3Pool.Script memory s;
        s.sideTarget = target;
        s.sideData = data;
        s.sideBubbles = true;
        s.callbacks = 1;
        fake.setScript(s);
        bytes memory p = plan(
            lender,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                quickPair(USDC, WETH).v2(USDC, V2_FEE), PlanBuilder.v3Raw(address(fake), WETH, fake.token0() == WETH)
            )
        );
        vm.prank(bot);
        vm.expectRevert(expected);
        executor.execute(p);
        assertEq(balance(USDC, address(executor)), STASH);
    }

    function _aaveSimpleCall() internal returns (bytes memory) {
        (bytes memory inner,) = _profitablePlan(PlanBuilder.AAVE_SIMPLE);
        return abi.encodeCall(IAaveV3Pool.flashLoanSimple, (address(executor), USDC, AMOUNT, inner, 0));
    }

    function _balancerCall() internal returns (bytes memory) {
        (bytes memory inner,) = _profitablePlan(PlanBuilder.BALANCER);
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (tokens[0], amounts[0]) = (USDC, AMOUNT);
        return abi.encodeCall(IBalancerVault.flashLoan, (address(executor), tokens, amounts, inner));
    }

    function test_flashLoanSimple_duringCapitalRunRefused() public {
        _runWithFakeSideCall(
            PlanBuilder.CAPITAL,
            aavePool,
            _aaveSimpleCall(),
            abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector)
        );
    }

    /// @dev During our own Aave run the expectation was consumed by our own callback: a second loan is refused.
    function test_flashLoanSimple_duringAaveRunRefused() public {
        _runWithFakeSideCall(
            PlanBuilder.AAVE_SIMPLE,
            aavePool,
            _aaveSimpleCall(),
            abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector)
        );
    }

    function test_balancerFlashLoan_duringCapitalRunRefused() public {
        _runWithFakeSideCall(
            PlanBuilder.CAPITAL,
            balancerVault,
            _balancerCall(),
            abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector)
        );
    }

    function test_balancerFlashLoan_duringAaveRunRefused() public {
        _runWithFakeSideCall(
            PlanBuilder.AAVE_MULTI,
            balancerVault,
            _balancerCall(),
            abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector)
        );
    }

    /// @dev During our own Balancer run the Vault's own reentrancy guard refuses first (BAL#400).
    function test_balancerFlashLoan_duringBalancerRunRefusedByVault() public {
        _runWithFakeSideCall(PlanBuilder.BALANCER, balancerVault, _balancerCall(), bytes("BAL#400"));
    }

    // ------------------------------------------------------------------ nested inside the lender's own transfer
    /// @dev Lists `token` on the replica's Aave (the test is its pool admin) and supplies `liquidity`.
    function _listOnAave(address token, uint256 liquidity) internal {
        string memory tok = "@aave/core-v3/artifacts/contracts/protocol/tokenization/";
        InitReserveInput[] memory input = new InitReserveInput[](1);
        input[0] = InitReserveInput(
            Artifacts.deploy(string.concat(tok, "AToken.sol/AToken.json"), abi.encode(aavePool)),
            Artifacts.deploy(string.concat(tok, "StableDebtToken.sol/StableDebtToken.json"), abi.encode(aavePool)),
            Artifacts.deploy(string.concat(tok, "VariableDebtToken.sol/VariableDebtToken.json"), abi.encode(aavePool)),
            18,
            Artifacts.deploy(
                "@aave/core-v3/artifacts/contracts/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
                abi.encode(aaveProvider, 0.8e27, 0, 0.04e27, 0.75e27, 0.02e27, 0.75e27, 0.02e27, 0.05e27, 0.2e27)
            ),
            token,
            address(this),
            address(0),
            "Aave Polygon HOOK",
            "aPolHOOK",
            "Aave Polygon Variable Debt HOOK",
            "variableDebtPolHOOK",
            "Aave Polygon Stable Debt HOOK",
            "stableDebtPolHOOK",
            ""
        );
        IPoolConfigurator(aaveConfigurator).initReserves(input);
        IPoolConfigurator(aaveConfigurator).setReserveFlashLoaning(token, true);
        _fund(token, liquidity);
        IERC20(token).approve(aavePool, liquidity);
        IAaveV3Pool(aavePool).supply(token, liquidity, address(this), 0);
    }

    /// @dev A hooked token with real V2 markets against USDC, made expensive on SushiSwap; returns a profitable
    ///      2-hop plan borrowing it and the exact profit.
    function _hookedTokenRoute(ReentrantToken hook, uint8 lender, uint256 amountIn)
        internal
        returns (bytes memory p, uint256 profit)
    {
        address quick = addV2Liquidity(quickswapRouter, address(hook), USDC, 1_000_000e18, 1_000_000e6);
        address sushi = addV2Liquidity(sushiswapRouter, address(hook), USDC, 300_000e18, 300_000e6);
        _dislocateV2(sushiswapRouter, USDC, address(hook), 300);
        uint256 premium = lender == PlanBuilder.BALANCER ? 0 : aavePremiumExact(amountIn);
        profit = v2Out(quick, USDC, v2Out(sushi, address(hook), amountIn)) - amountIn - premium;
        p = plan(
            lender,
            address(hook),
            amountIn,
            profit,
            PlanBuilder.steps2(sushi.v2(address(hook), V2_FEE), quick.v2(USDC, V2_FEE))
        );
    }

    /// @dev Our Aave loan is armed and Aave is transferring the asset to us; the token's hook starts the
    ///      attacker's own flash loan to the executor in that window. The real Pool calls back with the attacker
    ///      as initiator: UntrustedInitiator. Our run then completes with its exact profit.
    function test_executeOperation_nestedAttackerLoanRefusedUntrustedInitiator() public {
        ReentrantToken hook = new ReentrantToken("HOOK", 18);
        _listOnAave(address(hook), 1_000_000e18);
        (bytes memory p, uint256 profit) = _hookedTokenRoute(hook, PlanBuilder.AAVE_SIMPLE, 5_000e18);
        hook.arm(
            aavePool,
            abi.encodeCall(IAaveV3Pool.flashLoanSimple, (address(executor), address(hook), 1_000e18, p, 0)),
            false,
            1
        );
        assertEq(run(p), profit, "our run is unaffected");
        assertEq(hook.hookCalls(), 1);
        assertFalse(hook.lastHookOk(), "the nested loan was refused");
        assertEq(hook.lastHookReturn(), abi.encodeWithSelector(IFlashArbExecutor.UntrustedInitiator.selector));
        assertEq(hook.balanceOf(address(executor)), profit);
        assertEq(balance(USDC, address(executor)), STASH);
    }

    /// @dev The same window on Balancer: the Vault is paying us; the hook's nested loan hits the Vault's guard.
    function test_receiveFlashLoan_nestedAttackerLoanRefusedByVault() public {
        ReentrantToken hook = new ReentrantToken("HOOK", 18);
        hook.mint(balancerVault, 1_000_000e18);
        (bytes memory p, uint256 profit) = _hookedTokenRoute(hook, PlanBuilder.BALANCER, 5_000e18);
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (tokens[0], amounts[0]) = (address(hook), 1_000e18);
        hook.arm(
            balancerVault, abi.encodeCall(IBalancerVault.flashLoan, (address(executor), tokens, amounts, p)), false, 1
        );
        assertEq(run(p), profit);
        assertFalse(hook.lastHookOk());
        assertEq(hook.lastHookReturn(), abi.encodeWithSignature("Error(string)", "BAL#400"));
    }
}
