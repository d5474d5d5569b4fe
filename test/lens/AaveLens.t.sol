// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {Artifacts} from "../../script/replica/Artifacts.sol";
import {IPoolConfigurator} from "../../script/replica/ReplicaInterfaces.sol";
import {AaveLens} from "../../src/lens/AaveLens.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {
    IAaveV3PoolViews,
    IAaveV3PriceOracle,
    IAaveV3ScaledBalanceToken
} from "../../src/interfaces/external/IAaveV3Market.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {LyingForwarder} from "./LensTargets.sol";

/// @dev The real PoolAddressesProvider's owner API (a second provider points the lens at a lying Pool).
interface IProviderAdmin {
    function setAddress(bytes32 id, address newAddress) external;
    function setPriceOracle(address newPriceOracle) external;
    function getPool() external view returns (address);
}

contract AaveLensTest is Test, PolygonReplica {
    /// @dev Where the bot's eth_call state override puts the lens: any address with no code.
    address internal constant LENS_AT = address(0x1E45000000000000000000000000000000001E45);
    address internal constant NOT_A_USER = address(0xC0FFEE);

    AaveLens internal lens;

    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
        _openReplicaBorrowers();
        // Let interest accrue so scaled balances and balances differ, then touch nothing.
        vm.warp(block.timestamp + 30 days);
        vm.roll(block.number + 1000);
        vm.etch(LENS_AT, type(AaveLens).runtimeCode);
        lens = AaveLens(LENS_AT);
    }

    // ------------------------------------------------------------------ market

    function test_market_equalsThePoolsGetters() public view {
        AaveLens.Market memory m = lens.market(aaveProvider, 8);
        assertEq(m.blockNumber, block.number);
        assertEq(m.blockTimestamp, block.timestamp);
        assertEq(m.pool, aavePool);
        assertEq(m.oracle, aaveOracle);
        assertEq(m.poolRevision, 1, "v3.0.x");
        assertEq(m.baseCurrencyUnit, 1e8, "the mock oracle has no BASE_CURRENCY_UNIT: the default");
        address[] memory assets = IAaveV3PoolViews(aavePool).getReservesList();
        assertEq(m.reserves.length, assets.length);
        assertEq(assets.length, 8);
        for (uint256 i; i < assets.length; ++i) {
            AaveLens.Reserve memory r = m.reserves[i];
            IAaveV3Pool.ReserveData memory d = IAaveV3Pool(aavePool).getReserveData(assets[i]);
            assertTrue(r.ok && r.priceOk);
            assertEq(r.asset, assets[i]);
            assertEq(r.id, d.id);
            assertEq(r.id, i, "no reserve dropped: id == list index");
            assertEq(r.configuration, d.configuration);
            assertEq(r.liquidityIndex, d.liquidityIndex);
            assertEq(r.variableBorrowIndex, d.variableBorrowIndex);
            assertEq(r.currentLiquidityRate, d.currentLiquidityRate);
            assertEq(r.currentVariableBorrowRate, d.currentVariableBorrowRate);
            assertEq(r.lastUpdateTimestamp, d.lastUpdateTimestamp);
            assertEq(r.aToken, d.aTokenAddress);
            assertEq(r.variableDebtToken, d.variableDebtTokenAddress);
            assertEq(r.stableDebtToken, d.stableDebtTokenAddress);
            assertEq(r.price, IAaveV3PriceOracle(aaveOracle).getAssetPrice(assets[i]));
            assertEq(r.price, usdPriceE8[assets[i]]);
        }
        assertEq(m.reserves[2].asset, USDC);
        assertGt(m.reserves[2].currentLiquidityRate, 0, "USDC is borrowed: suppliers earn");
        assertEq(m.eModes.length, 1, "only category 1 exists");
        AaveLens.EMode memory e = m.eModes[0];
        assertEq(abi.encode(e.id, e.ltv, e.liquidationThreshold, e.liquidationBonus), abi.encode(1, 9300, 9500, 10100));
        assertEq(e.priceSource, address(0));
        assertEq(e.price, 0);
        assertEq(e.label, "Stablecoins");
        assertEq(e.collateralBitmap, 0, "v3.0 has no e-mode bitmaps");
        assertEq(e.borrowableBitmap, 0);
    }

    function test_market_eModePriceSourceAndOracleBaseUnit() public {
        // A second category priced by one asset (v3.0 allows a price source), read through the real AaveOracle
        // (which has BASE_CURRENCY_UNIT) falling back to the replica's oracle.
        IPoolConfigurator(aaveConfigurator).setEModeCategory(3, 9000, 9200, 10200, WETH, "ETH correlated");
        address aaveOracleReal = Artifacts.deploy(
            string.concat(AAVE, "misc/AaveOracle.sol/AaveOracle.json"),
            abi.encode(aaveProvider, new address[](0), new address[](0), aaveOracle, address(0), 1e18)
        );
        IProviderAdmin(aaveProvider).setPriceOracle(aaveOracleReal);
        AaveLens.Market memory m = lens.market(aaveProvider, 5);
        assertEq(m.oracle, aaveOracleReal);
        assertEq(m.baseCurrencyUnit, 1e18, "read from the oracle");
        assertEq(m.reserves[1].price, 3_000e8, "fallback oracle's price");
        assertEq(m.eModes.length, 2);
        assertEq(m.eModes[1].id, 3);
        assertEq(m.eModes[1].priceSource, WETH);
        assertEq(m.eModes[1].price, 3_000e8);
        assertEq(m.eModes[1].label, "ETH correlated");
        assertEq(lens.market(aaveProvider, 0).eModes.length, 0);
    }

    // ------------------------------------------------------------------ positions

    function test_positions_equalTheTokensBalances() public view {
        address[] memory users = new address[](aaveBorrowers.length + 1);
        for (uint256 i; i < aaveBorrowers.length; ++i) {
            users[i] = aaveBorrowers[i];
        }
        users[aaveBorrowers.length] = NOT_A_USER;
        (uint256 blockNumber, AaveLens.Position[] memory got) = lens.positions(aaveProvider, users);
        assertEq(blockNumber, block.number);
        assertEq(got.length, users.length);
        address[] memory assets = IAaveV3PoolViews(aavePool).getReservesList();
        for (uint256 u; u < users.length; ++u) {
            AaveLens.Position memory p = got[u];
            assertTrue(p.ok);
            assertEq(p.user, users[u]);
            assertEq(p.configuration, IAaveV3PoolViews(aavePool).getUserConfiguration(users[u]));
            assertEq(p.eMode, IAaveV3PoolViews(aavePool).getUserEMode(users[u]));
            uint256 n;
            for (uint256 i; i < assets.length; ++i) {
                IAaveV3Pool.ReserveData memory d = IAaveV3Pool(aavePool).getReserveData(assets[i]);
                uint256 coll = IAaveV3ScaledBalanceToken(d.aTokenAddress).scaledBalanceOf(users[u]);
                uint256 debt = IAaveV3ScaledBalanceToken(d.variableDebtTokenAddress).scaledBalanceOf(users[u]);
                if ((p.configuration >> (2 * i)) & 3 == 0) {
                    assertEq(coll + debt, 0, "untouched reserve holds nothing");
                    continue;
                }
                AaveLens.Balance memory b = p.balances[n++];
                assertEq(b.reserveId, i);
                assertEq(b.asset, assets[i]);
                assertEq(b.scaledCollateral, coll);
                assertEq(b.scaledVariableDebt, debt);
                assertEq(b.stableDebt, IERC20(d.stableDebtTokenAddress).balanceOf(users[u]));
                assertGt(coll + debt, 0);
            }
            assertEq(p.balances.length, n, "exactly the touched reserves");
        }
        assertEq(got[aaveBorrowers.length].balances.length, 0, "no position: no balances");
        assertEq(got[4].eMode, 1, "borrower 4 is in the stablecoin e-mode");
        assertEq(got[3].balances.length, 5, "borrower 3: three collaterals, two debts");
    }

    // ------------------------------------------------------------------ robustness

    /// @dev A second (real) addresses provider pointing at a LyingForwarder in front of the real Pool.
    function _lyingMarket() internal returns (address provider, LyingForwarder pool) {
        provider = Artifacts.deploy(
            string.concat(AAVE, "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json"),
            abi.encode("lying", address(this))
        );
        pool = new LyingForwarder(aavePool);
        IProviderAdmin(provider).setAddress("POOL", address(pool));
        IProviderAdmin(provider).setPriceOracle(aaveOracle);
    }

    function _reserveWords(uint256 id, address aToken, address stableDebt, address varDebt)
        internal
        pure
        returns (uint256[15] memory w)
    {
        w[1] = 1e27;
        w[3] = 1e27;
        w[7] = id;
        w[8] = uint160(aToken);
        w[9] = uint160(stableDebt);
        w[10] = uint160(varDebt);
    }

    function test_market_badReservesAndCategoriesDoNotFailTheCall() public {
        (address provider, LyingForwarder pool) = _lyingMarket();
        address[] memory assets = IAaveV3PoolViews(aavePool).getReservesList();
        address[] memory listed = new address[](assets.length + 3);
        for (uint256 i; i < assets.length; ++i) {
            listed[i] = assets[i];
        }
        (address refused, address dirty, address short) = (address(0xA1), address(0xA2), address(0xA3));
        (listed[8], listed[9], listed[10]) = (refused, dirty, short);
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getReservesList, ()), abi.encode(listed));
        pool.refuse(abi.encodeCall(IAaveV3PoolViews.getReserveData, (refused)));
        uint256[15] memory w = _reserveWords(9, address(1), address(2), address(3));
        w[8] = 1 << 160; // an aToken "address" out of range
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getReserveData, (dirty)), abi.encode(w));
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getReserveData, (short)), abi.encode(uint256(1), uint256(2)));
        pool.refuse(abi.encodeCall(IAaveV3PoolViews.POOL_REVISION, ()));
        // Category 2: an answer that does not decode; 3: v3.2's bitmaps; 4: bitmaps out of uint128.
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getEModeCategoryData, (2)), abi.encode(uint256(32)));
        pool.lieAbout(
            abi.encodeCall(IAaveV3PoolViews.getEModeCategoryData, (3)),
            abi.encode(IAaveV3PoolViews.EModeCategory(9000, 9300, 10100, address(0), "v3.2-like"))
        );
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getEModeCategoryCollateralBitmap, (3)), abi.encode(0x0e));
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getEModeCategoryBorrowableBitmap, (3)), abi.encode(0x06));
        pool.lieAbout(
            abi.encodeCall(IAaveV3PoolViews.getEModeCategoryData, (4)),
            abi.encode(IAaveV3PoolViews.EModeCategory(9000, 9300, 10100, address(0), "dirty bitmaps"))
        );
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getEModeCategoryCollateralBitmap, (4)), abi.encode(1 << 128));
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getEModeCategoryBorrowableBitmap, (4)), abi.encode(1 << 200));

        AaveLens.Market memory m = lens.market(provider, 6);
        assertEq(m.pool, address(pool));
        assertEq(m.poolRevision, 0, "no POOL_REVISION: 0");
        assertEq(m.reserves.length, 11);
        for (uint256 i; i < 8; ++i) {
            assertTrue(m.reserves[i].ok && m.reserves[i].priceOk);
        }
        for (uint256 i = 8; i < 11; ++i) {
            assertFalse(m.reserves[i].ok, "unreadable reserve");
            assertEq(m.reserves[i].asset, listed[i]);
            assertEq(m.reserves[i].aToken, address(0), "fields zero");
            assertTrue(m.reserves[i].priceOk, "the mock oracle answers 0 for any asset");
            assertEq(m.reserves[i].price, 0);
        }
        assertEq(m.eModes.length, 3, "1, 3 and 4; 2 does not decode");
        assertEq(m.eModes[0].id, 1);
        assertEq(m.eModes[1].id, 3);
        assertEq(m.eModes[1].collateralBitmap, 0x0e);
        assertEq(m.eModes[1].borrowableBitmap, 0x06);
        assertEq(m.eModes[1].label, "v3.2-like");
        assertEq(m.eModes[2].id, 4);
        assertEq(m.eModes[2].collateralBitmap, 0, "out of uint128: left zero");
        assertEq(m.eModes[2].borrowableBitmap, 0);
    }

    function test_market_oracleWithoutCode() public {
        (address provider,) = _lyingMarket();
        IProviderAdmin(provider).setPriceOracle(address(0xBEEF));
        AaveLens.Market memory m = lens.market(provider, 1);
        assertEq(m.baseCurrencyUnit, 1e8);
        for (uint256 i; i < m.reserves.length; ++i) {
            assertTrue(m.reserves[i].ok);
            assertFalse(m.reserves[i].priceOk);
            assertEq(m.reserves[i].price, 0);
        }
    }

    function test_positions_badUsersDoNotFailTheCall() public {
        (address provider, LyingForwarder pool) = _lyingMarket();
        address[] memory assets = IAaveV3PoolViews(aavePool).getReservesList();
        address[] memory listed = new address[](assets.length + 2);
        for (uint256 i; i < assets.length; ++i) {
            listed[i] = assets[i];
        }
        // Reserve 20: its aToken has no code and it has no stable debt token. 0xA1: unreadable (its id unknown).
        (address broken, address refused) = (address(0xA0), address(0xA1));
        (listed[8], listed[9]) = (broken, refused);
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getReservesList, ()), abi.encode(listed));
        IAaveV3Pool.ReserveData memory usdc = IAaveV3Pool(aavePool).getReserveData(USDC);
        pool.lieAbout(
            abi.encodeCall(IAaveV3PoolViews.getReserveData, (broken)),
            abi.encode(_reserveWords(20, address(0xdead), address(0), usdc.variableDebtTokenAddress))
        );
        pool.refuse(abi.encodeCall(IAaveV3PoolViews.getReserveData, (refused)));

        address healthy = aaveBorrowers[0];
        (address touchesBroken, address touchesUnknown, address unreadable, address noEMode) =
            (address(0xB1), address(0xB2), address(0xB3), address(0xB4));
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getUserConfiguration, (touchesBroken)), abi.encode(1 << 41));
        pool.lieAbout(abi.encodeCall(IAaveV3PoolViews.getUserConfiguration, (touchesUnknown)), abi.encode(1 << 60));
        pool.refuse(abi.encodeCall(IAaveV3PoolViews.getUserConfiguration, (unreadable)));
        pool.refuse(abi.encodeCall(IAaveV3PoolViews.getUserEMode, (noEMode)));

        address[] memory users = new address[](5);
        (users[0], users[1], users[2], users[3], users[4]) =
        (healthy, touchesBroken, touchesUnknown, unreadable, noEMode);
        (, AaveLens.Position[] memory got) = lens.positions(provider, users);
        assertTrue(got[0].ok, "a user of readable reserves only is unaffected");
        assertEq(got[0].balances.length, 2);
        assertFalse(got[1].ok, "aToken without code");
        assertEq(got[1].balances.length, 1);
        assertEq(got[1].balances[0].reserveId, 20);
        assertEq(got[1].balances[0].stableDebt, 0, "no stable debt token: not read");
        assertFalse(got[2].ok, "touches a reserve the list does not have");
        assertEq(got[2].balances.length, 0);
        assertFalse(got[3].ok, "configuration refused");
        assertFalse(got[4].ok, "e-mode refused");
    }
}
