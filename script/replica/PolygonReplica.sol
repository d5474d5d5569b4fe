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

    error ReplicaTokenUnknown(address token);

    function _deployReplica(address admin) internal {
        replicaAdmin = admin;
        _deployTokens();
        _deployUniswapV2();
        _deployUniswapV3();
        _deployAave();
        _deployBalancer();
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
            bool stable = asset == USDC || asset == USDT || asset == DAI;
            IAaveOracleAdmin(aaveOracle).setAssetPrice(asset, usdPriceE8[asset]);
            cfg.configureReserveAsCollateral(asset, stable ? 7500 : 7000, stable ? 8000 : 7500, stable ? 10500 : 10750);
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
