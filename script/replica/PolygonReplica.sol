// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {Artifacts} from "./Artifacts.sol";
import {
    IWETH9,
    IMintableERC20,
    IPoolAddressesProvider,
    IACLManager,
    IAaveOracleAdmin,
    IPoolConfigurator,
    IAavePoolUser,
    InitReserveInput
} from "./ReplicaInterfaces.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Factory, IUniswapV2Router02, IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool, INonfungiblePositionManager, ISwapRouter} from "../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";

/// @notice The local Polygon replica: Uniswap V2 (as QuickSwap and SushiSwap), Uniswap V3, Aave V3 and the
///         Balancer V2 Vault, all from the real npm bytecode, with Polygon's token decimals and realistic depths.
///         One source of truth: forge tests call `_deployReplica` in `setUp`, and `script/DeployReplica.s.sol`
///         runs the same code under broadcast against anvil and writes every address to JSON.
/// @dev Reference prices (USD): WMATIC 0.40, WETH 3,000, WBTC 90,000, USDC/USDT/DAI 1.00, LINK 15, AAVE 250.
///      `admin` must be the account whose calls these are (the test contract, or the script's broadcaster).
///      Aave risk parameters are Polygon's (LTV / liquidation threshold / bonus per asset, 10% liquidation protocol
///      fee, e-mode 1 "Stablecoins" 93/95/101 with USDC, USDT, DAI). Borrowers are opt-in for forge tests
///      (`_openReplicaBorrowers`, which the deploy script calls): they move the reserves' indexes, and the gas
///      snapshot is taken without them.
abstract contract PolygonReplica is CommonBase {
    // ------------------------------------------------------------------ artifact paths (under node_modules/)
    string internal constant V2_FACTORY = "@uniswap/v2-core/build/UniswapV2Factory.json";
    string internal constant V2_ROUTER = "@uniswap/v2-periphery/build/UniswapV2Router02.json";
    string internal constant WETH9_ART = "@uniswap/v2-periphery/build/WETH9.json";
    string internal constant V3_FACTORY =
        "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
    string internal constant V3_NPM =
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json";
    string internal constant V3_ROUTER = "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json";
    string internal constant AAVE = "@aave/core-v3/artifacts/contracts/";
    string internal constant AAVE_LOGIC = "contracts/protocol/libraries/logic/";
    string internal constant BAL_AUTHORIZER =
        "@balancer-labs/v2-deployments/dist/tasks/20210418-authorizer/artifact/Authorizer.json";
    string internal constant BAL_VAULT = "@balancer-labs/v2-deployments/dist/tasks/20210418-vault/artifact/Vault.json";

    uint24 internal constant V2_FEE_PIPS = 3000; // both forks charge 0.30% (997/1000)
    uint128 internal constant AAVE_FLASH_PREMIUM_BPS = 5; // 0.05%; the bot reads it from the pool, never assumes it
    uint256 internal constant AAVE_LIQUIDATION_PROTOCOL_FEE_BPS = 1000; // Polygon: 10% of the liquidation bonus
    uint8 internal constant EMODE_STABLECOINS = 1;
    /// @dev Borrower i's private key is uint256(keccak256(abi.encode(BORROWER_SEED, i))) (a public test key).
    string internal constant BORROWER_SEED = "flasharb.replica.borrower";
    /// @dev Native sent to each borrower so it can pay gas when the script broadcasts as it.
    uint256 internal constant BORROWER_GAS_MONEY = 1 ether;

    // ------------------------------------------------------------------ deployed addresses
    address internal replicaAdmin;
    address internal WMATIC;
    address internal WETH;
    address internal USDC;
    address internal USDT;
    address internal DAI;
    address internal WBTC;
    address internal LINK;
    address internal AAVE_TOKEN;
    address[] internal replicaTokens;
    mapping(address => string) internal tokenSymbol;
    mapping(address => uint256) internal usdPriceE8;

    address internal quickswapFactory;
    address internal quickswapRouter;
    address internal sushiswapFactory;
    address internal sushiswapRouter;
    address internal v3Factory;
    address internal v3PositionManager;
    address internal v3SwapRouter;
    address[] internal v2Pairs;
    address[] internal v3Pools;

    address internal aaveProvider;
    address internal aavePool;
    address internal aaveConfigurator;
    address internal aaveOracle;
    address internal aaveDataProvider;
    address internal balancerAuthorizer;
    address internal balancerVault;
    /// @dev Borrowers in the order opened (`_openReplicaBorrowers` or `_openPosition`).
    address[] internal aaveBorrowers;

    /// @notice One side of an Aave position: `usd` dollars of `asset` at the replica's reference price.
    struct AaveLeg {
        address asset;
        uint256 usd;
    }

    error ReplicaTokenUnknown(address token);

    function _deployReplica(address admin) internal {
        replicaAdmin = admin;
        _deployTokens();
        _deployUniswapV2();
        _deployUniswapV3();
        _deployAave();
        _deployBalancer();
        // After every deployment so the contracts' addresses do not depend on it (the script's nonce).
        _configureAaveRisk();
    }

    /// @dev The replica plus its borrowers: what `script/DeployReplica.s.sol` puts on anvil.
    function _deployReplicaWithBorrowers(address admin) internal {
        _deployReplica(admin);
        _openReplicaBorrowers();
    }

    // ------------------------------------------------------------------ tokens
    function _deployTokens() private {
        WMATIC = Artifacts.deploy(WETH9_ART, "");
        _registerToken(WMATIC, "WMATIC", 0.4e8);
        WETH = _mintable("Wrapped Ether", "WETH", 18, 3_000e8);
        USDC = _mintable("USD Coin", "USDC", 6, 1e8);
        USDT = _mintable("Tether USD", "USDT", 6, 1e8);
        DAI = _mintable("Dai Stablecoin", "DAI", 18, 1e8);
        WBTC = _mintable("Wrapped BTC", "WBTC", 8, 90_000e8);
        LINK = _mintable("ChainLink Token", "LINK", 18, 15e8);
        AAVE_TOKEN = _mintable("Aave Token", "AAVE", 18, 250e8);
    }

    function _mintable(string memory name, string memory symbol, uint8 decimals, uint256 priceE8)
        private
        returns (address token)
    {
        token = Artifacts.deploy(
            string.concat(AAVE, "mocks/tokens/MintableERC20.sol/MintableERC20.json"), abi.encode(name, symbol, decimals)
        );
        _registerToken(token, symbol, priceE8);
    }

    function _registerToken(address token, string memory symbol, uint256 priceE8) private {
        replicaTokens.push(token);
        tokenSymbol[token] = symbol;
        usdPriceE8[token] = priceE8;
    }

    /// @dev Token amount worth `usd` dollars at the reference price.
    function _usd(address token, uint256 usd) internal view returns (uint256) {
        uint256 price = usdPriceE8[token];
        if (price == 0) revert ReplicaTokenUnknown(token);
        return usd * 10 ** IERC20(token).decimals() * 1e8 / price;
    }

    /// @dev Gives the admin `amount` of `token`: wraps native for WMATIC, mints otherwise.
    function _fund(address token, uint256 amount) internal {
        if (token == WMATIC) IWETH9(WMATIC).deposit{value: amount}();
        else IMintableERC20(token).mint(replicaAdmin, amount);
    }

    // ------------------------------------------------------------------ Uniswap V2 forks
    function _deployUniswapV2() private {
        (quickswapFactory, quickswapRouter) = _deployV2Dex();
        (sushiswapFactory, sushiswapRouter) = _deployV2Dex();
        // pair, QuickSwap depth and SushiSwap depth (USD per side)
        _addV2Pair(WMATIC, USDC, 1_500_000, 400_000);
        _addV2Pair(WMATIC, WETH, 1_000_000, 300_000);
        _addV2Pair(WETH, USDC, 2_000_000, 600_000);
        _addV2Pair(WETH, USDT, 1_000_000, 300_000);
        _addV2Pair(WBTC, WETH, 1_000_000, 300_000);
        _addV2Pair(WBTC, USDC, 500_000, 150_000);
        _addV2Pair(USDC, USDT, 2_000_000, 500_000);
        _addV2Pair(DAI, USDC, 1_000_000, 300_000);
        _addV2Pair(LINK, WETH, 300_000, 100_000);
        _addV2Pair(AAVE_TOKEN, WETH, 300_000, 100_000);
        _addV2Pair(WMATIC, USDT, 500_000, 150_000);
    }

    function _deployV2Dex() private returns (address factory, address router) {
        factory = Artifacts.deploy(V2_FACTORY, abi.encode(replicaAdmin));
        router = Artifacts.deploy(V2_ROUTER, abi.encode(factory, WMATIC));
    }

    function _addV2Pair(address a, address b, uint256 quickUsd, uint256 sushiUsd) private {
        _addV2Liquidity(quickswapRouter, a, b, quickUsd);
        _addV2Liquidity(sushiswapRouter, a, b, sushiUsd);
    }

    function _addV2Liquidity(address router, address a, address b, uint256 usdPerSide) private {
        uint256 amountA = _usd(a, usdPerSide);
        uint256 amountB = _usd(b, usdPerSide);
        _fund(a, amountA);
        _fund(b, amountB);
        IERC20(a).approve(router, amountA);
        IERC20(b).approve(router, amountB);
        IUniswapV2Router02(router)
            .addLiquidity(a, b, amountA, amountB, amountA, amountB, replicaAdmin, type(uint256).max);
        v2Pairs.push(IUniswapV2Factory(IUniswapV2Router02(router).factory()).getPair(a, b));
    }

    // ------------------------------------------------------------------ Uniswap V3
    function _deployUniswapV3() private {
        v3Factory = Artifacts.deploy(V3_FACTORY, "");
        // Any descriptor address works: only tokenURI reads it.
        v3PositionManager = Artifacts.deploy(V3_NPM, abi.encode(v3Factory, WMATIC, address(1)));
        v3SwapRouter = Artifacts.deploy(V3_ROUTER, abi.encode(v3Factory, WMATIC));
        // pool and USD per side for each of its four positions (full range, +-40%, +-10%, +-2%)
        _addV3Pool(WETH, USDC, 500, 300_000);
        _addV3Pool(WETH, USDC, 3000, 150_000);
        _addV3Pool(WMATIC, USDC, 500, 150_000);
        _addV3Pool(WMATIC, USDC, 3000, 100_000);
        _addV3Pool(WMATIC, WETH, 500, 150_000);
        _addV3Pool(WMATIC, WETH, 3000, 100_000);
        _addV3Pool(WBTC, WETH, 500, 150_000);
        _addV3Pool(WBTC, WETH, 3000, 100_000);
        _addV3Pool(USDC, USDT, 500, 300_000);
        _addV3Pool(LINK, WETH, 3000, 50_000);
        _addV3Pool(LINK, WETH, 10000, 30_000);
        _addV3Pool(AAVE_TOKEN, WETH, 3000, 50_000);
        _addV3Pool(WMATIC, USDT, 10000, 50_000);
    }

    function _addV3Pool(address a, address b, uint24 fee, uint256 usdPerPosition) private {
        (address t0, address t1) = a < b ? (a, b) : (b, a);
        address pool = INonfungiblePositionManager(v3PositionManager)
            .createAndInitializePoolIfNecessary(t0, t1, fee, _sqrtPriceX96(t0, t1));
        v3Pools.push(pool);
        (, int24 tick,,,,,) = IUniswapV3Pool(pool).slot0();
        int24 spacing = IUniswapV3Pool(pool).tickSpacing();
        int24 full = 887272 / spacing * spacing;
        _mintPosition(t0, t1, fee, -full, full, usdPerPosition);
        _mintPosition(
            t0, t1, fee, _floorTick(tick - 4000, spacing), _floorTick(tick + 4000, spacing) + spacing, usdPerPosition
        );
        _mintPosition(
            t0, t1, fee, _floorTick(tick - 1000, spacing), _floorTick(tick + 1000, spacing) + spacing, usdPerPosition
        );
        _mintPosition(
            t0, t1, fee, _floorTick(tick - 200, spacing), _floorTick(tick + 200, spacing) + spacing, usdPerPosition
        );
    }

    function _mintPosition(address t0, address t1, uint24 fee, int24 lower, int24 upper, uint256 usd) private {
        uint256 amount0 = _usd(t0, usd);
        uint256 amount1 = _usd(t1, usd);
        _fund(t0, amount0);
        _fund(t1, amount1);
        IERC20(t0).approve(v3PositionManager, amount0);
        IERC20(t1).approve(v3PositionManager, amount1);
        INonfungiblePositionManager(v3PositionManager)
            .mint(
                INonfungiblePositionManager.MintParams(
                    t0, t1, fee, lower, upper, amount0, amount1, 0, 0, replicaAdmin, type(uint256).max
                )
            );
        // NPM takes only what the range needs; leave nothing approved behind.
        IERC20(t0).approve(v3PositionManager, 0);
        IERC20(t1).approve(v3PositionManager, 0);
    }

    function _floorTick(int24 tick, int24 spacing) private pure returns (int24) {
        int24 q = tick / spacing;
        if (tick < 0 && tick % spacing != 0) q--;
        return q * spacing;
    }

    /// @dev sqrt(price of t0 in raw t1 units) as Q64.96, from the reference USD prices.
    function _sqrtPriceX96(address t0, address t1) internal view returns (uint160) {
        uint256 num = usdPriceE8[t0] * 10 ** IERC20(t1).decimals();
        uint256 den = usdPriceE8[t1] * 10 ** IERC20(t0).decimals();
        return uint160(_sqrt((num << 128) / den) << 32);
    }

    function _sqrt(uint256 x) private pure returns (uint256 y) {
        if (x == 0) return 0;
        y = x;
        uint256 z = (x >> 1) + 1;
        while (z < y) {
            y = z;
            z = (x / z + z) >> 1;
        }
    }

    // ------------------------------------------------------------------ Aave V3
    function _deployAave() private {
        aaveProvider = Artifacts.deploy(
            string.concat(AAVE, "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json"),
            abi.encode("Polygon replica", replicaAdmin)
        );
        IPoolAddressesProvider provider = IPoolAddressesProvider(aaveProvider);
        provider.setACLAdmin(replicaAdmin); // before the ACLManager exists, else it reverts "75"
        address acl = Artifacts.deploy(
            string.concat(AAVE, "protocol/configuration/ACLManager.sol/ACLManager.json"), abi.encode(aaveProvider)
        );
        provider.setACLManager(acl);
        IACLManager(acl).addPoolAdmin(replicaAdmin);
        IACLManager(acl).addEmergencyAdmin(replicaAdmin);
        IACLManager(acl).addRiskAdmin(replicaAdmin);

        provider.setPoolImpl(_deployAavePoolImpl());
        aavePool = provider.getPool();
        Artifacts.Link[] memory cfgLinks = new Artifacts.Link[](1);
        cfgLinks[0] = _aaveLib("ConfiguratorLogic");
        provider.setPoolConfiguratorImpl(
            Artifacts.deployLinked(
                string.concat(AAVE, "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json"), cfgLinks, ""
            )
        );
        aaveConfigurator = provider.getPoolConfigurator();

        aaveOracle = Artifacts.deploy(string.concat(AAVE, "mocks/oracle/PriceOracle.sol/PriceOracle.json"), "");
        provider.setPriceOracle(aaveOracle);
        aaveDataProvider = Artifacts.deploy(
            string.concat(AAVE, "misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json"),
            abi.encode(aaveProvider)
        );
        provider.setPoolDataProvider(aaveDataProvider);

        _initAaveReserves();
        IPoolConfigurator(aaveConfigurator).updateFlashloanPremiumTotal(AAVE_FLASH_PREMIUM_BPS);
        IPoolConfigurator(aaveConfigurator).updateFlashloanPremiumToProtocol(0);
    }

    function _deployAavePoolImpl() private returns (address) {
        string[6] memory plain =
            ["SupplyLogic", "BorrowLogic", "LiquidationLogic", "EModeLogic", "BridgeLogic", "PoolLogic"];
        Artifacts.Link[] memory links = new Artifacts.Link[](7);
        for (uint256 i; i < plain.length; ++i) {
            links[i] = Artifacts.Link(_aaveLogicName(plain[i]), _deployAaveLogic(plain[i], new Artifacts.Link[](0)));
        }
        // FlashLoanLogic is the one library with a link of its own (BorrowLogic).
        Artifacts.Link[] memory flashLinks = new Artifacts.Link[](1);
        flashLinks[0] = links[1];
        links[6] = Artifacts.Link(_aaveLogicName("FlashLoanLogic"), _deployAaveLogic("FlashLoanLogic", flashLinks));
        _configuratorLogic = _deployAaveLogic("ConfiguratorLogic", new Artifacts.Link[](0));
        return Artifacts.deployLinked(
            string.concat(AAVE, "protocol/pool/Pool.sol/Pool.json"), links, abi.encode(aaveProvider)
        );
    }

    address private _configuratorLogic;

    function _aaveLib(string memory name) private view returns (Artifacts.Link memory) {
        return Artifacts.Link(_aaveLogicName(name), _configuratorLogic);
    }

    function _aaveLogicName(string memory name) private pure returns (string memory) {
        return string.concat(AAVE_LOGIC, name, ".sol:", name);
    }

    function _deployAaveLogic(string memory name, Artifacts.Link[] memory links) private returns (address) {
        return Artifacts.deployLinked(
            string.concat(AAVE, "protocol/libraries/logic/", name, ".sol/", name, ".json"), links, ""
        );
    }

    function _initAaveReserves() private {
        string memory tok = string.concat(AAVE, "protocol/tokenization/");
        address aToken = Artifacts.deploy(string.concat(tok, "AToken.sol/AToken.json"), abi.encode(aavePool));
        address sDebt =
            Artifacts.deploy(string.concat(tok, "StableDebtToken.sol/StableDebtToken.json"), abi.encode(aavePool));
        address vDebt =
            Artifacts.deploy(string.concat(tok, "VariableDebtToken.sol/VariableDebtToken.json"), abi.encode(aavePool));
        address strategy = Artifacts.deploy(
            string.concat(
                AAVE, "protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json"
            ),
            abi.encode(aaveProvider, 0.8e27, 0, 0.04e27, 0.75e27, 0.02e27, 0.75e27, 0.02e27, 0.05e27, 0.2e27)
        );

        uint256 n = replicaTokens.length;
        InitReserveInput[] memory input = new InitReserveInput[](n);
        for (uint256 i; i < n; ++i) {
            address asset = replicaTokens[i];
            string memory s = tokenSymbol[asset];
            input[i] = InitReserveInput(
                aToken,
                sDebt,
                vDebt,
                IERC20(asset).decimals(),
                strategy,
                asset,
                replicaAdmin,
                address(0),
                string.concat("Aave Polygon ", s),
                string.concat("aPol", s),
                string.concat("Aave Polygon Variable Debt ", s),
                string.concat("variableDebtPol", s),
                string.concat("Aave Polygon Stable Debt ", s),
                string.concat("stableDebtPol", s),
                ""
            );
        }
        IPoolConfigurator cfg = IPoolConfigurator(aaveConfigurator);
        cfg.initReserves(input);

        for (uint256 i; i < n; ++i) {
            address asset = replicaTokens[i];
            IAaveOracleAdmin(aaveOracle).setAssetPrice(asset, usdPriceE8[asset]);
            (uint256 ltv, uint256 lt, uint256 bonus) = _aaveRiskParams(asset);
            cfg.configureReserveAsCollateral(asset, ltv, lt, bonus);
            cfg.setReserveBorrowing(asset, true);
            cfg.setReserveFlashLoaning(asset, true); // off after initReserves ("91") until enabled
            cfg.setReserveFactor(asset, 1000);
            // Supplied liquidity is what flash loans draw on.
            uint256 amount = _usd(asset, 5_000_000);
            _fund(asset, amount);
            IERC20(asset).approve(aavePool, amount);
            IAaveV3Pool(aavePool).supply(asset, amount, replicaAdmin, 0);
        }
    }

    /// @dev Polygon-like LTV, liquidation threshold and liquidation bonus (bps) of each reserve.
    function _aaveRiskParams(address asset) internal view returns (uint256 ltv, uint256 lt, uint256 bonus) {
        if (asset == WETH) return (8000, 8250, 10500);
        if (asset == WBTC) return (7300, 7800, 10650);
        if (asset == WMATIC) return (6500, 7000, 11000);
        if (asset == USDC) return (8000, 8500, 10500);
        if (asset == USDT) return (7500, 8000, 10500);
        if (asset == DAI) return (7600, 8100, 10500);
        if (asset == LINK) return (5000, 6500, 10750);
        if (asset == AAVE_TOKEN) return (6000, 7000, 10750);
        revert ReplicaTokenUnknown(asset);
    }

    /// @dev Liquidation protocol fee on every reserve and the stablecoin e-mode (v3.0 configurator API).
    function _configureAaveRisk() private {
        IPoolConfigurator cfg = IPoolConfigurator(aaveConfigurator);
        for (uint256 i; i < replicaTokens.length; ++i) {
            cfg.setLiquidationProtocolFee(replicaTokens[i], AAVE_LIQUIDATION_PROTOCOL_FEE_BPS);
        }
        cfg.setEModeCategory(EMODE_STABLECOINS, 9300, 9500, 10100, address(0), "Stablecoins");
        cfg.setAssetEModeCategory(USDC, EMODE_STABLECOINS);
        cfg.setAssetEModeCategory(USDT, EMODE_STABLECOINS);
        cfg.setAssetEModeCategory(DAI, EMODE_STABLECOINS);
    }

    // ------------------------------------------------------------------ Aave borrowers
    /// @notice Sets the Aave oracle's price of `asset` (USD, 8 decimals). The DEX pools and `_usd` keep the
    ///         reference price: this moves health factors only.
    function _setAssetPrice(address asset, uint256 usdE8) internal {
        IAaveOracleAdmin(aaveOracle).setAssetPrice(asset, usdE8);
    }

    /// @notice Borrower `i`'s deterministic key (anvil accepts it; never a real key).
    function _borrowerKey(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(BORROWER_SEED, i)));
    }

    /// @notice Opens a position for the account of `key`: the admin supplies each collateral leg on its behalf
    ///         (first supply: used as collateral), then the account enters e-mode `emode` (0: none) and borrows
    ///         each debt leg at the variable rate. AaveLeg sizes are USD at the reference prices.
    function _openPosition(uint256 key, uint8 emode, AaveLeg[] memory collateral, AaveLeg[] memory debt)
        internal
        returns (address user)
    {
        user = vm.addr(key);
        (bool sent,) = user.call{value: BORROWER_GAS_MONEY}("");
        require(sent, "replica: gas money not sent");
        for (uint256 i; i < collateral.length; ++i) {
            uint256 amount = _usd(collateral[i].asset, collateral[i].usd);
            _fund(collateral[i].asset, amount);
            IERC20(collateral[i].asset).approve(aavePool, amount);
            IAaveV3Pool(aavePool).supply(collateral[i].asset, amount, user, 0);
        }
        _actAs(key);
        if (emode != 0) IAavePoolUser(aavePool).setUserEMode(emode);
        for (uint256 i; i < debt.length; ++i) {
            IAaveV3Pool(aavePool).borrow(debt[i].asset, _usd(debt[i].asset, debt[i].usd), 2, 0, user);
        }
        _actAsAdmin();
        aaveBorrowers.push(user);
    }

    /// @dev Makes the next calls come from the account of `key` (a prank here; the script broadcasts instead).
    function _actAs(uint256 key) internal virtual {
        vm.startPrank(vm.addr(key));
    }

    /// @dev Back to the admin after `_actAs`.
    function _actAsAdmin() internal virtual {
        vm.stopPrank();
    }

    function _legs(address a, uint256 usdA) internal pure returns (AaveLeg[] memory l) {
        l = new AaveLeg[](1);
        l[0] = AaveLeg(a, usdA);
    }

    function _legs(address a, uint256 usdA, address b, uint256 usdB) internal pure returns (AaveLeg[] memory l) {
        l = new AaveLeg[](2);
        (l[0], l[1]) = (AaveLeg(a, usdA), AaveLeg(b, usdB));
    }

    function _legs(address a, uint256 usdA, address b, uint256 usdB, address c, uint256 usdC)
        internal
        pure
        returns (AaveLeg[] memory l)
    {
        l = new AaveLeg[](3);
        (l[0], l[1], l[2]) = (AaveLeg(a, usdA), AaveLeg(b, usdB), AaveLeg(c, usdC));
    }

    /// @notice Fourteen borrowers, `_borrowerKey(0..13)`, health factors 1.04-2.0 at the reference prices. Every
    ///         reserve keeps 5M USD available (the admin supplies what they borrow first).
    /// @dev Health factor at reference prices -> after WETH -15%, WMATIC -20%, WBTC -10% (together):
    ///      0  WETH 10k / USDC 7.6k                                 1.086 -> 0.923  liquidatable
    ///      1  WMATIC 20k / USDT 12k                                1.167 -> 0.933  liquidatable
    ///      2  WBTC 200k / USDC 90k + DAI 53k                       1.091 -> 0.982  liquidatable
    ///      3  WETH 100k + WMATIC 50k + LINK 20k / USDC 70k + DAI 40k  1.186 -> 1.010
    ///      4  e-mode: USDC 300k / USDT 270k                         1.056 -> 1.056
    ///      5  e-mode: DAI 50k + WETH 10k / USDC 53.5k               1.042 -> 1.019
    ///      6  WETH 400k + WBTC 100k / USDC 200k + USDT 100k + WMATIC 20k  1.275 -> 1.110
    ///      7  AAVE 4k / DAI 2.3k                                    1.217 -> 1.217
    ///      8  WMATIC 100k + AAVE 20k / WETH 30k + USDC 40k           1.200 -> 1.069
    ///      9  WETH 50k / WBTC 20k + USDC 18k                        1.086 -> 0.974  liquidatable
    ///      10 WBTC 30k + WETH 20k / DAI 35k                         1.140 -> 1.002
    ///      11 WMATIC 8k / USDC 5k                                   1.120 -> 0.896  liquidatable
    ///      12 USDC 200k / WETH 85k                                  2.000 -> 2.353
    ///      13 e-mode: USDT 100k + DAI 50k / USDC 135k               1.056 -> 1.056
    function _openReplicaBorrowers() internal {
        (uint8[] memory emodes, AaveLeg[][] memory coll, AaveLeg[][] memory debt) = _replicaBorrowerTable();
        // Each reserve keeps exactly its 5M USD of flash liquidity: the admin first supplies what the borrowers
        // take beyond what they supply, and afterwards withdraws what they supply beyond what they take.
        int256[] memory net = new int256[](replicaTokens.length); // borrowed - supplied, token units
        for (uint256 t; t < replicaTokens.length; ++t) {
            address asset = replicaTokens[t];
            net[t] = _legsTotal(debt, asset) - _legsTotal(coll, asset);
            if (net[t] <= 0) continue;
            uint256 amount = uint256(net[t]);
            _fund(asset, amount);
            IERC20(asset).approve(aavePool, amount);
            IAaveV3Pool(aavePool).supply(asset, amount, replicaAdmin, 0);
        }
        for (uint256 i; i < emodes.length; ++i) {
            _openPosition(_borrowerKey(i), emodes[i], coll[i], debt[i]);
        }
        for (uint256 t; t < replicaTokens.length; ++t) {
            if (net[t] < 0) IAavePoolUser(aavePool).withdraw(replicaTokens[t], uint256(-net[t]), replicaAdmin);
        }
    }

    function _legsTotal(AaveLeg[][] memory legs, address asset) private view returns (int256 total) {
        for (uint256 i; i < legs.length; ++i) {
            for (uint256 j; j < legs[i].length; ++j) {
                if (legs[i][j].asset == asset) total += int256(_usd(asset, legs[i][j].usd));
            }
        }
    }

    function _replicaBorrowerTable()
        private
        view
        returns (uint8[] memory emodes, AaveLeg[][] memory coll, AaveLeg[][] memory debt)
    {
        emodes = new uint8[](14);
        coll = new AaveLeg[][](14);
        debt = new AaveLeg[][](14);
        (coll[0], debt[0]) = (_legs(WETH, 10_000), _legs(USDC, 7_600));
        (coll[1], debt[1]) = (_legs(WMATIC, 20_000), _legs(USDT, 12_000));
        (coll[2], debt[2]) = (_legs(WBTC, 200_000), _legs(USDC, 90_000, DAI, 53_000));
        (coll[3], debt[3]) = (_legs(WETH, 100_000, WMATIC, 50_000, LINK, 20_000), _legs(USDC, 70_000, DAI, 40_000));
        (coll[4], debt[4]) = (_legs(USDC, 300_000), _legs(USDT, 270_000));
        (coll[5], debt[5]) = (_legs(DAI, 50_000, WETH, 10_000), _legs(USDC, 53_500));
        (coll[6], debt[6]) = (_legs(WETH, 400_000, WBTC, 100_000), _legs(USDC, 200_000, USDT, 100_000, WMATIC, 20_000));
        (coll[7], debt[7]) = (_legs(AAVE_TOKEN, 4_000), _legs(DAI, 2_300));
        (coll[8], debt[8]) = (_legs(WMATIC, 100_000, AAVE_TOKEN, 20_000), _legs(WETH, 30_000, USDC, 40_000));
        (coll[9], debt[9]) = (_legs(WETH, 50_000), _legs(WBTC, 20_000, USDC, 18_000));
        (coll[10], debt[10]) = (_legs(WBTC, 30_000, WETH, 20_000), _legs(DAI, 35_000));
        (coll[11], debt[11]) = (_legs(WMATIC, 8_000), _legs(USDC, 5_000));
        (coll[12], debt[12]) = (_legs(USDC, 200_000), _legs(WETH, 85_000));
        (coll[13], debt[13]) = (_legs(USDT, 100_000, DAI, 50_000), _legs(USDC, 135_000));
        (emodes[4], emodes[5], emodes[13]) = (EMODE_STABLECOINS, EMODE_STABLECOINS, EMODE_STABLECOINS);
    }

    // ------------------------------------------------------------------ Balancer V2
    function _deployBalancer() private {
        balancerAuthorizer = Artifacts.deploy(BAL_AUTHORIZER, abi.encode(replicaAdmin));
        balancerVault = Artifacts.deploy(BAL_VAULT, abi.encode(balancerAuthorizer, WMATIC, 90 days, 30 days));
        // Flash liquidity is the Vault's own balance: a plain transfer is enough.
        for (uint256 i; i < replicaTokens.length; ++i) {
            address token = replicaTokens[i];
            uint256 amount = _usd(token, 2_000_000);
            _fund(token, amount);
            require(IERC20(token).transfer(balancerVault, amount), "replica: vault funding failed");
        }
    }

    // ------------------------------------------------------------------ price dislocations on demand
    /// @notice Moves one V2 pair's price by selling `bpsOfReserve` basis points of its `tokenIn` reserve into it.
    function _dislocateV2(address router, address tokenIn, address tokenOut, uint256 bpsOfReserve)
        internal
        returns (uint256 amountIn)
    {
        address pair = IUniswapV2Factory(IUniswapV2Router02(router).factory()).getPair(tokenIn, tokenOut);
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        amountIn = (IUniswapV2Pair(pair).token0() == tokenIn ? r0 : r1) * bpsOfReserve / 10_000;
        _fund(tokenIn, amountIn);
        IERC20(tokenIn).approve(router, amountIn);
        address[] memory path = new address[](2);
        (path[0], path[1]) = (tokenIn, tokenOut);
        IUniswapV2Router02(router).swapExactTokensForTokens(amountIn, 0, path, replicaAdmin, type(uint256).max);
    }

    /// @notice Sells `amountIn` of `tokenIn` into a V3 pool through the real SwapRouter.
    function _dislocateV3(address tokenIn, address tokenOut, uint24 fee, uint256 amountIn)
        internal
        returns (uint256 amountOut)
    {
        _fund(tokenIn, amountIn);
        IERC20(tokenIn).approve(v3SwapRouter, amountIn);
        amountOut = ISwapRouter(v3SwapRouter)
            .exactInputSingle(
                ISwapRouter.ExactInputSingleParams(
                    tokenIn, tokenOut, fee, replicaAdmin, type(uint256).max, amountIn, 0, 0
                )
            );
    }
}
