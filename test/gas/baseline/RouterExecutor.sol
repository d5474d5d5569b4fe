// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Router02} from "../../../src/interfaces/external/IUniswapV2.sol";
import {ISwapRouter} from "../../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../../src/interfaces/external/IAaveV3.sol";
import {IBalancerVault} from "../../../src/interfaces/external/IBalancerVault.sol";

/// @notice The common design the benchmark compares against, written the way a typical bot writes it: take the
///         flash loan, and in the callback approve and call the real periphery routers hop by hop
///         (UniswapV2Router02.swapExactTokensForTokens, V3 SwapRouter.exactInputSingle), check the output covers
///         the loan, premium and min profit, repay. Plain Solidity, ABI-encoded parameters, no assembly.
contract RouterExecutor {
    enum Dex {
        V2,
        V3
    }

    struct Hop {
        Dex dex;
        address router;
        address tokenIn;
        address tokenOut;
        uint24 fee; // V3 pool fee
    }

    struct Params {
        uint8 lender; // 0 capital, 1 Aave flashLoanSimple, 2 Balancer
        address token;
        uint256 amountIn;
        uint256 minProfit;
        Hop[] hops;
    }

    address public immutable owner;
    IAaveV3Pool public immutable aavePool;
    IBalancerVault public immutable balancerVault;

    constructor(address owner_, address aavePool_, address balancerVault_) {
        owner = owner_;
        aavePool = IAaveV3Pool(aavePool_);
        balancerVault = IBalancerVault(balancerVault_);
    }

    function execute(Params calldata p) external {
        require(msg.sender == owner, "not owner");
        if (p.lender == 0) {
            uint256 out = _swapAll(p.hops, p.amountIn);
            require(out >= p.amountIn + p.minProfit, "not profitable");
        } else if (p.lender == 1) {
            aavePool.flashLoanSimple(address(this), p.token, p.amountIn, abi.encode(p), 0);
        } else {
            address[] memory tokens = new address[](1);
            uint256[] memory amounts = new uint256[](1);
            tokens[0] = p.token;
            amounts[0] = p.amountIn;
            balancerVault.flashLoan(address(this), tokens, amounts, abi.encode(p));
        }
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata data)
        external
        returns (bool)
    {
        require(msg.sender == address(aavePool), "not aave");
        require(initiator == address(this), "not initiator");
        Params memory p = abi.decode(data, (Params));
        uint256 out = _swapAll(p.hops, amount);
        require(out >= amount + premium + p.minProfit, "not profitable");
        IERC20(asset).approve(address(aavePool), amount + premium);
        return true;
    }

    function receiveFlashLoan(
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata data
    ) external {
        require(msg.sender == address(balancerVault), "not balancer");
        Params memory p = abi.decode(data, (Params));
        uint256 out = _swapAll(p.hops, amounts[0]);
        require(out >= amounts[0] + feeAmounts[0] + p.minProfit, "not profitable");
        require(IERC20(tokens[0]).transfer(address(balancerVault), amounts[0] + feeAmounts[0]), "repay failed");
    }

    function _swapAll(Hop[] memory hops, uint256 amount) internal returns (uint256) {
        for (uint256 i = 0; i < hops.length; i++) {
            Hop memory h = hops[i];
            IERC20(h.tokenIn).approve(h.router, amount);
            if (h.dex == Dex.V2) {
                address[] memory path = new address[](2);
                path[0] = h.tokenIn;
                path[1] = h.tokenOut;
                uint256[] memory amounts = IUniswapV2Router02(h.router)
                    .swapExactTokensForTokens(amount, 0, path, address(this), block.timestamp);
                amount = amounts[1];
            } else {
                amount = ISwapRouter(h.router)
                    .exactInputSingle(
                        ISwapRouter.ExactInputSingleParams({
                        tokenIn: h.tokenIn,
                        tokenOut: h.tokenOut,
                        fee: h.fee,
                        recipient: address(this),
                        deadline: block.timestamp,
                        amountIn: amount,
                        amountOutMinimum: 0,
                        sqrtPriceLimitX96: 0
                    })
                    );
            }
        }
        return amount;
    }
}
