// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {TokenLib} from "../../src/libraries/TokenLib.sol";
import {PoolLib} from "../../src/libraries/PoolLib.sol";
import {TokenLibReference} from "../reference/TokenLibReference.sol";
import {PoolLibReference} from "../reference/PoolLibReference.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";

/// @notice A token that returns nothing from transfer/approve (as USDT does on Ethereum): the executor must
///         accept it. Deliberately non-standard; not a stand-in for any protocol.
contract NoReturnToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function transfer(address to, uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }
}

/// @notice Calls each assembly helper or its reference; both run from the same contract and state.
contract LibHarness {
    address internal payToken; // what the V3 callback pays in (the executor keeps it in transient storage)

    function transfer(bool asm, address token, address to, uint256 amount) external {
        asm ? TokenLib.safeTransfer(token, to, amount) : TokenLibReference.safeTransfer(token, to, amount);
    }

    function approve(bool asm, address token, address spender, uint256 amount) external {
        asm ? TokenLib.safeApprove(token, spender, amount) : TokenLibReference.safeApprove(token, spender, amount);
    }

    function balanceOf(bool asm, address token, address account) external view returns (uint256) {
        return asm ? TokenLib.balanceOf(token, account) : TokenLibReference.balanceOf(token, account);
    }

    function allowance(bool asm, address token, address owner, address spender) external view returns (uint256) {
        return asm ? TokenLib.allowance(token, owner, spender) : TokenLibReference.allowance(token, owner, spender);
    }

    /// @dev Approves the Pool for `debtToCover` first (as the executor does), then liquidates.
    function liquidate(bool asm, address pool, address collateral, address debt, address user, uint256 debtToCover)
        external
    {
        TokenLib.safeApprove(debt, pool, debtToCover);
        asm
            ? PoolLib.liquidationCall(pool, collateral, debt, user, debtToCover)
            : PoolLibReference.liquidationCall(pool, collateral, debt, user, debtToCover);
    }

    function getReserves(bool asm, address pair) external view returns (uint256, uint256) {
        return asm ? PoolLib.getReserves(pair) : PoolLibReference.getReserves(pair);
    }

    function swapV2(bool asm, address pair, uint256 a0, uint256 a1, address to) external {
        asm ? PoolLib.swapV2(pair, a0, a1, to) : PoolLibReference.swapV2(pair, a0, a1, to);
    }

    function swapV3(bool asm, address pool, bool zeroForOne, uint256 amountIn, uint160 limit, address tokenIn)
        external
        returns (uint256)
    {
        payToken = tokenIn;
        return asm
            ? PoolLib.swapV3(pool, address(this), zeroForOne, amountIn, limit)
            : PoolLibReference.swapV3(pool, address(this), zeroForOne, amountIn, limit);
    }

    function uniswapV3SwapCallback(int256 a0, int256 a1, bytes calldata) external {
        TokenLibReference.safeTransfer(payToken, msg.sender, uint256(a0 > 0 ? a0 : a1));
    }
}

