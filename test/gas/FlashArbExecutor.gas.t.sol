// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console2} from "forge-std/console2.sol";
import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {RouterExecutor} from "./baseline/RouterExecutor.sol";
import {Floor2HopAave, Floor2HopBalancer, Floor2HopCapital} from "./floor/Floor2Hop.sol";
import {Floor3HopAave, Floor3HopBalancer, Floor3HopCapital} from "./floor/Floor3Hop.sol";
import {Floor4HopAave, Floor4HopBalancer, Floor4HopCapital} from "./floor/Floor4Hop.sol";
import {FloorLiquidationAave, FloorLiquidationBalancer} from "./floor/FloorLiquidation.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";

interface IFloor {
    function run() external;
}

/// @notice Gas benchmark: the executor against the floor (a straight-line contract hard-coded for the one route and
///         lender, test/gas/floor/) and the common router-based design (test/gas/baseline/RouterExecutor.sol), on
///         2-, 3- and 4-hop routes through the replica's real pools, funded by Aave `flashLoanSimple`, Balancer and
///         own capital.
/// @dev Fairness. `isolate` makes every top-level call its own transaction, so each contestant's call starts cold,
///      as on chain, and its gas is the transaction's: 21,000 base + calldata + execution - refund (what a receipt
///      reports). Every contestant starts from the same state snapshot (`snapshotState`/`revertToState`): same
///      pools, same loan-token balance (`DUST`, a running bot's unswept profit, plus the capital in capital mode).
///      The executor is measured again last and must give the same number. Each route is checked to be profitable
///      and all three contestants must earn the same profit to the wei (the pools' own math predicts it), so they
///      really do the same work. Everything outside the measured calls runs with gas metering paused, so the
///      test-level numbers in snapshots/gas.snapshot move only when a contestant's gas does.
/// forge-config: default.isolate = true
contract FlashArbExecutorGasTest is ExecutorTest {
    using PlanBuilder for *;

    enum Shape {
        TwoHop,
        ThreeHop,
        FourHop
    }

    enum Funding {
        Aave,
        Balancer,
        Capital
    }

    struct Leg {
        bool v3;
        address pool;
        address router; // periphery router for the router-based design
        address tokenIn;
        address tokenOut;
        uint24 fee; // V3 pool fee (V2: the pair's 0.30%)
    }

    struct Row {
        string route;
        uint256 executor;
        uint256 floor;
        uint256 router;
        uint256 profit;
        uint256 executorIntrinsic; // 21,000 + calldata of each contestant's transaction
        uint256 floorIntrinsic;
        uint256 routerIntrinsic;
    }

    string internal constant GROUP = "FlashArbExecutor.gas";
    string internal constant RESULTS = "/bench/results/gas.json";
    string internal constant LIQUIDATION_RESULTS = "/bench/results/liquidation-gas.json";
    uint256 internal constant LIQUIDATION_COVER = 8_000e6; // USDC debt covered, under the 50% close factor
    uint256 internal constant DUST = 1e6; // 1 USDC already held by every contestant

    RouterExecutor internal routerExecutor;

    function setUp() public override {
        super.setUp();
        routerExecutor = new RouterExecutor(bot, aavePool, balancerVault);
    }

    // ------------------------------------------------------------------ one test per route and lender
    function test_gas_2hop_aave() public {
        _bench(Shape.TwoHop, Funding.Aave);
    }

    function test_gas_2hop_balancer() public {
        _bench(Shape.TwoHop, Funding.Balancer);
    }

    function test_gas_2hop_capital() public {
        _bench(Shape.TwoHop, Funding.Capital);
    }

    function test_gas_3hop_aave() public {
        _bench(Shape.ThreeHop, Funding.Aave);
    }

    function test_gas_3hop_balancer() public {
        _bench(Shape.ThreeHop, Funding.Balancer);
    }

    function test_gas_3hop_capital() public {
        _bench(Shape.ThreeHop, Funding.Capital);
    }

    function test_gas_4hop_aave() public {
        _bench(Shape.FourHop, Funding.Aave);
    }

    function test_gas_4hop_balancer() public {
        _bench(Shape.FourHop, Funding.Balancer);
    }

    function test_gas_4hop_capital() public {
        _bench(Shape.FourHop, Funding.Capital);
    }

    /// @notice All of them from the same start (each from the post-setUp state): the table and bench/results/gas.json.
    function test_gas_benchmark() public {
        vm.pauseGasMetering();
        uint256 start = vm.snapshotState();
        Row[] memory rows = new Row[](9);
        for (uint256 s; s < 3; ++s) {
            for (uint256 f; f < 3; ++f) {
                rows[s * 3 + f] = _bench(Shape(s), Funding(f));
                vm.revertToState(start);
            }
        }
        _print(rows);
        vm.writeJson(_json(rows), string.concat(vm.projectRoot(), RESULTS));
    }

    // ------------------------------------------------------------------ liquidation + swap-back
    function test_gas_liquidation_balancer() public {
        _benchLiquidation(Funding.Balancer);
    }

    function test_gas_liquidation_aave() public {
        _benchLiquidation(Funding.Aave);
    }

    /// @notice Balancer- and Aave-funded liquidation + 1-hop V2 swap-back against its floor (no router contestant:
    ///         the router-based design has no liquidation); writes bench/results/liquidation-gas.json (Balancer).
    function test_gas_liquidation_benchmark() public {
        vm.pauseGasMetering();
        uint256 start = vm.snapshotState();
        Row[] memory rows = new Row[](2);
        rows[0] = _benchLiquidation(Funding.Balancer);
        vm.revertToState(start);
        rows[1] = _benchLiquidation(Funding.Aave);
        vm.revertToState(start);
        console2.log("Liquidation (WETH collateral, USDC debt) + 1-hop V2 swap back, receipt gas");
        for (uint256 i; i < rows.length; ++i) {
            Row memory r = rows[i];
            int256 over = int256(r.executor) - int256(r.floor);
            string memory line = string.concat(_pad(r.route, 28), _lpad(_u(r.executor), 9), _lpad(_u(r.floor), 9));
            console2.log(string.concat(line, _lpad(_pct(over, r.floor), 12), _lpad(_pct(over, r.floor - 21_000), 10)));
        }
        string memory json = string.concat('{"route":"', rows[0].route, '","executor_gas":', _u(rows[0].executor));
        json = string.concat(json, ',"floor_gas":', _u(rows[0].floor), ',"profit":', _u(rows[0].profit));
        json = string.concat(json, ',"aave":{"executor_gas":', _u(rows[1].executor), ',"floor_gas":');
        json = string.concat(json, _u(rows[1].floor), "}}");
        vm.writeJson(json, string.concat(vm.projectRoot(), LIQUIDATION_RESULTS));
    }

    /// @dev A WETH-collateral USDC borrower pushed to HF 0.97 (set up here, not in setUp, so the other routes'
    ///      Aave state and gas stay as they were), liquidated for `LIQUIDATION_COVER` and sold on QuickSwap.
    function _benchLiquidation(Funding funding) internal returns (Row memory r) {
        vm.pauseGasMetering();
        r.route = string.concat("liquidation+V2 ", _fundingName(funding));
        Contest memory c = _prepareLiquidation(funding);
        r.profit = c.profit;
        r.executorIntrinsic = _intrinsic(c.executorCall);
        r.floorIntrinsic = _intrinsic(c.floorCall);

        uint256 snap = vm.snapshotState();
        r.executor = _measure(address(executor), c.executorCall, c.profit, string.concat(r.route, " executor"));
        assertEq(IUSDC(USDC).allowance(address(executor), aavePool), 0, "no allowance left");
        vm.revertToState(snap);
        r.floor = _measure(c.floor, c.floorCall, c.profit, string.concat(r.route, " floor"));
        vm.revertToState(snap);
        uint256 again = _measure(address(executor), c.executorCall, c.profit, string.concat(r.route, " executor"));
        assertEq(again, r.executor, string.concat(r.route, ": executor gas depends on the order"));
        vm.revertToState(snap);
    }

    function _prepareLiquidation(Funding funding) internal returns (Contest memory c) {
        AaveBorrowers.Position memory pos =
            AaveBorrowers.open(aavePool, aaveOracle, "gas-borrower", WETH, 10e18, USDC, 9_900, WMATIC);
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, pos, 0.97e18);
        address pair = quickPair(WETH, USDC);
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, LIQUIDATION_COVER);
        assertEq(taken, LIQUIDATION_COVER, "the Pool takes the whole cover (the floor relies on it)");
        uint256 premium = funding == Funding.Aave ? aavePremium(LIQUIDATION_COVER) : 0;
        c.profit = v2Out(pair, WETH, seized) - LIQUIDATION_COVER - premium;

        uint8 lender = funding == Funding.Aave ? PlanBuilder.AAVE_SIMPLE : PlanBuilder.BALANCER;
        PlanBuilder.Step[] memory steps =
            PlanBuilder.steps2(PlanBuilder.liquidation(WETH, pos.user), pair.v2(WETH, V2_FEE));
        c.executorCall = abi.encodeCall(executor.execute, (plan(lender, USDC, LIQUIDATION_COVER, c.profit, steps)));
        bool z = WETH < USDC;
        c.floor = funding == Funding.Aave
            ? address(new FloorLiquidationAave(USDC, LIQUIDATION_COVER, aavePool, WETH, pos.user, pair, z))
            : address(
                new FloorLiquidationBalancer(USDC, LIQUIDATION_COVER, balancerVault, aavePool, WETH, pos.user, pair, z)
            );
        c.floorCall = abi.encodeCall(IFloor.run, ());
        _give(address(executor), DUST);
        _give(c.floor, DUST);
    }

    // ------------------------------------------------------------------ one route, three contestants
    /// @dev The three calls of one route and lender, and the profit every one of them must earn.
    struct Contest {
        bytes executorCall;
        address floor;
        bytes floorCall;
        bytes routerCall;
        uint256 profit;
    }

    function _bench(Shape shape, Funding funding) internal returns (Row memory r) {
        vm.pauseGasMetering();
        r.route = string.concat(_shapeName(shape), " ", _fundingName(funding));
        Contest memory c = _prepare(shape, funding, r.route);
        r.profit = c.profit;
        r.executorIntrinsic = _intrinsic(c.executorCall);
        r.floorIntrinsic = _intrinsic(c.floorCall);
        r.routerIntrinsic = _intrinsic(c.routerCall);

        uint256 snap = vm.snapshotState();
        r.executor = _measure(address(executor), c.executorCall, c.profit, string.concat(r.route, " executor"));
        vm.revertToState(snap);
        r.floor = _measure(c.floor, c.floorCall, c.profit, string.concat(r.route, " floor"));
        vm.revertToState(snap);
        r.router = _measure(address(routerExecutor), c.routerCall, c.profit, string.concat(r.route, " router"));
        vm.revertToState(snap);
        // Order independence: the executor again, last, from the same snapshot.
        uint256 again = _measure(address(executor), c.executorCall, c.profit, string.concat(r.route, " executor"));
        assertEq(again, r.executor, string.concat(r.route, ": executor gas depends on the order"));
        vm.revertToState(snap);
    }

    /// @dev Plants the dislocation, predicts the profit with the pools' own math (V2 formula, real QuoterV2), checks
    ///      the route is profitable, and deploys and funds the contestants.
    function _prepare(Shape shape, Funding funding, string memory route) internal returns (Contest memory c) {
        _plant(shape);
        Leg[] memory legs = _legs(shape);
        uint256 amountIn = shape == Shape.TwoHop ? 10_000e6 : 5_000e6;
        uint256 out = amountIn;
        for (uint256 i; i < legs.length; ++i) {
            Leg memory l = legs[i];
            out = l.v3 ? v3Out(l.tokenIn, l.tokenOut, l.fee, out) : v2Out(l.pool, l.tokenIn, out);
        }
        uint256 premium = funding == Funding.Aave ? aavePremium(amountIn) : 0;
        assertGt(out, amountIn + premium, string.concat(route, ": route not profitable"));
        c.profit = out - amountIn - premium;

        uint8 lender = [PlanBuilder.AAVE_SIMPLE, PlanBuilder.BALANCER, PlanBuilder.CAPITAL][uint256(funding)];
        c.executorCall = abi.encodeCall(executor.execute, (plan(lender, USDC, amountIn, c.profit, _steps(legs))));
        c.floor = _deployFloor(shape, funding, legs, amountIn);
        c.floorCall = abi.encodeCall(IFloor.run, ());
        uint8 routerLender = [1, 2, 0][uint256(funding)];
        c.routerCall = abi.encodeCall(routerExecutor.execute, (_routerParams(routerLender, amountIn, c.profit, legs)));

        uint256 held = DUST + (funding == Funding.Capital ? amountIn : 0);
        _give(address(executor), held);
        _give(c.floor, held);
        _give(address(routerExecutor), held);
    }

    /// @dev One contestant's transaction from `bot`, metered alone; its loan-token gain must be `profit`.
    function _measure(address target, bytes memory data, uint256 profit, string memory name)
        internal
        returns (uint256 gasUsed)
    {
        uint256 before = balance(USDC, target);
        vm.resumeGasMetering();
        vm.prank(bot);
        (bool ok, bytes memory ret) = target.call(data);
        gasUsed = vm.snapshotGasLastCall(GROUP, name);
        vm.pauseGasMetering();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        assertEq(balance(USDC, target) - before, profit, string.concat(name, ": profit"));
        if (target == address(executor)) assertEq(abi.decode(ret, (uint256)), profit, string.concat(name, ": return"));
    }

    // ------------------------------------------------------------------ routes
    /// @dev The dislocation each route trades against (same as test/unit routes).
    function _plant(Shape shape) internal {
        if (shape == Shape.TwoHop) _dislocateV2(sushiswapRouter, WETH, USDC, 300); // WETH cheap on SushiSwap
        else if (shape == Shape.ThreeHop) _dislocateV2(sushiswapRouter, USDC, WMATIC, 300); // WMATIC dear in USDC
        else _dislocateV2(sushiswapRouter, USDT, WMATIC, 300); // WMATIC dear in USDT on SushiSwap
    }

    function _legs(Shape shape) internal view returns (Leg[] memory legs) {
        if (shape == Shape.TwoHop) {
            // USDC -> WETH (SushiSwap) -> USDC (QuickSwap)
            legs = new Leg[](2);
            legs[0] = Leg(false, sushiPair(USDC, WETH), sushiswapRouter, USDC, WETH, 0);
            legs[1] = Leg(false, quickPair(WETH, USDC), quickswapRouter, WETH, USDC, 0);
        } else if (shape == Shape.ThreeHop) {
            // USDC -> WETH (QuickSwap) -> WMATIC (V3 0.30%) -> USDC (SushiSwap)
            legs = new Leg[](3);
            legs[0] = Leg(false, quickPair(USDC, WETH), quickswapRouter, USDC, WETH, 0);
            legs[1] = Leg(true, v3Pool(WETH, WMATIC, 3000), v3SwapRouter, WETH, WMATIC, 3000);
            legs[2] = Leg(false, sushiPair(WMATIC, USDC), sushiswapRouter, WMATIC, USDC, 0);
        } else {
            // USDC -> WETH (QuickSwap) -> WMATIC (V3 0.30%) -> USDT (SushiSwap) -> USDC (V3 0.05%)
            legs = new Leg[](4);
            legs[0] = Leg(false, quickPair(USDC, WETH), quickswapRouter, USDC, WETH, 0);
            legs[1] = Leg(true, v3Pool(WETH, WMATIC, 3000), v3SwapRouter, WETH, WMATIC, 3000);
            legs[2] = Leg(false, sushiPair(WMATIC, USDT), sushiswapRouter, WMATIC, USDT, 0);
            legs[3] = Leg(true, v3Pool(USDT, USDC, 500), v3SwapRouter, USDT, USDC, 500);
        }
    }

    function _steps(Leg[] memory legs) internal view returns (PlanBuilder.Step[] memory steps) {
        steps = new PlanBuilder.Step[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            steps[i] = legs[i].v3 ? legs[i].pool.v3(legs[i].tokenIn) : legs[i].pool.v2(legs[i].tokenIn, V2_FEE);
        }
    }

    function _routerParams(uint8 lender, uint256 amountIn, uint256 minProfit, Leg[] memory legs)
        internal
        view
        returns (RouterExecutor.Params memory p)
    {
        p.lender = lender;
        p.token = USDC;
        p.amountIn = amountIn;
        p.minProfit = minProfit;
        p.hops = new RouterExecutor.Hop[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            Leg memory l = legs[i];
            p.hops[i] = RouterExecutor.Hop(
                l.v3 ? RouterExecutor.Dex.V3 : RouterExecutor.Dex.V2, l.router, l.tokenIn, l.tokenOut, l.fee
            );
        }
    }

    function _deployFloor(Shape shape, Funding funding, Leg[] memory l, uint256 amount) internal returns (address) {
        if (shape == Shape.TwoHop) {
            (address p1, bool z1, address p2, bool z2) = (l[0].pool, _z(l[0]), l[1].pool, _z(l[1]));
            if (funding == Funding.Aave) return address(new Floor2HopAave(USDC, amount, aavePool, p1, z1, p2, z2));
            if (funding == Funding.Balancer) {
                return address(new Floor2HopBalancer(USDC, amount, balancerVault, p1, z1, p2, z2));
            }
            return address(new Floor2HopCapital(USDC, amount, p1, z1, p2, z2));
        }
        if (shape == Shape.ThreeHop) {
            address[4] memory a3 = [l[0].pool, l[1].pool, l[1].tokenIn, l[2].pool];
            bool[3] memory z3 = [_z(l[0]), _z(l[1]), _z(l[2])];
            if (funding == Funding.Aave) return address(new Floor3HopAave(USDC, amount, aavePool, a3, z3));
            if (funding == Funding.Balancer) {
                return address(new Floor3HopBalancer(USDC, amount, balancerVault, a3, z3));
            }
            return address(new Floor3HopCapital(USDC, amount, a3, z3));
        }
        address[6] memory a = [l[0].pool, l[1].pool, l[1].tokenIn, l[2].pool, l[3].pool, l[3].tokenIn];
        bool[4] memory z = [_z(l[0]), _z(l[1]), _z(l[2]), _z(l[3])];
        if (funding == Funding.Aave) return address(new Floor4HopAave(USDC, amount, aavePool, a, z));
        if (funding == Funding.Balancer) return address(new Floor4HopBalancer(USDC, amount, balancerVault, a, z));
        return address(new Floor4HopCapital(USDC, amount, a, z));
    }

    /// @dev zeroForOne: token0 is the lower address, for V2 pairs and V3 pools alike.
    function _z(Leg memory l) internal pure returns (bool) {
        return l.tokenIn < l.tokenOut;
    }

    function _give(address to, uint256 amount) internal {
        _fund(USDC, amount);
        require(IUSDC(USDC).transfer(to, amount), "fund");
    }

    /// @dev A transaction's intrinsic gas: 21,000 plus 16 per non-zero and 4 per zero calldata byte.
    function _intrinsic(bytes memory data) internal pure returns (uint256 g) {
        g = 21_000;
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    function _shapeName(Shape s) internal pure returns (string memory) {
        if (s == Shape.TwoHop) return "2-hop V2/V2";
        if (s == Shape.ThreeHop) return "3-hop V2/V3/V2";
        return "4-hop V2/V3/V2/V3";
    }

    function _fundingName(Funding f) internal pure returns (string memory) {
        if (f == Funding.Aave) return "aave";
        if (f == Funding.Balancer) return "balancer";
        return "capital";
    }

    // ------------------------------------------------------------------ output
    function _json(Row[] memory rows) internal pure returns (string memory json) {
        json = '{"routes":[';
        for (uint256 i; i < rows.length; ++i) {
            Row memory r = rows[i];
            string memory entry = string.concat('{"route":"', r.route, '","executor":', _u(r.executor));
            entry = string.concat(entry, ',"floor":', _u(r.floor), ',"router":', _u(r.router), "}");
            json = string.concat(json, i == 0 ? "" : ",", entry);
        }
        json = string.concat(json, "]}");
    }

    function _print(Row[] memory rows) internal pure {
        console2.log("Gas per transaction (receipt gasUsed = 21,000 + calldata + execution - refund)");
        string memory head = string.concat(_pad("route", 28), _lpad("executor", 9), _lpad("floor", 9));
        head = string.concat(head, _lpad("router", 9), _lpad("over floor", 12), _lpad("(ex 21k)", 10));
        console2.log(string.concat(head, _lpad("vs router", 11), _lpad("plan cd", 9)));
        for (uint256 i; i < rows.length; ++i) {
            Row memory r = rows[i];
            int256 overFloor = int256(r.executor) - int256(r.floor);
            string memory line = string.concat(_pad(r.route, 28), _lpad(_u(r.executor), 9), _lpad(_u(r.floor), 9));
            line = string.concat(line, _lpad(_u(r.router), 9), _lpad(_pct(overFloor, r.floor), 12));
            line = string.concat(line, _lpad(_pct(overFloor, r.floor - 21_000), 10));
            line = string.concat(line, _lpad(_pct(int256(r.executor) - int256(r.router), r.router), 11));
            console2.log(string.concat(line, _lpad(_u(r.executorIntrinsic - r.floorIntrinsic), 9)));
        }
        console2.log("over floor: executor gas above the floor's; (ex 21k): the same without the 21,000 base both pay");
        console2.log("vs router: executor against the router-based design (negative: the executor is cheaper)");
        console2.log("plan cd: extra calldata gas of the executor's transaction over the floor's (inside its total)");
        console2.log("targets (3-hop): over floor <= +3.00%; vs router <= -25.00%");
    }

    /// @dev `num / den` as a signed percentage with two decimals.
    function _pct(int256 num, uint256 den) internal pure returns (string memory) {
        uint256 a = uint256(num < 0 ? -num : num);
        uint256 bps = (a * 10_000 + den / 2) / den;
        string memory frac = _u(bps % 100);
        if (bps % 100 < 10) frac = string.concat("0", frac);
        return string.concat(num < 0 ? "-" : "+", _u(bps / 100), ".", frac, "%");
    }

    function _u(uint256 v) internal pure returns (string memory) {
        return vm.toString(v);
    }

    function _pad(string memory s, uint256 w) internal pure returns (string memory) {
        while (bytes(s).length < w) s = string.concat(s, " ");
        return s;
    }

    function _lpad(string memory s, uint256 w) internal pure returns (string memory) {
        while (bytes(s).length < w) s = string.concat(" ", s);
        return s;
    }
}

interface IUSDC {
    function transfer(address, uint256) external returns (bool);
    function allowance(address, address) external view returns (uint256);
}
