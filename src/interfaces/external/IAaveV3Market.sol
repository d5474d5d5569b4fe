// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The read-only Aave V3 Pool views a market reader needs (v3.0-v3.1 signatures; v3.2+ keeps them as
///         "legacy" getters and adds the e-mode bitmaps).
interface IAaveV3PoolViews {
    /// @notice One e-mode category as v3.0-v3.1 store it (v3.2+: `getEModeCategoryData` still answers this shape,
    ///         with `priceSource` zero).
    struct EModeCategory {
        uint16 ltv;
        uint16 liquidationThreshold;
        uint16 liquidationBonus;
        address priceSource;
        string label;
    }

    /// @notice The reserves' underlying assets, dropped reserves left out (so list index != reserve id).
    function getReservesList() external view returns (address[] memory);
    /// @notice The reserve's state: 15 words (`DataTypes.ReserveData`, v3.2+: `ReserveDataLegacy`).
    function getReserveData(address asset) external view returns (uint256[15] memory);
    /// @notice The user's configuration bitmap: bit 2*id borrowing, bit 2*id+1 using as collateral.
    function getUserConfiguration(address user) external view returns (uint256);
    /// @notice The user's e-mode category (0: none).
    function getUserEMode(address user) external view returns (uint256);
    /// @notice An e-mode category; all zero when it does not exist.
    function getEModeCategoryData(uint8 id) external view returns (EModeCategory memory);
    /// @notice v3.2+: the reserves (bit per id) usable as collateral in the category.
    function getEModeCategoryCollateralBitmap(uint8 id) external view returns (uint128);
    /// @notice v3.2+: the reserves (bit per id) borrowable in the category.
    function getEModeCategoryBorrowableBitmap(uint8 id) external view returns (uint128);
    /// @notice The implementation's revision (1: v3.0.x).
    function POOL_REVISION() external view returns (uint256);
}

/// @notice The Aave V3 PoolAddressesProvider getters a reader needs.
interface IAaveV3AddressesProvider {
    /// @notice The Pool proxy.
    function getPool() external view returns (address);
    /// @notice The price oracle (AaveOracle on live markets).
    function getPriceOracle() external view returns (address);
}

/// @notice Aave's price oracle (`IPriceOracleGetter`).
interface IAaveV3PriceOracle {
    /// @notice The asset's price in base currency units.
    function getAssetPrice(address asset) external view returns (uint256);
    /// @notice One unit of the base currency (1e8 on USD markets); the mock oracle lacks it.
    function BASE_CURRENCY_UNIT() external view returns (uint256);
}

/// @notice aTokens and variable debt tokens: balances before the index is applied.
interface IAaveV3ScaledBalanceToken {
    /// @notice The user's balance divided by the reserve's index at the last update.
    function scaledBalanceOf(address user) external view returns (uint256);
}
