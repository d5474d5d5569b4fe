// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {PlanBuilder} from "../../utils/PlanBuilder.sol";
import {FakeV3Pool} from "../../utils/hostile/FakeV3Pool.sol";
import {ReentrantToken} from "../../utils/hostile/ReentrantToken.sol";
import {FeeOnTransferToken} from "../../utils/hostile/FeeOnTransferToken.sol";
import {FlashArbExecutor} from "../../../src/FlashArbExecutor.sol";
import {IFlashArbExecutor} from "../../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../../src/interfaces/external/IERC20.sol";
import {IAaveV3Pool} from "../../../src/interfaces/external/IAaveV3.sol";
import {IBalancerVault} from "../../../src/interfaces/external/IBalancerVault.sol";
import {IUniswapV2Factory, IUniswapV2Pair, IUniswapV2Router02} from "../../../src/interfaces/external/IUniswapV2.sol";
import {AaveBorrowers} from "../../utils/AaveBorrowers.sol";

interface IMint {
    function mint(address to, uint256 amount) external returns (bool);
}

interface IQuoterV2Single {
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

/// @notice Invariant handler: a market where the bot runs real arbitrages (a dislocation is planted first, the
///         profit predicted to the wei), the bot and owner withdraw, and adversaries do everything they can: call
///         privileged functions, call the callbacks directly from any sender (the real lenders and pools
///         included), start flash loans at the executor, get baited fake V3 pools into plans (paid in the wrong
///         token, over-reporting, over-charging, calling back twice or never, short-changing, re-entering), and
///         trade re-entrant, no-bool and fee-on-transfer tokens through it.
/// @dev Every action is wrapped so the handler itself never reverts (the suite runs with fail_on_revert): a
///      revert of the executor is an outcome to check, not a failure. Ghosts:
///      - `expected[token]`: the least the executor must hold. It rises with deposits and observed gains and
///        falls ONLY by the exact amount of an authorised withdrawal (sweep, rescue). `_settle` ratchets it up to
///        the balance after every action; a balance below it is a loss.
///      - counters of things that must never happen (a privileged call by a stranger that succeeded, a callback
///        that paid out, a profit that differs from the prediction by a wei, a hostile token run that passed).
contract ExecutorHandler is CommonBase, StdUtils {
    using PlanBuilder for *;

    struct Env {
        FlashArbExecutor executor;
        address bot;
        address owner;
        address treasury;
        address aavePool;
        address balancerVault;
        address quickFactory;
        address sushiFactory;
        address quickRouter;
        address sushiRouter;
        address quoter;
        address usdc;
        address weth;
        address wbtc;
        address usdt;
        address dai;
        address v3WethUsdc500;
        address v3WethUsdc3000;
        address reentrant;
        address noBool;
        address taxed;
        address fakeA;
        address fakeB;
        address aaveOracle;
        address wmatic;
    }

    Env internal e;
    address[] public tokens; // every token the executor holds or can receive
    address[2][] internal crossPairs; // token pairs listed on both V2 forks
    address[] internal strangers;

    // ------------------------------------------------------------------ ghosts
    mapping(address => uint256) public expected;
    uint256 public losses; // a balance found below `expected`
    uint256 public profitMismatches; // a legit run that did not earn exactly the predicted profit
    uint256 public unauthorizedSuccesses; // a privileged call or callback from the wrong party that succeeded
    uint256 public hostileTokenSuccesses; // a fee-on-transfer run that did not revert
    uint256 public hookSuccesses; // a re-entry from inside a token transfer that succeeded
    uint256 public sideCallSuccesses; // a re-entry from inside a fake pool's swap that succeeded
    uint256 public withdrawalMismatches; // a sweep/rescue that did not deliver exactly to its recipient
    mapping(bytes32 => uint256) public calls;
    uint256 public legitRuns; // predicted runs attempted (V2, V3, re-entrant and no-bool tokens)
    uint256 public legitProfits; // ... of which earned exactly the predicted (positive) profit
    uint256 public legitShortfalls; // ... of which reverted with exactly the predicted shortfall
    uint256 public liquidations; // liquidation runs attempted (included in legitRuns)
    uint256 internal borrowerCount;

    constructor(Env memory env) {
        e = env;
        tokens = [env.usdc, env.weth, env.wbtc, env.usdt, env.dai, env.reentrant, env.noBool, env.taxed];
        crossPairs.push([env.weth, env.usdc]);
        crossPairs.push([env.wbtc, env.weth]);
        crossPairs.push([env.usdc, env.usdt]);
        crossPairs.push([env.dai, env.usdc]);
        crossPairs.push([env.weth, env.usdt]);
        crossPairs.push([env.wbtc, env.usdc]);
        strangers = [address(0xBAD1), address(0xBAD2), address(this), env.treasury, env.fakeA, env.reentrant];
        for (uint256 i; i < tokens.length; ++i) {
            expected[tokens[i]] = _bal(tokens[i]);
        }
    }

    // ================================================================== legitimate activity
    /// @dev Plant a V2 dislocation on SushiSwap, then run the cross-DEX arbitrage with min profit = the exact
    ///      predicted profit (or, when unprofitable, expect InsufficientProfit with the exact shortfall).
    function legitRunV2(uint256 pairSeed, uint256 bps, uint256 sizeBps, uint256 lenderSeed) external {
        ++calls["legitRunV2"];
        address[2] memory pr = crossPairs[pairSeed % crossPairs.length];
        (address a, address b) = (pairSeed >> 8) & 1 == 0 ? (pr[0], pr[1]) : (pr[1], pr[0]);
        _sellInto(e.sushiRouter, a, b, bound(bps, 20, 800)); // a cheap, b expensive on SushiSwap
        address sushi = IUniswapV2Factory(e.sushiFactory).getPair(a, b);
        address quick = IUniswapV2Factory(e.quickFactory).getPair(a, b);
        uint256 amountIn = _reserveOf(sushi, b) * bound(sizeBps, 1, 200) / 10_000;
        uint256 out = _v2Out(quick, a, _v2Out(sushi, b, amountIn));
        _runPredicted(uint8(lenderSeed % 4), b, amountIn, out, PlanBuilder.steps2(sushi.v2(b, 3000), quick.v2(a, 3000)));
    }

    /// @dev V3 first, then V2: sell `y` into QuickSwap's WETH/USDC, buy the other token on a real V3 pool and sell
    ///      it on QuickSwap. Predicted with the real QuoterV2.
    function legitRunV3(uint256 seed, uint256 bps, uint256 sizeBps, uint256 lenderSeed) external {
        ++calls["legitRunV3"];
        (address y, address x) = seed & 1 == 0 ? (e.usdc, e.weth) : (e.weth, e.usdc);
        (address pool, uint24 fee) = (seed >> 1) & 1 == 0 ? (e.v3WethUsdc500, uint24(500)) : (e.v3WethUsdc3000, 3000);
        _sellInto(e.quickRouter, y, x, bound(bps, 20, 600)); // x expensive on QuickSwap
        address quick = IUniswapV2Factory(e.quickFactory).getPair(x, y);
        uint256 amountIn = _reserveOf(quick, y) * bound(sizeBps, 1, 100) / 10_000;
        (uint256 mid,,,) = IQuoterV2Single(e.quoter)
            .quoteExactInputSingle(IQuoterV2Single.QuoteExactInputSingleParams(y, x, amountIn, fee, 0));
        uint256 out = _v2Out(quick, x, mid);
        _runPredicted(uint8(lenderSeed % 4), y, amountIn, out, PlanBuilder.steps2(pool.v3(y), quick.v2(x, 3000)));
    }

    /// @dev The same cross-DEX run with a hooked loan token whose transfers re-enter the executor with a random
    ///      privileged call: every re-entry must fail, and the run must still earn exactly its prediction.
    function reentrantTokenRun(uint256 bps, uint256 sizeBps, uint256 callSeed, bool balancer) external {
        ++calls["reentrantTokenRun"];
        address r = e.reentrant;
        _sellInto(e.sushiRouter, e.usdc, r, bound(bps, 50, 800));
        address sushi = IUniswapV2Factory(e.sushiFactory).getPair(r, e.usdc);
        address quick = IUniswapV2Factory(e.quickFactory).getPair(r, e.usdc);
        uint256 amountIn = _reserveOf(sushi, r) * bound(sizeBps, 1, 100) / 10_000;
        uint256 out = _v2Out(quick, e.usdc, _v2Out(sushi, r, amountIn));
        bytes memory p =
            _plan(balancer ? 3 : 0, r, amountIn, 0, PlanBuilder.steps2(sushi.v2(r, 3000), quick.v2(e.usdc, 3000)));
        ReentrantToken(r).arm(address(e.executor), _privilegedCall(callSeed, r, p), false, 1 + callSeed % 3);
        uint256 okBefore = ReentrantToken(r).hookSuccesses();
        _runPredicted(balancer ? 3 : 0, r, amountIn, out, PlanBuilder.steps2(sushi.v2(r, 3000), quick.v2(e.usdc, 3000)));
        hookSuccesses += ReentrantToken(r).hookSuccesses() - okBefore;
        ReentrantToken(r).arm(address(0), "", false, 0);
    }

    /// @dev A USDT-style token (no bool) as the loan token.
    function noBoolRun(uint256 bps, uint256 sizeBps, bool balancer) external {
        ++calls["noBoolRun"];
        address nb = e.noBool;
        _sellInto(e.sushiRouter, e.usdc, nb, bound(bps, 50, 800));
        address sushi = IUniswapV2Factory(e.sushiFactory).getPair(nb, e.usdc);
        address quick = IUniswapV2Factory(e.quickFactory).getPair(nb, e.usdc);
        uint256 amountIn = _reserveOf(sushi, nb) * bound(sizeBps, 1, 100) / 10_000;
        uint256 out = _v2Out(quick, e.usdc, _v2Out(sushi, nb, amountIn));
        _runPredicted(
            balancer ? 3 : 0, nb, amountIn, out, PlanBuilder.steps2(sushi.v2(nb, 3000), quick.v2(e.usdc, 3000))
        );
    }

    /// @dev A borrower (WETH collateral, or the re-entrant token the invariant test lists on Aave) pushed under HF 1,
    ///      then liquidated through the executor for a fuzzed debtToCover (possibly above the close factor) and sold
    ///      back on QuickSwap, predicted to the wei. With the re-entrant collateral, the Pool's transfer of the
    ///      seized collateral fires a random privileged call or callback into the executor inside the step.
    function liquidationRun(uint256 coverSeed, uint256 hfSeed, uint256 lenderSeed, uint256 hookSeed) external {
        ++calls["liquidationRun"];
        bool hostile = hookSeed & 1 == 1;
        address collateral = hostile ? e.reentrant : e.weth;
        (uint256 cover, uint256 out, PlanBuilder.Step[] memory steps) =
            _liquidationPlan(collateral, hostile ? 30_000e18 : 10e18, coverSeed, hfSeed);
        uint256 okBefore = ReentrantToken(e.reentrant).hookSuccesses();
        if (hostile) {
            bytes memory call = _privilegedCall(hookSeed >> 1, e.reentrant, "");
            ReentrantToken(e.reentrant).arm(address(e.executor), call, false, 1);
        }
        ++liquidations;
        _runPredicted(uint8(lenderSeed % 4), e.usdc, cover, out, steps);
        hookSuccesses += ReentrantToken(e.reentrant).hookSuccesses() - okBefore;
        ReentrantToken(e.reentrant).arm(address(0), "", false, 0);
    }

    /// @dev A fresh borrower under HF 1, the cover, the predicted output (swap-back + the debt the Pool leaves), steps.
    function _liquidationPlan(address collateral, uint256 supplied, uint256 coverSeed, uint256 hfSeed)
        internal
        returns (uint256 cover, uint256 out, PlanBuilder.Step[] memory steps)
    {
        string memory label = string.concat("inv-borrower-", vm.toString(++borrowerCount));
        AaveBorrowers.Position memory pos =
            AaveBorrowers.open(e.aavePool, e.aaveOracle, label, collateral, supplied, e.usdc, 9_900, e.wmatic);
        AaveBorrowers.pushHealthFactor(e.aavePool, e.aaveOracle, pos, bound(hfSeed, 8_500, 9_990) * 1e14);
        cover = bound(coverSeed, 1e6, AaveBorrowers.debtOf(e.aavePool, pos.user, e.usdc));
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(e.aavePool, e.aaveOracle, pos, cover);
        address pair = IUniswapV2Factory(e.quickFactory).getPair(collateral, e.usdc);
        out = _v2Out(pair, collateral, seized) + (cover - taken);
        steps = PlanBuilder.steps2(PlanBuilder.liquidation(collateral, pos.user), pair.v2(collateral, 3000));
    }

    /// @dev Withdrawals: the bot or the owner sweeps to the receiver; the owner rescues anywhere.
    function withdraw(uint256 tokenSeed, uint256 amountSeed, uint256 who, address to) external {
        ++calls["withdraw"];
        address t = tokens[tokenSeed % tokens.length];
        uint256 bal = _bal(t);
        uint256 amount = bound(amountSeed, 0, bal);
        if (who % 3 == 2) {
            if (to == address(0) || to == address(e.executor)) to = e.owner;
            uint256 before = _balOf(t, to);
            vm.prank(e.owner);
            try e.executor.rescue(t, to, amount) {
                expected[t] -= amount;
                if (_balOf(t, to) != before + _delivered(t, amount)) ++withdrawalMismatches;
            } catch {
                ++withdrawalMismatches;
            }
        } else {
            uint256 before = _balOf(t, e.treasury);
            vm.prank(who % 3 == 0 ? e.bot : e.owner);
            try e.executor.sweep(t, amount) {
                expected[t] -= amount;
                if (_balOf(t, e.treasury) != before + _delivered(t, amount)) ++withdrawalMismatches;
            } catch {
                ++withdrawalMismatches;
            }
        }
        _settle();
    }

    // ================================================================== adversaries
    /// @dev A stranger (or the receiver, or an adversary contract) calls a privileged function.
    function hostileAdmin(uint256 senderSeed, uint256 fnSeed, uint256 tokenSeed) external {
        ++calls["hostileAdmin"];
        address sender = strangers[senderSeed % strangers.length];
        address t = tokens[tokenSeed % tokens.length];
        bytes memory data = _privilegedCall(fnSeed, sender, "");
        if (fnSeed % 8 == 0) data = abi.encodeCall(e.executor.sweep, (t, _bal(t)));
        if (fnSeed % 8 == 1) data = abi.encodeCall(e.executor.rescue, (t, sender, _bal(t)));
        vm.prank(sender);
        (bool ok,) = address(e.executor).call(data);
        if (ok) ++unauthorizedSuccesses;
        _settle();
    }

    /// @dev Any callback, called directly by anyone: the real Aave Pool, Balancer Vault and V3 pools included.
    function directCallback(uint256 senderSeed, uint256 which, uint256 tokenSeed, uint256 amountSeed, address anyone)
        external
    {
        ++calls["directCallback"];
        if (anyone == address(0)) anyone = address(0xBAD3); // address(0) sends no transactions
        address[6] memory senders = [e.aavePool, e.balancerVault, e.v3WethUsdc500, e.fakeA, e.reentrant, anyone];
        address sender = senders[senderSeed % senders.length];
        address t = tokens[tokenSeed % tokens.length];
        uint256 amount = bound(amountSeed, 1, _bal(t) + 1);
        vm.prank(sender);
        (bool ok,) = address(e.executor).call(_callbackCall(which, t, amount));
        if (ok) ++unauthorizedSuccesses;
        _settle();
    }

    /// @dev Someone starts a real flash loan with the executor as receiver and a plan that would run.
    function attackerFlashLoan(uint256 which, uint256 tokenSeed, uint256 amountSeed) external {
        ++calls["attackerFlashLoan"];
        address t = tokens[tokenSeed % 5]; // the replica tokens Aave lists and the Vault holds
        uint256 amount = bound(amountSeed, 1, _balOf(t, e.balancerVault) / 10);
        bytes memory p = _crossPlan(uint8(1 + which % 3), t, amount);
        bool ok;
        vm.prank(address(0xBAD1));
        if (which % 3 == 0) {
            (ok,) = e.aavePool.call(abi.encodeCall(IAaveV3Pool.flashLoanSimple, (address(e.executor), t, amount, p, 0)));
        } else if (which % 3 == 1) {
            (address[] memory one, uint256[] memory amounts) = _one(t, amount);
            (ok,) = e.aavePool
                .call(
                    abi.encodeCall(
                        IAaveV3Pool.flashLoan,
                        (address(e.executor), one, amounts, new uint256[](1), address(e.executor), p, 0)
                    )
                );
        } else {
            (address[] memory one, uint256[] memory amounts) = _one(t, amount);
            (ok,) =
                e.balancerVault.call(abi.encodeCall(IBalancerVault.flashLoan, (address(e.executor), one, amounts, p)));
        }
        if (ok) ++unauthorizedSuccesses;
        _settle();
    }

    /// @dev The bot is baited into a plan with a fake V3 pool, which misbehaves in one of several ways. The run
    ///      may succeed or revert; either way `_settle` checks nothing was lost.
    function hostilePoolRun(uint256 mode, uint256 amountSeed, uint256 lenderSeed, uint256 x) external {
        ++calls["hostilePoolRun"];
        mode = mode % 8;
        uint256 amountIn = bound(amountSeed, 100e6, 20_000e6);
        uint8 lender = uint8(1 + lenderSeed % 3);
        FakeV3Pool fake = FakeV3Pool(e.fakeA);
        FakeV3Pool.Script memory s;
        PlanBuilder.Step[] memory steps;
        address quick = IUniswapV2Factory(e.quickFactory).getPair(e.usdc, e.weth);
        uint256 wethFair = amountIn * 1e12 / 3_000;
        PlanBuilder.Step memory fakeUsdcIn = PlanBuilder.v3Raw(e.fakeA, e.usdc, fake.token0() == e.usdc);
        PlanBuilder.Step memory fakeWethIn = PlanBuilder.v3Raw(e.fakeA, e.weth, fake.token0() == e.weth);
        uint256 minProfit;
        if (mode == 0) {
            // Asks to be paid in a token it names (WBTC, the executor's holding), returns the USDC the route needs.
            (s.callbacks, s.payOverride, s.payToken) = (1, bound(x, 1, 1e9), e.wbtc);
            (s.sendOut, s.claimOut, minProfit) = (amountIn + 1, amountIn + 1, 1);
            steps = PlanBuilder.steps2(quick.v2(e.usdc, 3000), fakeWethIn);
        } else if (mode == 1) {
            // Takes the USDC, reports WETH it never sends; a real V3 pool follows.
            (s.callbacks, s.claimOut) = (1, bound(x, 1, 20e18));
            steps = PlanBuilder.steps2(fakeUsdcIn, e.v3WethUsdc500.v3(e.weth));
        } else if (mode == 2) {
            // Asks for more than it was given.
            (s.callbacks, s.extraPay, s.sendOut, s.claimOut) = (1, bound(x, 1, 1e24), amountIn * 2, amountIn * 2);
            steps = PlanBuilder.steps2(quick.v2(e.usdc, 3000), fakeWethIn);
        } else if (mode == 3) {
            // Calls back twice.
            (s.callbacks, s.sendOut, s.claimOut) = (2, wethFair * 2, wethFair * 2);
            steps = PlanBuilder.steps2(fakeUsdcIn, quick.v2(e.weth, 3000));
        } else if (mode == 4) {
            // Never calls back, but delivers generously.
            (s.callbacks, s.sendOut, s.claimOut) = (0, wethFair * 2, wethFair * 2);
            steps = PlanBuilder.steps2(fakeUsdcIn, quick.v2(e.weth, 3000));
        } else if (mode == 5) {
            // Reports a generous output but delivers less.
            uint256 claim = amountIn + amountIn / 10;
            (s.callbacks, s.claimOut, s.sendOut, minProfit) = (1, claim, claim - bound(x, 1, claim), amountIn / 20);
            steps = PlanBuilder.steps2(quick.v2(e.usdc, 3000), fakeWethIn);
        } else {
            // Honest-looking and generous, but re-enters from inside its swap.
            (s.callbacks, s.sendOut, s.claimOut) = (1, wethFair * 11 / 10, wethFair * 11 / 10);
            (s.sideTarget, s.sideData) = _sideCall(x, amountIn);
            steps = PlanBuilder.steps2(fakeUsdcIn, quick.v2(e.weth, 3000));
        }
        fake.setScript(s);
        bytes memory p = _plan(lender, e.usdc, amountIn, minProfit, steps);
        // Clear both fakes' side-call records (the executor has no fallback: an empty call fails).
        fake.poke(address(e.executor), "");
        FakeV3Pool(e.fakeB).poke(address(e.executor), "");
        vm.prank(e.bot);
        try e.executor.execute(p) {} catch {}
        if (s.sideTarget == e.fakeB) {
            if (FakeV3Pool(e.fakeB).lastSideOk()) ++sideCallSuccesses; // its poke into the executor
        } else if (s.sideTarget != address(0) && fake.lastSideOk()) {
            ++sideCallSuccesses;
        }
        fake.setScript(FakeV3Pool.Script(0, 0, 0, address(0), 0, 0, false, address(0), "", false));
        _settle();
    }

    /// @dev A fee-on-transfer token in the route: must revert.
    function feeOnTransferRun(uint256 sizeSeed, bool asLoanToken) external {
        ++calls["feeOnTransferRun"];
        address tax = e.taxed;
        address sushi = IUniswapV2Factory(e.sushiFactory).getPair(tax, e.usdc);
        address quick = IUniswapV2Factory(e.quickFactory).getPair(tax, e.usdc);
        bytes memory p;
        if (asLoanToken) {
            uint256 amountIn = bound(sizeSeed, 1e18, 10_000e18);
            p = _plan(3, tax, amountIn, 0, PlanBuilder.steps2(sushi.v2(tax, 3000), quick.v2(e.usdc, 3000)));
        } else {
            uint256 amountIn = bound(sizeSeed, 1e6, 10_000e6);
            p = _plan(3, e.usdc, amountIn, 0, PlanBuilder.steps2(quick.v2(e.usdc, 3000), sushi.v2(tax, 3000)));
        }
        vm.prank(e.bot);
        try e.executor.execute(p) {
            ++hostileTokenSuccesses;
        } catch {}
        _settle();
    }

    // ================================================================== internals
    function _runPredicted(uint8 lender, address token, uint256 amountIn, uint256 out, PlanBuilder.Step[] memory steps)
        internal
    {
        uint256 premium = lender == 1 || lender == 2 ? (amountIn * 5 + 5_000) / 10_000 : 0;
        bool profitable = out >= amountIn + premium;
        uint256 minProfit = profitable ? out - amountIn - premium : 0;
        if (lender == 0) {
            _mint(token, address(e.executor), amountIn); // a deposit of working capital
            expected[token] += amountIn;
        }
        uint256 before = _bal(token);
        ++legitRuns;
        vm.prank(e.bot);
        try e.executor.execute(_plan(lender, token, amountIn, minProfit, steps)) returns (uint256 profit) {
            if (!profitable || profit != minProfit || _bal(token) != before + profit) ++profitMismatches;
            else ++legitProfits;
        } catch (bytes memory err) {
            bytes memory want = abi.encodeWithSelector(
                IFlashArbExecutor.InsufficientProfit.selector, profitable ? 0 : amountIn + premium - out
            );
            if (profitable || keccak256(err) != keccak256(want)) ++profitMismatches;
            else ++legitShortfalls;
        }
        _settle();
    }

    /// @dev Ratchets `expected` up to each balance, and counts any balance found below it as a loss.
    function _settle() internal {
        for (uint256 i; i < tokens.length; ++i) {
            uint256 b = _bal(tokens[i]);
            if (b < expected[tokens[i]]) ++losses;
            else expected[tokens[i]] = b;
        }
    }

    function _privilegedCall(uint256 seed, address who, bytes memory p) internal view returns (bytes memory) {
        uint256 k = seed % 8;
        address t = tokens[seed % 5];
        if (k == 0) return abi.encodeCall(e.executor.sweep, (t, _bal(t)));
        if (k == 1) return abi.encodeCall(e.executor.rescue, (t, who, _bal(t)));
        if (k == 2) return abi.encodeCall(e.executor.setExecutor, (who, true));
        if (k == 3) return abi.encodeCall(e.executor.setProfitReceiver, (who));
        if (k == 4) return abi.encodeCall(e.executor.transferOwnership, (who));
        if (k == 5) return abi.encodeCall(e.executor.acceptOwnership, ());
        if (k == 6) return abi.encodeCall(e.executor.execute, (p.length == 0 ? _crossPlan(3, e.usdc, 1_000e6) : p));
        return _callbackCall(seed >> 8, t, _bal(t));
    }

    function _callbackCall(uint256 which, address t, uint256 amount) internal view returns (bytes memory) {
        (address[] memory one, uint256[] memory amounts) = _one(t, amount);
        bytes memory p = _crossPlan(3, e.usdc, 1_000e6);
        uint256 k = which % 4;
        if (k == 0) {
            return abi.encodeCall(e.executor.uniswapV3SwapCallback, (int256(amount), int256(amount), abi.encode(t)));
        }
        if (k == 1) {
            return abi.encodeWithSignature(
                "executeOperation(address,uint256,uint256,address,bytes)", t, amount, 0, address(e.executor), p
            );
        }
        if (k == 2) {
            return abi.encodeWithSignature(
                "executeOperation(address[],uint256[],uint256[],address,bytes)",
                one,
                amounts,
                new uint256[](1),
                address(e.executor),
                p
            );
        }
        return abi.encodeCall(e.executor.receiveFlashLoan, (one, amounts, new uint256[](1), p));
    }

    /// @dev What a fake pool tries from inside its own swap (none of it may succeed).
    function _sideCall(uint256 x, uint256 amount) internal view returns (address target, bytes memory data) {
        uint256 k = x % 6;
        (address[] memory one, uint256[] memory amounts) = _one(e.usdc, amount);
        bytes memory p = _crossPlan(3, e.usdc, amount);
        if (k == 0) return (address(e.executor), abi.encodeCall(e.executor.execute, (p)));
        if (k == 1) return (address(e.executor), abi.encodeCall(e.executor.sweep, (e.usdc, _bal(e.usdc))));
        if (k == 2) {
            return
                (e.aavePool, abi.encodeCall(IAaveV3Pool.flashLoanSimple, (address(e.executor), e.usdc, amount, p, 0)));
        }
        if (k == 3) {
            return (e.balancerVault, abi.encodeCall(IBalancerVault.flashLoan, (address(e.executor), one, amounts, p)));
        }
        if (k == 4) {
            // Another attacker pool, not the current step, asks to be paid.
            bytes memory cb = abi.encodeCall(e.executor.uniswapV3SwapCallback, (int256(amount), 0, abi.encode(e.usdc)));
            return (e.fakeB, abi.encodeCall(FakeV3Pool.poke, (address(e.executor), cb)));
        }
        return (address(e.executor), abi.encodeCall(e.executor.receiveFlashLoan, (one, amounts, new uint256[](1), p)));
    }

    /// @dev A plausible cross-DEX plan in `token` (used as bait payload; whether it would profit is irrelevant).
    function _crossPlan(uint8 lender, address token, uint256 amount) internal view returns (bytes memory) {
        address other = token == e.usdc ? e.weth : e.usdc;
        address sushi = IUniswapV2Factory(e.sushiFactory).getPair(token, other);
        address quick = IUniswapV2Factory(e.quickFactory).getPair(token, other);
        if (sushi == address(0) || quick == address(0)) {
            (sushi, quick) =
            (
                IUniswapV2Factory(e.sushiFactory).getPair(e.weth, e.usdc),
                IUniswapV2Factory(e.quickFactory).getPair(e.weth, e.usdc)
            );
            return _plan(lender, e.usdc, amount, 0, PlanBuilder.steps2(sushi.v2(e.usdc, 3000), quick.v2(e.weth, 3000)));
        }
        return _plan(lender, token, amount, 0, PlanBuilder.steps2(sushi.v2(token, 3000), quick.v2(other, 3000)));
    }

    function _plan(uint8 lender, address token, uint256 amountIn, uint256 minProfit, PlanBuilder.Step[] memory s)
        internal
        view
        returns (bytes memory)
    {
        return PlanBuilder.encode(lender, uint32(block.number + 2), token, uint128(amountIn), uint128(minProfit), s);
    }

    function _one(address t, uint256 amount) internal pure returns (address[] memory one, uint256[] memory amounts) {
        one = new address[](1);
        amounts = new uint256[](1);
        (one[0], amounts[0]) = (t, amount);
    }

    /// @dev The handler trades like anyone else: sells `bps` of the pair's `tokenIn` reserve into it.
    function _sellInto(address router, address tokenIn, address tokenOut, uint256 bps) internal {
        address pair = IUniswapV2Factory(IUniswapV2Router02(router).factory()).getPair(tokenIn, tokenOut);
        uint256 amount = _reserveOf(pair, tokenIn) * bps / 10_000;
        _mint(tokenIn, address(this), amount);
        (bool ok,) = tokenIn.call(abi.encodeCall(IERC20.approve, (router, amount)));
        require(ok, "approve");
        address[] memory path = new address[](2);
        (path[0], path[1]) = (tokenIn, tokenOut);
        IUniswapV2Router02(router).swapExactTokensForTokens(amount, 0, path, address(this), type(uint256).max);
    }

    function _reserveOf(address pair, address token) internal view returns (uint256) {
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        return IUniswapV2Pair(pair).token0() == token ? r0 : r1;
    }

    function _v2Out(address pair, address tokenIn, uint256 amountIn) internal view returns (uint256) {
        uint256 rIn = _reserveOf(pair, tokenIn);
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        uint256 rOut = uint256(r0) + r1 - rIn;
        return amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
    }

    function _mint(address token, address to, uint256 amount) internal {
        require(IMint(token).mint(to, amount), "mint");
    }

    function _bal(address t) internal view returns (uint256) {
        return IERC20(t).balanceOf(address(e.executor));
    }

    function _balOf(address t, address who) internal view returns (uint256) {
        return IERC20(t).balanceOf(who);
    }

    /// @dev What a recipient receives of `amount` sent (the taxed token burns its fee).
    function _delivered(address t, uint256 amount) internal view returns (uint256) {
        return t == e.taxed ? amount - amount * FeeOnTransferToken(t).feeBps() / 10_000 : amount;
    }

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }
}
