// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";

/// @dev The Aave V3.0 Pool and data provider getters these tests read (the replica's real bytecode answers them).
interface IAavePoolReads {
    struct EModeCategory {
        uint16 ltv;
        uint16 liquidationThreshold;
        uint16 liquidationBonus;
        address priceSource;
        string label;
    }

    function getEModeCategoryData(uint8 id) external view returns (EModeCategory memory);
    function getUserEMode(address user) external view returns (uint256);
    function liquidationCall(address collateral, address debt, address user, uint256 debtToCover, bool receiveAToken)
        external;
}

interface IDataProviderReads {
    function getLiquidationProtocolFee(address asset) external view returns (uint256);
    function getReserveEModeCategory(address asset) external view returns (uint256);
    function getReserveConfigurationData(address asset)
        external
        view
        returns (uint256, uint256, uint256, uint256, uint256, bool, bool, bool, bool, bool);
}

/// @notice The replica's Aave liquidation side: Polygon's risk parameters, the stablecoin e-mode, and fourteen
///         borrowers whose health factors cross 1 under a known price move.
contract AaveBorrowersTest is Test, PolygonReplica {
    uint256 internal constant N_BORROWERS = 14;

    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
        _openReplicaBorrowers();
    }

    function _hf(address user) internal view returns (uint256 hf) {
        (,,,,, hf) = IAaveV3Pool(aavePool).getUserAccountData(user);
    }

    function test_riskParameters() public view {
        IDataProviderReads dp = IDataProviderReads(aaveDataProvider);
        for (uint256 i; i < replicaTokens.length; ++i) {
            address asset = replicaTokens[i];
            (uint256 ltv, uint256 lt, uint256 bonus) = _aaveRiskParams(asset);
            (, uint256 gotLtv, uint256 gotLt, uint256 gotBonus,,,,,,) = dp.getReserveConfigurationData(asset);
            assertEq(abi.encode(gotLtv, gotLt, gotBonus), abi.encode(ltv, lt, bonus), tokenSymbol[asset]);
            assertEq(dp.getLiquidationProtocolFee(asset), 1000, "10% protocol fee");
            bool stable = asset == USDC || asset == USDT || asset == DAI;
            assertEq(dp.getReserveEModeCategory(asset), stable ? 1 : 0);
        }
        (uint256 ltvWeth, uint256 ltWeth, uint256 bonusWeth) = _aaveRiskParams(WETH);
        assertEq(abi.encode(ltvWeth, ltWeth, bonusWeth), abi.encode(8000, 8250, 10500));
        IAavePoolReads.EModeCategory memory e = IAavePoolReads(aavePool).getEModeCategoryData(1);
        assertEq(abi.encode(e.ltv, e.liquidationThreshold, e.liquidationBonus), abi.encode(9300, 9500, 10100));
        assertEq(e.label, "Stablecoins");
        assertEq(e.priceSource, address(0));
    }

    function test_riskParams_unknownAssetReverts() public {
        vm.expectRevert(abi.encodeWithSelector(ReplicaTokenUnknown.selector, address(0xdead)));
        this.riskParamsOf(address(0xdead));
    }

    function riskParamsOf(address asset) external view returns (uint256, uint256, uint256) {
        return _aaveRiskParams(asset);
    }

    function test_borrowers_deterministicAndHealthy() public view {
        assertEq(aaveBorrowers.length, N_BORROWERS);
        for (uint256 i; i < N_BORROWERS; ++i) {
            address user = aaveBorrowers[i];
            assertEq(user, vm.addr(uint256(keccak256(abi.encode("flasharb.replica.borrower", i)))));
            (uint256 coll, uint256 debt,,,,) = IAaveV3Pool(aavePool).getUserAccountData(user);
            uint256 hf = _hf(user);
            assertGe(hf, 1.04e18, "healthy at reference prices");
            assertLe(hf, 2.01e18);
            assertGe(coll, 3_000e8, "at least 3k USD");
            assertLe(coll, 500_000e8, "at most 500k USD");
            assertGt(debt, 0);
        }
        assertEq(IAavePoolReads(aavePool).getUserEMode(aaveBorrowers[4]), 1);
        assertEq(IAavePoolReads(aavePool).getUserEMode(aaveBorrowers[5]), 1);
        assertEq(IAavePoolReads(aavePool).getUserEMode(aaveBorrowers[13]), 1);
        assertEq(IAavePoolReads(aavePool).getUserEMode(aaveBorrowers[0]), 0);
        // e-mode: USDC 300k at LT 95% against USDT 270k.
        assertApproxEqRel(_hf(aaveBorrowers[4]), 1.0556e18, 0.001e18);
    }

    /// @dev WETH -15%, WMATIC -20%, WBTC -10%: borrowers 0, 1, 2, 9, 11 go under 1; 0, 1, 11 under 0.95.
    function test_priceShock_knownSubsetLiquidatable() public {
        _setAssetPrice(WETH, 2_550e8);
        _setAssetPrice(WMATIC, 0.32e8);
        _setAssetPrice(WBTC, 81_000e8);
        uint256 underOne;
        for (uint256 i; i < N_BORROWERS; ++i) {
            uint256 hf = _hf(aaveBorrowers[i]);
            bool expected = i == 0 || i == 1 || i == 2 || i == 9 || i == 11;
            assertEq(hf < 1e18, expected, vm.toString(i));
            assertEq(hf < 0.95e18, i == 0 || i == 1 || i == 11, vm.toString(i));
            if (hf < 1e18) ++underOne;
        }
        assertEq(underOne, 5);
        // The real LiquidationLogic accepts it: half of borrower 0's USDC debt for its WETH plus 5% bonus.
        address user = aaveBorrowers[0];
        uint256 cover = 3_800e6;
        _fund(USDC, cover);
        IERC20(USDC).approve(aavePool, cover);
        uint256 before = IERC20(WETH).balanceOf(address(this));
        IAavePoolReads(aavePool).liquidationCall(WETH, USDC, user, cover, false);
        uint256 seized = IERC20(WETH).balanceOf(address(this)) - before;
        // 3,800 USD / 2,550 * 1.05 = 1.5647 WETH, less the protocol's 10% of the bonus.
        uint256 gross = uint256(3_800e18) * 10_500 / 10_000 / 2_550;
        uint256 fee = (gross - gross * 10_000 / 10_500) / 10;
        assertApproxEqAbs(seized, gross - fee, 1e12);
    }

    function test_borrowers_leaveFlashLiquidityWhole() public view {
        for (uint256 i; i < replicaTokens.length; ++i) {
            address asset = replicaTokens[i];
            address aToken = IAaveV3Pool(aavePool).getReserveData(asset).aTokenAddress;
            assertEq(IERC20(asset).balanceOf(aToken), _usd(asset, 5_000_000), tokenSymbol[asset]);
        }
    }

    function test_openPosition_makesMore() public {
        address user = _openPosition(_borrowerKey(100), 0, _legs(LINK, 10_000, AAVE_TOKEN, 10_000), _legs(WETH, 5_000));
        assertEq(aaveBorrowers[N_BORROWERS], user);
        assertEq(user.balance, BORROWER_GAS_MONEY);
        assertApproxEqAbs(IERC20(WETH).balanceOf(user), uint256(5_000e18) / 3_000, 1, "borrowed to the borrower");
        // (6.5k + 7k) / 5k
        assertApproxEqRel(_hf(user), 2.7e18, 0.0001e18);
    }
}
