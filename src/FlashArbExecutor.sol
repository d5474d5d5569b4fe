// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorAccess} from "./base/ExecutorAccess.sol";
import {AaveV3Lender} from "./lenders/AaveV3Lender.sol";
import {BalancerV2Lender} from "./lenders/BalancerV2Lender.sol";
import {PlanLib} from "./libraries/PlanLib.sol";
import {PoolLib} from "./libraries/PoolLib.sol";
import {TokenLib} from "./libraries/TokenLib.sol";
import {IFlashArbExecutor} from "./interfaces/IFlashArbExecutor.sol";

/// @title FlashArbExecutor
/// @notice Executes arbitrage plans (docs/route-encoding.md) over Uniswap V2-style pairs and V3-style pools, or an
///         Aave V3 liquidation whose collateral is sold back through them, funded by an Aave V3 or Balancer V2 flash
///         loan or by its own balance, and reverts unless the run earns at least the plan's min profit.
///         No selfdestruct, no delegatecall, no standing approvals.
contract FlashArbExecutor is ExecutorAccess, AaveV3Lender, BalancerV2Lender {
    uint256 internal constant LENDER_CAPITAL = 0;
    uint256 internal constant LENDER_AAVE_SIMPLE = 1;
    uint256 internal constant LENDER_AAVE_MULTI = 2;
    uint256 internal constant LENDER_BALANCER = 3;

    constructor(address owner_, address aavePool, address balancerVault, address profitReceiver_)
        ExecutorAccess(owner_, profitReceiver_)
        AaveV3Lender(aavePool)
        BalancerV2Lender(balancerVault)
    {}

    // ------------------------------------------------------------------ runs

    /// @inheritdoc IFlashArbExecutor
    function execute(bytes calldata plan) external onlyExecutorOrOwner returns (uint256 profit) {
        assembly ("memory-safe") {
            if tload(RUN_SLOT) {
                mstore(0x00, 0x751a9183) // RunActive()
                revert(0x1c, 0x04)
            }
            tstore(RUN_SLOT, 1)
        }
        PlanLib.Header memory h = PlanLib.validate(plan);
        if (block.number > h.deadline) revert PlanExpired(h.deadline, block.number);

        uint256 lender = h.lender; // validate() bounds it to the four known lenders
        if (lender == LENDER_CAPITAL) _runFunded(plan, h.token, h.amountIn, 0);
        else if (lender == LENDER_AAVE_SIMPLE) _borrowAaveSimple(h.token, h.amountIn, plan);
        else if (lender == LENDER_AAVE_MULTI) _borrowAaveMulti(h.token, h.amountIn, plan);
        else _borrowBalancer(h.token, h.amountIn, plan);

        profit = _profit();
        assembly ("memory-safe") {
            tstore(RUN_SLOT, 0)
            tstore(PROFIT_SLOT, 0)
        }
    }

    /// @dev Steps, then the min-profit check. `amount` of `token` is in hand (borrowed or own) and `fee` is owed
    ///      on top of it, so profit = end balance - start balance - fee, both balances taken before repayment.
    function _runFunded(bytes calldata plan, address token, uint256 amount, uint256 fee) internal override {
        uint256 start = TokenLib.balanceOf(token, address(this));
        _runSteps(plan, token, amount);
        uint256 end = TokenLib.balanceOf(token, address(this));
        uint256 minProfit;
        assembly ("memory-safe") {
            minProfit := shr(128, calldataload(add(plan.offset, 43)))
        }
        uint256 need = start + fee + minProfit;
        if (end < need) revert InsufficientProfit(need - end);
        uint256 profit = end - start - fee;
        _setProfit(profit);
        emit RunExecuted(fee, profit);
    }

    /// @dev Walks the validated steps. Each step's output goes straight to the next step when that is a V2 pair
    ///      (which is paid before its swap); otherwise to this contract (a V3 pool is paid in its callback). A V3
    ///      step is handed what really arrived here, measured by balance, not what the previous pool reported, so
    ///      a lying pool cannot make a later step spend the executor's holdings of an intermediate token.
    function _runSteps(bytes calldata plan, address token, uint256 amount) private {
        uint256 steps;
        assembly ("memory-safe") {
            steps := byte(2, calldataload(plan.offset))
        }
        uint256 ptr = PlanLib.HEADER_SIZE;
        (uint256 op, address pool) = PlanLib.stepAt(plan, ptr);
        uint256 i;
        if (op & 0x0f == PlanLib.KIND_V2) {
            TokenLib.safeTransfer(token, pool, amount);
        } else if (op & 0x0f == PlanLib.KIND_LIQUIDATION) {
            // validate(): only ever the first step. Its output is the seized collateral, here; a V2 next step is
            // paid from here, a V3 one in its callback.
            address collateral = pool;
            amount = _liquidate(plan, token, ptr, amount);
            ptr += PlanLib.LIQUIDATION_STEP_SIZE;
            (op, pool) = PlanLib.stepAt(plan, ptr);
            if (op & 0x0f == PlanLib.KIND_V2) TokenLib.safeTransfer(collateral, pool, amount);
            i = 1;
        }

        for (; i < steps; ++i) {
            uint256 next = ptr + PlanLib.stepSize(op);
            uint256 nextOp;
            address nextPool;
            if (i + 1 < steps) (nextOp, nextPool) = PlanLib.stepAt(plan, next);

            if (nextOp & 0x0f == PlanLib.KIND_V3) {
                amount = _stepBeforeV3(plan, token, ptr, op, pool, amount, next, nextOp);
            } else {
                amount = _step(plan, ptr, op, pool, amount, nextOp == 0 ? address(this) : nextPool);
            }
            (ptr, op, pool) = (next, nextOp, nextPool);
        }
    }

    /// @dev The Aave V3 liquidation step: repays up to `debtToCover` of `user`'s `debt` on the executor's own Aave
    ///      Pool (never an address from the plan) and returns the collateral seized, measured by balance. The Pool
    ///      may take less than `debtToCover` (close factor, small positions): what it leaves stays here and counts
    ///      in the run's final balance, and the unused allowance is cleared, so no approval outlives the step.
    function _liquidate(bytes calldata plan, address debt, uint256 ptr, uint256 debtToCover)
        private
        returns (uint256 seized)
    {
        (address collateral, address user) = PlanLib.liquidationFields(plan, ptr);
        address aavePool = AAVE_POOL;
        uint256 before = TokenLib.balanceOf(collateral, address(this));
        TokenLib.safeApprove(debt, aavePool, debtToCover);
        PoolLib.liquidationCall(aavePool, collateral, debt, user, debtToCover);
        if (TokenLib.allowance(debt, address(this), aavePool) != 0) TokenLib.safeApprove(debt, aavePool, 0);
        seized = TokenLib.balanceOf(collateral, address(this)) - before;
    }

    /// @dev A step whose output this contract must hold for the next (V3) step: returns what really arrived.
    function _stepBeforeV3(
        bytes calldata plan,
        address token,
        uint256 ptr,
        uint256 op,
        address pool,
        uint256 amount,
        uint256 next,
        uint256 nextOp
    ) private returns (uint256) {
        (address held,) = PlanLib.v3Fields(plan, next, nextOp);
        // The loan token is checked by balance at the end of the run.
        if (held == token) return _step(plan, ptr, op, pool, amount, address(this));
        uint256 before = TokenLib.balanceOf(held, address(this));
        _step(plan, ptr, op, pool, amount, address(this));
        return TokenLib.balanceOf(held, address(this)) - before;
    }

    function _step(bytes calldata plan, uint256 ptr, uint256 op, address pool, uint256 amount, address recipient)
        private
        returns (uint256 amountOut)
    {
        bool zeroForOne = op & PlanLib.FLAG_ZERO_FOR_ONE != 0;
        if (op & 0x0f == PlanLib.KIND_V2) {
            return _swapV2(pool, zeroForOne, PlanLib.v2Fee(plan, ptr), amount, recipient);
        }
        (address tokenIn, uint160 limit) = PlanLib.v3Fields(plan, ptr, op);
        assembly ("memory-safe") {
            tstore(POOL_SLOT, pool)
            tstore(POOL_MAX_PAY_SLOT, amount)
            tstore(POOL_TOKEN_SLOT, tokenIn)
        }
        amountOut = PoolLib.swapV3(pool, recipient, zeroForOne, amount, limit);
        assembly ("memory-safe") {
            // A pool that never asked to be paid is no V3 pool; it must not leave the callback armed either.
            if tload(POOL_SLOT) {
                mstore(0x00, 0xbe92a6e9) // PoolCallFailed(address)
                mstore(0x20, pool)
                revert(0x1c, 0x24)
            }
        }
    }

    /// @dev The pair's own constant-product formula at `feePips` millionths, then the swap.
    function _swapV2(address pair, bool zeroForOne, uint256 feePips, uint256 amountIn, address to)
        private
        returns (uint256 amountOut)
    {
        (uint256 reserve0, uint256 reserve1) = PoolLib.getReserves(pair);
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        // Unchecked: a real pair's reserves are uint112 and amounts stay far below 2^128, so nothing overflows;
        // a fake pair could make this garbage, which a real next pair (K check) or the final balance check rejects.
        unchecked {
            uint256 inWithFee = amountIn * (1e6 - feePips); // feePips < 1e6: PlanLib.validate
            amountOut = inWithFee * reserveOut / (reserveIn * 1e6 + inWithFee);
        }
        if (zeroForOne) PoolLib.swapV2(pair, 0, amountOut, to);
        else PoolLib.swapV2(pair, amountOut, 0, to);
    }

    /// @notice Uniswap V3 swap callback: pays the pool of the step in progress, once, at most the step's input,
    ///         in the step's input token. `data` is ignored: the calling pool controls it.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        address tokenIn;
        uint256 pay;
        assembly ("memory-safe") {
            if iszero(eq(caller(), tload(POOL_SLOT))) {
                mstore(0x00, 0xdab1e993) // UnexpectedCallback()
                revert(0x1c, 0x04)
            }
            tstore(POOL_SLOT, 0)
            pay := amount0Delta
            if iszero(sgt(pay, 0)) { pay := amount1Delta }
            let allowed := tload(POOL_MAX_PAY_SLOT)
            if gt(pay, allowed) {
                mstore(0x00, 0x08aed925) // ExcessivePayment(uint256,uint256)
                mstore(0x20, pay)
                mstore(0x40, allowed)
                revert(0x1c, 0x44)
            }
            tokenIn := tload(POOL_TOKEN_SLOT)
        }
        TokenLib.safeTransfer(tokenIn, msg.sender, pay);
    }

    // ------------------------------------------------------------------ funds

    /// @inheritdoc IFlashArbExecutor
    function sweep(address token, uint256 amount) external onlyExecutorOrOwner {
        address receiver = profitReceiver;
        TokenLib.safeTransfer(token, receiver, amount);
        emit Swept(token, receiver, amount);
    }

    /// @inheritdoc IFlashArbExecutor
    function rescue(address token, address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert ZeroAddress();
        TokenLib.safeTransfer(token, to, amount);
        emit Rescued(token, to, amount);
    }
}
