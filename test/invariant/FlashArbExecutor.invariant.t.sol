// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {ExecutorHandler} from "./handlers/ExecutorHandler.sol";
import {FakeV3Pool} from "../utils/hostile/FakeV3Pool.sol";
import {ReentrantToken} from "../utils/hostile/ReentrantToken.sol";
import {NoBoolToken} from "../utils/hostile/NoBoolToken.sol";
import {FeeOnTransferToken} from "../utils/hostile/FeeOnTransferToken.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";

/// @notice The executor's funds leave only through the owner's and executors' withdrawals, whatever mix of
///         legitimate runs, hostile callers, direct callbacks, attacker flash loans, baited fake pools and hostile
///         tokens (ExecutorHandler) happens in between; runs earn exactly their predicted profit; nobody but the
///         owner changes the roles; no approval outlives a run.
contract FlashArbExecutorInvariantTest is StdInvariant, ExecutorTest {
    ExecutorHandler internal handler;
    address[] internal tracked;

    function setUp() public override {
        super.setUp();
        ReentrantToken r = new ReentrantToken("REENT", 18);
        NoBoolToken nb = new NoBoolToken();
        FeeOnTransferToken tax = new FeeOnTransferToken(100);
        address[3] memory hostile = [address(r), address(nb), address(tax)];
        uint256[3] memory unit = [uint256(1e18), 1e6, 1e18];
        for (uint256 i; i < 3; ++i) {
            addV2Liquidity(quickswapRouter, hostile[i], USDC, 1_000_000 * unit[i], 1_000_000e6);
            addV2Liquidity(sushiswapRouter, hostile[i], USDC, 300_000 * unit[i], 300_000e6);
            // The Vault holds the hostile tokens too (anyone can send it tokens), so they can be flash-borrowed.
            _fund(hostile[i], 2_000_000 * unit[i]);
            tokenCall(hostile[i], abi.encodeCall(IERC20.transfer, (balancerVault, 2_000_000 * unit[i])));
        }

        // The re-entrant token as Aave collateral ($1, like its pools), for liquidations whose seized collateral
        // re-enters the executor from inside the liquidation step.
        AaveBorrowers.listCollateral(aavePool, aaveProvider, aaveConfigurator, aaveOracle, address(r), 1e8);

        FakeV3Pool fakeA = new FakeV3Pool(USDC, WETH);
        FakeV3Pool fakeB = new FakeV3Pool(USDC, WETH);
        _fund(USDC, 50_000_000e6);
        _fund(WETH, 20_000e18);
        IERC20(USDC).transfer(address(fakeA), 50_000_000e6);
        IERC20(WETH).transfer(address(fakeA), 20_000e18);

        // Holdings between sweeps: every token the executor can hold, so any leak shows.
        tracked = [USDC, WETH, WBTC, USDT, DAI, address(r), address(nb), address(tax)];
        for (uint256 i; i < tracked.length; ++i) {
            address t = tracked[i];
            uint256 amount = i < 5 ? _usd(t, 20_000) : 20_000 * unit[i - 5];
            fundExecutor(t, amount);
        }

        handler = new ExecutorHandler(
            ExecutorHandler.Env({
                executor: executor,
                bot: bot,
                owner: ownerEoa,
                treasury: treasury,
                aavePool: aavePool,
                balancerVault: balancerVault,
                quickFactory: quickswapFactory,
                sushiFactory: sushiswapFactory,
                quickRouter: quickswapRouter,
                sushiRouter: sushiswapRouter,
                quoter: address(quoter),
                usdc: USDC,
                weth: WETH,
                wbtc: WBTC,
                usdt: USDT,
                dai: DAI,
                v3WethUsdc500: v3Pool(WETH, USDC, 500),
                v3WethUsdc3000: v3Pool(WETH, USDC, 3000),
                reentrant: address(r),
                noBool: address(nb),
                taxed: address(tax),
                fakeA: address(fakeA),
                fakeB: address(fakeB),
                aaveOracle: aaveOracle,
                wmatic: WMATIC
            })
        );
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = ExecutorHandler.legitRunV2.selector;
        selectors[1] = ExecutorHandler.legitRunV3.selector;
        selectors[2] = ExecutorHandler.reentrantTokenRun.selector;
        selectors[3] = ExecutorHandler.noBoolRun.selector;
        selectors[4] = ExecutorHandler.withdraw.selector;
        selectors[5] = ExecutorHandler.hostileAdmin.selector;
        selectors[6] = ExecutorHandler.directCallback.selector;
        selectors[7] = ExecutorHandler.attackerFlashLoan.selector;
        selectors[8] = ExecutorHandler.hostilePoolRun.selector;
        selectors[9] = ExecutorHandler.feeOnTransferRun.selector;
        selectors[10] = ExecutorHandler.legitRunV2.selector; // legitimate runs twice as likely
        selectors[11] = ExecutorHandler.liquidationRun.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// forge-config: default.invariant.fail_on_revert = true
    function invariant_fundsLeaveOnlyThroughWithdrawals() public view {
        for (uint256 i; i < tracked.length; ++i) {
            address t = tracked[i];
            assertGe(balance(t, address(executor)), handler.expected(t), "holding below its floor");
            assertEq(IERC20(t).allowance(address(executor), aavePool), 0, "no approval outlives a run");
        }
        assertEq(handler.losses(), 0, "a holding decreased outside a withdrawal");
        assertEq(handler.profitMismatches(), 0, "a run did not earn exactly its prediction");
        assertEq(handler.unauthorizedSuccesses(), 0, "a stranger's privileged call or callback succeeded");
        assertEq(handler.hookSuccesses(), 0, "a token re-entered the executor successfully");
        assertEq(handler.sideCallSuccesses(), 0, "a fake pool re-entered successfully");
        assertEq(handler.hostileTokenSuccesses(), 0, "a fee-on-transfer route passed");
        assertEq(handler.withdrawalMismatches(), 0, "a withdrawal misdelivered");
        assertEq(executor.owner(), ownerEoa, "owner unchanged");
        assertEq(executor.pendingOwner(), address(0), "no pending owner");
        assertEq(executor.profitReceiver(), treasury, "receiver unchanged");
        assertTrue(executor.isExecutor(bot), "bot still allowed");
        assertFalse(executor.isExecutor(address(handler)), "no stranger allowed");
    }

    /// @dev The campaign is not vacuous: every predicted run was accounted for exactly, and a sequence with a
    ///      handful of legitimate runs saw real profits (the handler plants dislocations up to 8%).
    function afterInvariant() public view {
        uint256 runs = handler.legitRuns();
        assertEq(handler.legitProfits() + handler.legitShortfalls(), runs, "every predicted run matched");
        if (runs >= 4) assertGt(handler.legitProfits(), 0, "legitimate runs earned");
    }
}
