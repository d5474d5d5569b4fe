// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";

contract ReplicaSmokeTest is Test, PolygonReplica {
    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
    }

    function test_deploys() public view {
        assertEq(v2Pairs.length, 22);
        assertEq(v3Pools.length, 13);
    }
}
