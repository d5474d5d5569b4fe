// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "forge-std/Vm.sol";

/// @notice Deploys contracts from the real protocol artifacts that npm ships (Hardhat, Waffle and Balancer
///         formats), linking libraries by their placeholder. Nothing here is recompiled: the bytecode is the
///         packages' own.
library Artifacts {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error ArtifactDeployFailed(string path);
    error ArtifactUnlinked(string path);

    struct Link {
        string name; // fully qualified name as the package compiled it, e.g. "contracts/.../BorrowLogic.sol:BorrowLogic"
        address at;
    }

    /// @dev Creation code as a hex string without 0x, whatever the artifact format.
    function creationHex(string memory path) internal view returns (string memory code) {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/node_modules/", path));
        // Waffle (Uniswap V2) and Hardhat/Balancer both keep the creation code under ".bytecode".
        code = vm.parseJsonString(json, ".bytecode");
        if (bytes(code).length >= 2 && bytes(code)[0] == "0" && bytes(code)[1] == "x") {
            code = _slice(code, 2, bytes(code).length);
        }
    }

    function deploy(string memory path, bytes memory args) internal returns (address) {
        return _create(path, vm.parseBytes(string.concat("0x", creationHex(path))), args);
    }

    function deployLinked(string memory path, Link[] memory links, bytes memory args) internal returns (address) {
        string memory code = creationHex(path);
        for (uint256 i; i < links.length; ++i) {
            code = vm.replace(code, placeholder(links[i].name), _slice(vm.toString(links[i].at), 2, 42));
        }
        if (vm.indexOf(code, "__$") != type(uint256).max) revert ArtifactUnlinked(path);
        return _create(path, vm.parseBytes(string.concat("0x", code)), args);
    }

    /// @dev Solidity >= 0.5 library placeholder: "__$" + first 34 hex chars of keccak256(fqn) + "$__".
    function placeholder(string memory fqn) internal pure returns (string memory) {
        return string.concat("__$", _slice(vm.toString(keccak256(bytes(fqn))), 2, 36), "$__");
    }

    function _create(string memory path, bytes memory code, bytes memory args) private returns (address addr) {
        bytes memory init = bytes.concat(code, args);
        assembly ("memory-safe") {
            addr := create(0, add(init, 0x20), mload(init))
        }
        if (addr == address(0) || addr.code.length == 0) revert ArtifactDeployFailed(path);
    }

    function _slice(string memory s, uint256 from, uint256 to) private pure returns (string memory) {
        bytes memory b = bytes(s);
        bytes memory out = new bytes(to - from);
        for (uint256 i = from; i < to; ++i) {
            out[i - from] = b[i];
        }
        return string(out);
    }
}