/// @notice Differential fuzz of TokenLib and PoolLib (assembly) against their references, on the replica's real
///         tokens and pools: from the same state, both give the same result, the same revert data and the same
///         balances afterwards.
contract TokenPoolLibDiffTest is Test, PolygonReplica {
    LibHarness internal h;
    NoReturnToken internal noReturn;

    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
        h = new LibHarness();
        noReturn = new NoReturnToken();
        noReturn.mint(address(h), 1e30);
        for (uint256 i; i < replicaTokens.length; ++i) {
            _fund(replicaTokens[i], _usd(replicaTokens[i], 1_000_000));
            require(IERC20(replicaTokens[i]).transfer(address(h), _usd(replicaTokens[i], 1_000_000)));
        }
    }

    /// @dev Runs `call` with asm=true and asm=false from the same snapshot; returns both outcomes.
    function _both(bytes memory asmCall, bytes memory refCall, address[] memory watch)
        internal
        returns (bytes memory asmOut, bytes memory refOut)
    {
        uint256 snap = vm.snapshotState();
        (bool okA, bytes memory a) = address(h).call(asmCall);
        uint256[] memory balA = _balances(watch);
        vm.revertToState(snap);
        (bool okR, bytes memory r) = address(h).call(refCall);
        uint256[] memory balR = _balances(watch);
        assertEq(okA, okR, "both succeed or both revert");
        assertEq(a, r, "same return or revert data");
        assertEq(keccak256(abi.encode(balA)), keccak256(abi.encode(balR)), "same balances after");
        return (a, r);
    }

    function _balances(address[] memory watch) internal view returns (uint256[] memory b) {
        b = new uint256[](watch.length * replicaTokens.length + watch.length);
        uint256 k;
        for (uint256 i; i < watch.length; ++i) {
            for (uint256 j; j < replicaTokens.length; ++j) {
                b[k++] = IERC20(replicaTokens[j]).balanceOf(watch[i]);
            }
            b[k++] = noReturn.balanceOf(watch[i]);
        }
    }

    function _token(uint256 i) internal view returns (address) {
        uint256 n = replicaTokens.length;
        i %= n + 3;
        if (i < n) return replicaTokens[i];
        if (i == n) return address(noReturn);
        if (i == n + 1) return address(0xdead); // no code
        return address(this); // code, but no ERC20 (reverts)
    }

    function test_fuzz_transfer_matchesReference(uint256 tokenIdx, address to, uint256 amount) public {
        address token = _token(tokenIdx);
        vm.assume(to != address(0));
        amount = bound(amount, 0, 2e30); // beyond the balance too
        address[] memory watch = new address[](2);
        (watch[0], watch[1]) = (address(h), to);
        _both(
            abi.encodeCall(h.transfer, (true, token, to, amount)),
            abi.encodeCall(h.transfer, (false, token, to, amount)),
            watch
        );
    }

    function test_fuzz_approve_matchesReference(uint256 tokenIdx, address spender, uint256 amount) public {
        address token = _token(tokenIdx);
        (bytes memory a,) = _both(
            abi.encodeCall(h.approve, (true, token, spender, amount)),
            abi.encodeCall(h.approve, (false, token, spender, amount)),
            new address[](0)
        );
        a;
    }

    function test_fuzz_balanceOf_matchesReference(uint256 tokenIdx, address account) public {
        address token = _token(tokenIdx);
        _both(
            abi.encodeCall(h.balanceOf, (true, token, account)),
            abi.encodeCall(h.balanceOf, (false, token, account)),
            new address[](0)
        );
    }

    function test_fuzz_getReserves_matchesReference(uint256 pairIdx) public {
        address pair = pairIdx % 4 == 0 ? address(uint160(pairIdx)) : v2Pairs[pairIdx % v2Pairs.length];
        _both(
            abi.encodeCall(h.getReserves, (true, pair)), abi.encodeCall(h.getReserves, (false, pair)), new address[](0)
        );
    }

    function test_fuzz_swapV2_matchesReference(uint256 pairIdx, bool zeroForOne, uint256 amountIn, uint256 askBps)
        public
    {
        address pair = v2Pairs[pairIdx % v2Pairs.length];
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        (uint256 rIn, uint256 rOut) = zeroForOne ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        amountIn = bound(amountIn, 1, rIn / 10);
        uint256 fair = amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
        uint256 ask = fair * bound(askBps, 9_000, 10_100) / 10_000; // sometimes more than K allows: both revert
        address tokenIn = zeroForOne ? IUniswapV2Pair(pair).token0() : IUniswapV2Pair(pair).token1();
        _fund(tokenIn, amountIn);
        require(IERC20(tokenIn).transfer(pair, amountIn));
        address[] memory watch = new address[](2);
        (watch[0], watch[1]) = (address(h), pair);
        (uint256 a0, uint256 a1) = zeroForOne ? (uint256(0), ask) : (ask, uint256(0));
        _both(
            abi.encodeCall(h.swapV2, (true, pair, a0, a1, address(h))),
            abi.encodeCall(h.swapV2, (false, pair, a0, a1, address(h))),
            watch
        );
    }

    function test_fuzz_swapV3_matchesReference(
        uint256 poolIdx,
        bool zeroForOne,
        uint256 usd,
        bool withLimit,
        uint256 limitTicks
    ) public {
        address pool = v3Pools[poolIdx % v3Pools.length];
        address tokenIn = zeroForOne ? IUniswapV3Pool(pool).token0() : IUniswapV3Pool(pool).token1();
        uint256 amountIn = _usd(tokenIn, bound(usd, 1, 900_000));
        uint160 limit;
        if (withLimit) {
            (uint160 p,,,,,,) = IUniswapV3Pool(pool).slot0();
            uint256 bps = bound(limitTicks, 1, 2000);
            limit = uint160(zeroForOne ? uint256(p) * (10_000 - bps) / 10_000 : uint256(p) * (10_000 + bps) / 10_000);
        }
        address[] memory watch = new address[](2);
        (watch[0], watch[1]) = (address(h), pool);
        _both(
            abi.encodeCall(h.swapV3, (true, pool, zeroForOne, amountIn, limit, tokenIn)),
            abi.encodeCall(h.swapV3, (false, pool, zeroForOne, amountIn, limit, tokenIn)),
            watch
        );
    }

    function test_fuzz_allowance_matchesReference(uint256 tokenIdx, address owner, address spender, uint256 amount)
        public
    {
        address token = _token(tokenIdx);
        if (tokenIdx % 2 == 0 && token.code.length > 0 && token != address(this)) {
            try h.approve(true, token, spender, amount) {} // a non-zero allowance to read back
                catch {}
            owner = address(h);
        }
        _both(
            abi.encodeCall(h.allowance, (true, token, owner, spender)),
            abi.encodeCall(h.allowance, (false, token, owner, spender)),
            new address[](0)
        );
    }

    /// @dev A real liquidation on the replica's Aave Pool (WETH collateral, USDC debt, HF pushed to 0.9..0.99):
    ///      same collateral received, same debt paid, same revert data (Aave's errors) for a healthy user, a
    ///      collateral the user does not have, or a non-reserve asset.
    function test_fuzz_liquidationCall_matchesReference(uint256 cover, uint256 hfBps, uint256 variant) public {
        AaveBorrowers.Position memory p =
            AaveBorrowers.open(aavePool, aaveOracle, "diff-borrower", WETH, 10e18, USDC, 9_900, WMATIC);
        if (variant % 5 != 0) {
            AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, p, bound(hfBps, 9_000, 9_990) * 1e14);
        }
        address collateral = [WETH, WETH, WETH, WBTC, address(noReturn)][variant % 5 == 0 ? 0 : variant % 5];
        cover = bound(cover, 0, 30_000e6);
        address[] memory watch = new address[](2);
        (watch[0], watch[1]) = (address(h), p.user);
        _both(
            abi.encodeCall(h.liquidate, (true, aavePool, collateral, USDC, p.user, cover)),
            abi.encodeCall(h.liquidate, (false, aavePool, collateral, USDC, p.user, cover)),
            watch
        );
    }
}
