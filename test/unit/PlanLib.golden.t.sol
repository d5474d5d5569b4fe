// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {PlanLib} from "../../src/libraries/PlanLib.sol";
import {PlanDecoders} from "../differential/PlanLib.diff.t.sol";

/// @notice The golden vectors shared with the Python encoder (test/vectors/routes.json): every valid vector
///         decodes to its listed fields, every invalid one reverts with its listed error.
contract PlanLibGoldenTest is Test {
    PlanDecoders internal d = new PlanDecoders();
    string internal json;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/test/vectors/routes.json"));
    }

    function test_goldenVectors_validDecode() public view {
        uint256 n;
        for (; vm.keyExistsJson(json, string.concat(".valid[", vm.toString(n), "]")); ++n) {
            string memory k = string.concat(".valid[", vm.toString(n), "]");
            bytes memory p = vm.parseJsonBytes(json, string.concat(k, ".encoded"));
            PlanLib.Header memory h = d.asmValidate(p);
            string memory name = vm.parseJsonString(json, string.concat(k, ".name"));
            assertEq(h.lender, _uint(k, ".plan.lender"), name);
            assertEq(h.deadline, _uint(k, ".plan.deadline"), name);
            assertEq(h.token, vm.parseJsonAddress(json, string.concat(k, ".plan.token")), name);
            assertEq(h.amountIn, _uint(k, ".plan.amountIn"), name);
            assertEq(h.minProfit, _uint(k, ".plan.minProfit"), name);
            assertEq(h.steps, _stepCount(k), name);
        }
        assertGe(n, 8, "vectors present");
    }

    function test_goldenVectors_invalidRevertWithListedError() public {
        uint256 n;
        for (; vm.keyExistsJson(json, string.concat(".invalid[", vm.toString(n), "]")); ++n) {
            string memory k = string.concat(".invalid[", vm.toString(n), "]");
            bytes memory p = vm.parseJsonBytes(json, string.concat(k, ".encoded"));
            string memory err = vm.parseJsonString(json, string.concat(k, ".error"));
            (bool ok, bytes memory ret) = address(d).call(abi.encodeCall(d.asmValidate, (p)));
            assertFalse(ok, vm.parseJsonString(json, string.concat(k, ".name")));
            assertEq(bytes4(ret), _selector(err), vm.parseJsonString(json, string.concat(k, ".name")));
        }
        assertGe(n, 10, "vectors present");
    }

    function _uint(string memory k, string memory field) internal view returns (uint256) {
        return vm.parseUint(vm.parseJsonString(json, string.concat(k, field)));
    }

    function _stepCount(string memory k) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(k, ".plan.steps[", vm.toString(n), "]"))) ++n;
    }

    function _selector(string memory err) internal pure returns (bytes4) {
        bytes32 h = keccak256(bytes(err));
        if (h == keccak256("UnsupportedPlanVersion")) return IFlashArbExecutor.UnsupportedPlanVersion.selector;
        if (h == keccak256("UnsupportedLender")) return IFlashArbExecutor.UnsupportedLender.selector;
        if (h == keccak256("UnsupportedStep")) return IFlashArbExecutor.UnsupportedStep.selector;
        if (h == keccak256("PlanMalformed")) return IFlashArbExecutor.PlanMalformed.selector;
        revert(string.concat("unknown error in vectors: ", err));
    }
}
