// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IFlashArbExecutor
/// @notice Runs an arbitrage plan (docs/route-encoding.md) atomically: funds it from a flash loan or from its own
///         balance, swaps through 2..8 V2/V3 pools, repays, and reverts unless it earned at least the plan's
///         `minProfit` in the loan token. Every revert reason below is a custom error the bot decodes.
interface IFlashArbExecutor {
    // ------------------------------------------------------------------ errors
    error NotOwner(); // caller is not the owner
    error NotPendingOwner(); // caller is not the pending owner
    error NotExecutor(); // caller may not trigger runs
    error ZeroAddress(); // an address argument was zero
    error RunActive(); // a run is already in progress (re-entry)
    error UnexpectedCallback(); // a callback came from anyone but the counterparty the run waits for
    error UntrustedInitiator(); // an Aave flash loan this executor did not start
    error ExcessivePayment(uint256 requested, uint256 allowed); // a V3 pool asked for more than the step's input
    error UnsupportedPlanVersion(uint256 version); // plan's first byte is not a supported version
    error UnsupportedLender(uint256 lender); // plan's lender byte is unknown
    error UnsupportedStep(uint256 op); // a step's kind or flags are unknown
    error PlanMalformed(); // length or step count does not match the encoding
    error PlanExpired(uint256 deadline, uint256 blockNumber); // plan's deadline block has passed
    error InsufficientProfit(uint256 shortfall); // end balance misses start + premium + minProfit by `shortfall`
    error TokenCallFailed(address token); // an ERC20 call reverted or returned false
    error PoolCallFailed(address pool); // a pool call returned less data than its ABI promises

    // ------------------------------------------------------------------ events
    /// @notice One successful run: `premium` paid to the lender and `profit` kept, both in the plan's loan token
    ///         (token, lender and amount are in the transaction's plan; gas is in its receipt). Kept to one
    ///         topic and two words: it is paid on every run.
    event RunExecuted(uint256 premium, uint256 profit);
    event ExecutorSet(address indexed executor, bool allowed);
    event ProfitReceiverSet(address indexed receiver);
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Swept(address indexed token, address indexed receiver, uint256 amount);
    event Rescued(address indexed token, address indexed to, uint256 amount);

    // ------------------------------------------------------------------ runs
    /// @notice Runs `plan`; callable by an allowed executor or the owner.
    /// @return profit Loan-token profit kept by the executor (also in `RunExecuted`).
    function execute(bytes calldata plan) external returns (uint256 profit);

    // ------------------------------------------------------------------ funds
    /// @notice Sends `amount` of `token` to the configured profit receiver (owner or executor).
    function sweep(address token, uint256 amount) external;
    /// @notice Sends `amount` of any token anywhere (owner only).
    function rescue(address token, address to, uint256 amount) external;

    // ------------------------------------------------------------------ administration
    function setExecutor(address who, bool allowed) external;
    function setProfitReceiver(address receiver) external;
    function transferOwnership(address newOwner) external;
    function acceptOwnership() external;

    function owner() external view returns (address);
    function pendingOwner() external view returns (address);
    function isExecutor(address who) external view returns (bool);
    function profitReceiver() external view returns (address);
    function AAVE_POOL() external view returns (address);
    function BALANCER_VAULT() external view returns (address);
}
