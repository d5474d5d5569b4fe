// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    IAaveV3PoolViews,
    IAaveV3AddressesProvider,
    IAaveV3PriceOracle,
    IAaveV3ScaledBalanceToken
} from "../interfaces/external/IAaveV3Market.sol";
import {IERC20} from "../interfaces/external/IERC20.sol";

/// @title AaveLens
/// @notice Reads an Aave V3 market (every reserve's state and oracle price, the e-mode categories) and many
///         borrowers' positions in one `eth_call` each. Nothing needs deploying: the bot places this contract's
///         runtime code at any address with an `eth_call` state override and calls it there (it also works
///         deployed). Every function is a view that holds no state.
/// @dev Written against v3.0-v3.1 (Pool revisions 1-3). From v3.2 on `getReserveData` and `getEModeCategoryData`
///      remain as legacy getters with the same shapes, and the e-mode collateral/borrowable bitmaps are read when
///      the Pool answers them (zero before). The addresses provider and its Pool must answer (else the call
///      reverts); a reserve, price, e-mode category or user that cannot be read comes back with `ok = false`
///      (categories: left out) and never fails the batch. Each read is a gas-capped `staticcall` that copies a
///      fixed number of words (no return bomb); the one dynamic answer (an e-mode category's label) is decoded in
///      a gas-capped call to this contract itself.
contract AaveLens {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice One reserve. `ok`: `getReserveData` answered 15 words whose fields fit their types; `priceOk`: the
    ///         oracle answered.
    struct Reserve {
        bool ok;
        uint16 id;
        address asset;
        uint256 configuration;
        uint128 liquidityIndex;
        uint128 variableBorrowIndex;
        uint128 currentLiquidityRate;
        uint128 currentVariableBorrowRate;
        uint40 lastUpdateTimestamp;
        address aToken;
        address variableDebtToken;
        address stableDebtToken;
        bool priceOk;
        uint256 price;
    }

    /// @notice One e-mode category that exists (liquidation threshold not zero). `price` is the oracle's price of
    ///         `priceSource` when set (v3.0-v3.1); the bitmaps are v3.2+'s (zero before).
    struct EMode {
        uint8 id;
        uint16 ltv;
        uint16 liquidationThreshold;
        uint16 liquidationBonus;
        address priceSource;
        uint256 price;
        uint128 collateralBitmap;
        uint128 borrowableBitmap;
        string label;
    }

    /// @notice A market at one block. `poolRevision` is 0 when the Pool has no `POOL_REVISION`;
    ///         `baseCurrencyUnit` is 1e8 when the oracle has no `BASE_CURRENCY_UNIT`.
    struct Market {
        uint256 blockNumber;
        uint256 blockTimestamp;
        address pool;
        address oracle;
        uint256 poolRevision;
        uint256 baseCurrencyUnit;
        Reserve[] reserves;
        EMode[] eModes;
    }

    /// @notice A user's balances in one reserve it touches: aToken and variable debt scaled balances, stable debt
    ///         `balanceOf` (0 when the reserve has no stable debt token).
    struct Balance {
        uint16 reserveId;
        address asset;
        uint256 scaledCollateral;
        uint256 scaledVariableDebt;
        uint256 stableDebt;
    }

    /// @notice A user's position. `ok = false` when any of its reads failed (then the other fields are partial).
    struct Position {
        bool ok;
        address user;
        uint256 configuration;
        uint256 eMode;
        Balance[] balances;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Gas given to each read; an honest getter costs under 30k, a hostile target burns no more.
    uint256 public constant CALL_GAS = 100_000;
    /// @notice Gas given to reading one e-mode category (its getters and the label's decoding).
    uint256 public constant EMODE_GAS = 300_000;
    /// @notice The base currency unit assumed when the oracle does not say (USD with 8 decimals).
    uint256 public constant DEFAULT_BASE_CURRENCY_UNIT = 1e8;

    uint256 internal constant RESERVE_WORDS = 15;

    /*//////////////////////////////////////////////////////////////
                                 READS
    //////////////////////////////////////////////////////////////*/

    /// @notice The market behind `provider`: every reserve of `getReservesList()` in order, with its oracle
    ///         price, and the e-mode categories 1..`maxEModeId` that exist.
    function market(address provider, uint8 maxEModeId) external view returns (Market memory m) {
        m.blockNumber = block.number;
        m.blockTimestamp = block.timestamp;
        m.pool = IAaveV3AddressesProvider(provider).getPool();
        m.oracle = IAaveV3AddressesProvider(provider).getPriceOracle();
        (, m.poolRevision) = _word(m.pool, abi.encodeCall(IAaveV3PoolViews.POOL_REVISION, ()));
        (bool ok, uint256 unit) = _word(m.oracle, abi.encodeCall(IAaveV3PriceOracle.BASE_CURRENCY_UNIT, ()));
        m.baseCurrencyUnit = ok && unit != 0 ? unit : DEFAULT_BASE_CURRENCY_UNIT;
        m.reserves = _reserves(m.pool, m.oracle);
        m.eModes = _eModes(m.pool, m.oracle, maxEModeId);
    }

    /// @notice Each user's configuration, e-mode and balances in the reserves its configuration touches.
    function positions(address provider, address[] calldata users)
        external
        view
        returns (uint256 blockNumber, Position[] memory out)
    {
        blockNumber = block.number;
        address pool = IAaveV3AddressesProvider(provider).getPool();
        Reserve[] memory reserves = _reserves(pool, address(0));
        out = new Position[](users.length);
        for (uint256 i; i < users.length; ++i) {
            out[i] = _position(pool, reserves, users[i]);
        }
    }

    /// @notice One e-mode category; called by this contract on itself so that a malformed answer only fails it.
    function readEMode(address pool, address oracle, uint8 id) external view returns (EMode memory e) {
        IAaveV3PoolViews.EModeCategory memory c = IAaveV3PoolViews(pool).getEModeCategoryData(id);
        e.id = id;
        e.ltv = c.ltv;
        e.liquidationThreshold = c.liquidationThreshold;
        e.liquidationBonus = c.liquidationBonus;
        e.priceSource = c.priceSource;
        e.label = c.label;
        if (c.priceSource != address(0)) {
            (, e.price) = _word(oracle, abi.encodeCall(IAaveV3PriceOracle.getAssetPrice, (c.priceSource)));
        }
        (bool ok, uint256 bits) = _word(pool, abi.encodeCall(IAaveV3PoolViews.getEModeCategoryCollateralBitmap, (id)));
        if (ok && bits <= type(uint128).max) e.collateralBitmap = uint128(bits);
        (ok, bits) = _word(pool, abi.encodeCall(IAaveV3PoolViews.getEModeCategoryBorrowableBitmap, (id)));
        if (ok && bits <= type(uint128).max) e.borrowableBitmap = uint128(bits);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Every listed reserve; prices only when `oracle` is set.
    function _reserves(address pool, address oracle) private view returns (Reserve[] memory out) {
        address[] memory assets = IAaveV3PoolViews(pool).getReservesList();
        out = new Reserve[](assets.length);
        for (uint256 i; i < assets.length; ++i) {
            Reserve memory r = out[i];
            r.asset = assets[i];
            _reserveData(pool, r);
            if (oracle != address(0)) {
                (r.priceOk, r.price) = _word(oracle, abi.encodeCall(IAaveV3PriceOracle.getAssetPrice, (r.asset)));
            }
        }
    }

    function _reserveData(address pool, Reserve memory r) private view {
        (bool ok, uint256[] memory w) =
            _read(pool, abi.encodeCall(IAaveV3PoolViews.getReserveData, (r.asset)), RESERVE_WORDS);
        // Indexes and rates uint128, timestamp uint40, id uint16, the three tokens addresses.
        if (
            !ok || (w[1] | w[2] | w[3] | w[4]) > type(uint128).max || w[6] > type(uint40).max || w[7] > type(uint16).max
                || (w[8] | w[9] | w[10]) > type(uint160).max
        ) return;
        r.ok = true;
        r.configuration = w[0];
        r.liquidityIndex = uint128(w[1]);
        r.currentLiquidityRate = uint128(w[2]);
        r.variableBorrowIndex = uint128(w[3]);
        r.currentVariableBorrowRate = uint128(w[4]);
        r.lastUpdateTimestamp = uint40(w[6]);
        r.id = uint16(w[7]);
        r.aToken = address(uint160(w[8]));
        r.stableDebtToken = address(uint160(w[9]));
        r.variableDebtToken = address(uint160(w[10]));
    }

    function _eModes(address pool, address oracle, uint8 maxId) private view returns (EMode[] memory out) {
        out = new EMode[](maxId);
        uint256 n;
        for (uint256 id = 1; id <= maxId; ++id) {
            try this.readEMode{gas: EMODE_GAS}(pool, oracle, uint8(id)) returns (EMode memory e) {
                if (e.liquidationThreshold != 0) out[n++] = e;
            } catch {}
        }
        assembly ("memory-safe") {
            mstore(out, n) // shrink to the categories found
        }
    }

    function _position(address pool, Reserve[] memory reserves, address user) private view returns (Position memory p) {
        p.user = user;
        (bool okConfig, uint256 config) = _word(pool, abi.encodeCall(IAaveV3PoolViews.getUserConfiguration, (user)));
        (bool okEMode, uint256 eMode) = _word(pool, abi.encodeCall(IAaveV3PoolViews.getUserEMode, (user)));
        p.configuration = config;
        p.eMode = eMode;
        p.ok = okConfig && okEMode;
        p.balances = new Balance[](reserves.length);
        uint256 known; // the bit pairs of the reserves read
        uint256 n;
        for (uint256 i; i < reserves.length; ++i) {
            Reserve memory r = reserves[i];
            if (!r.ok) continue;
            uint256 shift = uint256(r.id) * 2;
            known |= 3 << shift;
            if ((config >> shift) & 3 == 0) continue;
            Balance memory b = p.balances[n++];
            b.reserveId = r.id;
            b.asset = r.asset;
            bool ok;
            (ok, b.scaledCollateral) =
                _word(r.aToken, abi.encodeCall(IAaveV3ScaledBalanceToken.scaledBalanceOf, (user)));
            p.ok = p.ok && ok;
            (ok, b.scaledVariableDebt) =
                _word(r.variableDebtToken, abi.encodeCall(IAaveV3ScaledBalanceToken.scaledBalanceOf, (user)));
            p.ok = p.ok && ok;
            if (r.stableDebtToken != address(0)) {
                (ok, b.stableDebt) = _word(r.stableDebtToken, abi.encodeCall(IERC20.balanceOf, (user)));
                p.ok = p.ok && ok;
            }
        }
        // The user touches a reserve that could not be read (or that the list does not have): its position is partial.
        if (config & ~known != 0) p.ok = false;
        Balance[] memory balances = p.balances;
        assembly ("memory-safe") {
            mstore(balances, n) // shrink to the reserves touched
        }
    }

    /// @dev One word of a gas-capped `staticcall`; `ok` only if the call succeeded with at least 32 bytes.
    function _word(address target, bytes memory data) private view returns (bool ok, uint256 value) {
        uint256[] memory w;
        (ok, w) = _read(target, data, 1);
        value = ok ? w[0] : 0;
    }

    /// @dev The first `words` words of a gas-capped `staticcall`, copied without touching the rest of the answer.
    function _read(address target, bytes memory data, uint256 words)
        private
        view
        returns (bool ok, uint256[] memory out)
    {
        out = new uint256[](words);
        uint256 gasCap = CALL_GAS;
        assembly ("memory-safe") {
            let size := mul(words, 0x20)
            ok := staticcall(gasCap, target, add(data, 0x20), mload(data), add(out, 0x20), size)
            ok := and(ok, iszero(lt(returndatasize(), size)))
        }
    }
}
