// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {Artifacts} from "../../script/replica/Artifacts.sol";
import {IPoolConfigurator, InitReserveInput} from "../../script/replica/ReplicaInterfaces.sol";

interface IAavePriceOracle {
    function setAssetPrice(address asset, uint256 price) external;
    function getAssetPrice(address asset) external view returns (uint256);
}

interface IMintableToken {
    function mint(address account, uint256 value) external returns (bool);
}

interface IWrappedNative {
    function deposit() external payable;
}

/// @notice Borrowers on the replica's real Aave V3 Pool, for the liquidation tests: open a position (supply
///         collateral, borrow near the max), push its health factor under 1 through the replica's PriceOracle
///         (the npm mock: `setAssetPrice` is open to anyone), and Aave v3.0's own liquidation arithmetic written out
///         plainly, so tests predict a liquidation to the wei before the executor runs it.
/// @dev Self-contained on purpose (the replica script may gain borrowers of its own; these tests do not depend on
///      them). A library so both test contracts and invariant handlers can use it; it drives the cheatcodes itself.
library AaveBorrowers {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant CLOSE_FACTOR_HF_THRESHOLD = 0.95e18; // LiquidationLogic
    uint256 internal constant DEFAULT_CLOSE_FACTOR = 5_000; // bps, above the threshold
    uint256 internal constant MAX_CLOSE_FACTOR = 10_000; // bps, at or below it

    struct Position {
        address user;
        address collateral;
        address debt;
        uint256 supplied; // collateral units
        uint256 borrowed; // debt units
    }

    /// @dev A fresh user supplies `supplied` of `collateral` and borrows `bpsOfMax` basis points of what Aave lets
    ///      it borrow of `debt` (variable rate). `wmatic` is the replica's WMATIC (wrapped, not minted).
    function open(
        address pool,
        address oracle,
        string memory label,
        address collateral,
        uint256 supplied,
        address debt,
        uint256 bpsOfMax,
        address wmatic
    ) internal returns (Position memory p) {
        p.user = vm.addr(uint256(keccak256(abi.encode("flasharb/borrower", label))));
        vm.label(p.user, label);
        p.collateral = collateral;
        p.debt = debt;
        p.supplied = supplied;
        vm.startPrank(p.user);
        if (collateral == wmatic) {
            vm.deal(p.user, supplied);
            IWrappedNative(wmatic).deposit{value: supplied}();
        } else {
            IMintableToken(collateral).mint(p.user, supplied);
        }
        IERC20(collateral).approve(pool, supplied);
        IAaveV3Pool(pool).supply(collateral, supplied, p.user, 0);
        (,, uint256 availableBase,,,) = IAaveV3Pool(pool).getUserAccountData(p.user);
        uint256 unit = 10 ** IERC20(debt).decimals();
        p.borrowed = availableBase * unit / IAavePriceOracle(oracle).getAssetPrice(debt) * bpsOfMax / 10_000;
        IAaveV3Pool(pool).borrow(debt, p.borrowed, 2, 0, p.user);
        vm.stopPrank();
    }

    /// @dev Sets `asset`'s oracle price (8 decimals, USD base) so the health factor becomes `targetHf` (1e18 = 1):
    ///      the health factor of a one-collateral position is proportional to the collateral's price.
    function pushHealthFactor(address pool, address oracle, Position memory p, uint256 targetHf)
        internal
        returns (uint256 newPrice)
    {
        uint256 hf = healthFactor(pool, p.user);
        uint256 price = IAavePriceOracle(oracle).getAssetPrice(p.collateral);
        newPrice = price * targetHf / hf;
        IAavePriceOracle(oracle).setAssetPrice(p.collateral, newPrice);
    }

    /// @dev Lists `asset` (any ERC20, hostile ones included) as an Aave reserve usable as collateral, with the
    ///      replica's own parameters for volatile assets (LTV 70%, threshold 75%, bonus 7.5%). The caller must be the
    ///      replica's pool admin (the test contract that deployed it).
    function listCollateral(
        address pool,
        address provider,
        address configurator,
        address oracle,
        address asset,
        uint256 priceE8
    ) internal {
        string memory tok = "@aave/core-v3/artifacts/contracts/protocol/tokenization/";
        InitReserveInput[] memory input = new InitReserveInput[](1);
        input[0] = InitReserveInput(
            Artifacts.deploy(string.concat(tok, "AToken.sol/AToken.json"), abi.encode(pool)),
            Artifacts.deploy(string.concat(tok, "StableDebtToken.sol/StableDebtToken.json"), abi.encode(pool)),
            Artifacts.deploy(string.concat(tok, "VariableDebtToken.sol/VariableDebtToken.json"), abi.encode(pool)),
            IERC20(asset).decimals(),
            Artifacts.deploy(
                "@aave/core-v3/artifacts/contracts/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
                abi.encode(provider, 0.8e27, 0, 0.04e27, 0.75e27, 0.02e27, 0.75e27, 0.02e27, 0.05e27, 0.2e27)
            ),
            asset,
            address(this),
            address(0),
            "Aave test collateral",
            "aTEST",
            "Aave test variable debt",
            "vTEST",
            "Aave test stable debt",
            "sTEST",
            ""
        );
        IPoolConfigurator(configurator).initReserves(input);
        IAavePriceOracle(oracle).setAssetPrice(asset, priceE8);
        IPoolConfigurator(configurator).configureReserveAsCollateral(asset, 7000, 7500, 10750);
    }

    function healthFactor(address pool, address user) internal view returns (uint256 hf) {
        (,,,,, hf) = IAaveV3Pool(pool).getUserAccountData(user);
    }

    /// @dev `user`'s variable debt in `asset`.
    function debtOf(address pool, address user, address asset) internal view returns (uint256) {
        return IERC20(IAaveV3Pool(pool).getReserveData(asset).variableDebtTokenAddress).balanceOf(user);
    }

    /// @dev `user`'s collateral (aToken balance) in `asset`.
    function collateralOf(address pool, address user, address asset) internal view returns (uint256) {
        return IERC20(IAaveV3Pool(pool).getReserveData(asset).aTokenAddress).balanceOf(user);
    }

    /// @dev What `liquidationCall(collateral, debt, user, debtToCover, false)` would do now, by Aave v3.0's rules
    ///      (LiquidationLogic._calculateDebt and _calculateAvailableCollateralToLiquidate, the reserve's protocol fee
    ///      included; no e-mode): the debt it takes and the collateral the liquidator receives.
    function quote(address pool, address oracle, Position memory p, uint256 debtToCover)
        internal
        view
        returns (uint256 debtTaken, uint256 seized)
    {
        uint256 totalDebt = debtOf(pool, p.user, p.debt);
        uint256 closeFactor =
            healthFactor(pool, p.user) > CLOSE_FACTOR_HF_THRESHOLD ? DEFAULT_CLOSE_FACTOR : MAX_CLOSE_FACTOR;
        uint256 maxDebt = _percentMul(totalDebt, closeFactor);
        debtTaken = debtToCover > maxDebt ? maxDebt : debtToCover;

        uint256 config = IAaveV3Pool(pool).getReserveData(p.collateral).configuration;
        uint256 bonus = (config >> 32) & 0xffff;
        // collateral value per debt unit, as Aave scales it: price * unit of the other side
        uint256 debtScale = IAavePriceOracle(oracle).getAssetPrice(p.debt) * 10 ** IERC20(p.collateral).decimals();
        uint256 collateralScale = IAavePriceOracle(oracle).getAssetPrice(p.collateral) * 10 ** IERC20(p.debt).decimals();
        uint256 userCollateral = collateralOf(pool, p.user, p.collateral);

        seized = _percentMul(debtScale * debtTaken / collateralScale, bonus);
        if (seized > userCollateral) {
            // Not enough collateral: all of it goes, and only the debt it covers is taken.
            seized = userCollateral;
            debtTaken = _percentDiv(collateralScale * seized / debtScale, bonus);
        }
        // The protocol's cut of the bonus goes to the treasury (as aTokens), not to the liquidator.
        uint256 feeBps = (config >> 152) & 0xffff;
        if (feeBps != 0) seized -= _percentMul(seized - _percentDiv(seized, bonus), feeBps);
    }

    function _percentMul(uint256 value, uint256 bps) private pure returns (uint256) {
        return (value * bps + 5_000) / 10_000; // PercentageMath: half up
    }

    function _percentDiv(uint256 value, uint256 bps) private pure returns (uint256) {
        return (value * 10_000 + bps / 2) / bps;
    }
}
