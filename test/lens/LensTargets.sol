// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @dev Stands in front of a real pair or pool: forwards every call to it and answers what it answered, except the
///      calls it was told to lie about, which it answers with scripted bytes (short, out of range, anything) or
///      refuses with a revert. A lie is set for one exact calldata (`ticks(-200)`) or for a bare selector (every
///      `ticks(...)` call); the exact one wins. Through an honest forwarder the lens must read exactly what it
///      reads from the target itself, so any difference a test sees comes from the lie alone.
contract LyingForwarder {
    enum Kind {
        Honest,
        Answer,
        Refuse
    }

    struct Lie {
        Kind kind;
        bytes answer;
    }

    error Refused(bytes call);

    address public immutable target;
    mapping(bytes32 => Lie) private _lies;

    constructor(address target_) {
        target = target_;
    }

    /// @notice Answers `call` (a whole calldata, or a bare selector for every call to it) with `answer`, raw.
    function lieAbout(bytes calldata call, bytes calldata answer) external {
        _lies[keccak256(call)] = Lie(Kind.Answer, answer);
    }

    /// @notice Reverts on `call` (a whole calldata, or a bare selector for every call to it).
    function refuse(bytes calldata call) external {
        _lies[keccak256(call)] = Lie(Kind.Refuse, "");
    }

    fallback(bytes calldata call) external returns (bytes memory) {
        Lie storage lie = _lies[keccak256(call)];
        if (lie.kind == Kind.Honest && call.length > 4) lie = _lies[keccak256(call[:4])];
        if (lie.kind == Kind.Refuse) revert Refused(call);
        if (lie.kind == Kind.Answer) return lie.answer;
        (bool ok, bytes memory answer) = target.staticcall(call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(answer, 0x20), mload(answer))
            }
        }
        return answer;
    }
}
