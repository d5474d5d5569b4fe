// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Admin-side interfaces of the real protocols, used only to stand the replica up.

interface IWETH9 {
    function deposit() external payable;
    function withdraw(uint256) external;
}

interface IMintableERC20 {
    function mint(address account, uint256 value) external returns (bool);
}

interface IPoolAddressesProvider {
    function setACLAdmin(address) external;
    function setACLManager(address) external;
    function setPoolImpl(address) external;
    function setPoolConfiguratorImpl(address) external;
    function setPriceOracle(address) external;
    function setPoolDataProvider(address) external;
    function getPool() external view returns (address);
    function getPoolConfigurator() external view returns (address);
}

interface IACLManager {
    function addPoolAdmin(address) external;
    function addEmergencyAdmin(address) external;
    function addRiskAdmin(address) external;
}

interface IAaveOracleAdmin {
    function setAssetPrice(address asset, uint256 price) external;
    function getAssetPrice(address asset) external view returns (uint256);
}

struct InitReserveInput {
    address aTokenImpl;
    address stableDebtTokenImpl;
    address variableDebtTokenImpl;
    uint8 underlyingAssetDecimals;
    address interestRateStrategyAddress;
    address underlyingAsset;
    address treasury;
    address incentivesController;
    string aTokenName;
    string aTokenSymbol;
    string variableDebtTokenName;
    string variableDebtTokenSymbol;
    string stableDebtTokenName;
    string stableDebtTokenSymbol;
    bytes params;
}

interface IPoolConfigurator {
    function initReserves(InitReserveInput[] calldata input) external;
    function configureReserveAsCollateral(address asset, uint256 ltv, uint256 liquidationThreshold, uint256 bonus)
        external;
    function setReserveBorrowing(address asset, bool enabled) external;
    function setReserveFlashLoaning(address asset, bool enabled) external;
    function setReserveFactor(address asset, uint256 newReserveFactor) external;
    function updateFlashloanPremiumTotal(uint128 newFlashloanPremiumTotal) external;
    function updateFlashloanPremiumToProtocol(uint128 newFlashloanPremiumToProtocol) external;
    function setLiquidationProtocolFee(address asset, uint256 newFee) external;
    /// @dev v3.0-v3.1 signature (v3.2 dropped the price source).
    function setEModeCategory(
        uint8 categoryId,
        uint16 ltv,
        uint16 liquidationThreshold,
        uint16 liquidationBonus,
        address oracle,
        string calldata label
    ) external;
    function setAssetEModeCategory(address asset, uint8 newCategoryId) external;
}

/// @dev What a position holder calls on the Pool beyond `IAaveV3Pool` (e-mode, withdraw).
interface IAavePoolUser {
    function setUserEMode(uint8 categoryId) external;
    function withdraw(address asset, uint256 amount, address to) external returns (uint256);
}
