"""A local anvil with the Polygon replica on it, for tests, benchmarks and the demo.

Deploying the replica takes ~35-45 s (740 transactions), so its state is cached: the first start deploys it with
tools/deploy-replica.sh and saves anvil's state; later starts load that state in well under a second. The cache
key hashes everything the replica is built from, so a change to the replica or the npm artifacts redeploys.

The Aave liquidation side of the replica (its borrowers, oracle, data provider) is in a file of its own,
deployments/replica-31337-aave.json (``ReplicaAave``), next to the main one (``flasharb.replica.Replica``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from flasharb.exceptions import ConfigError, FlasharbError
from flasharb.paths import foundry_env, repo_root
from flasharb.replica import Replica

ANVIL_BALANCE_ETH = 100_000_000  # native for WMATIC liquidity


class DevChainError(FlasharbError):
    """The local chain could not be started or the replica could not be deployed."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 60.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = json.loads(resp.read())
    if "error" in answer:
        raise DevChainError(f"{method} failed: {answer['error']}")
    return answer["result"]


def replica_cache_key(root: Path) -> str:
    h = hashlib.sha256()
    inputs = sorted((root / "script").rglob("*.sol")) + sorted((root / "src" / "interfaces").rglob("*.sol"))
    inputs += [root / "package-lock.json", root / "foundry.toml", root / "tools" / "deploy-replica.sh"]
    for path in inputs:
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ReplicaAave:
    """The replica's Aave V3 market as liquidations see it (script/DeployReplica.s.sol writes it).

    ``borrowers[i]`` is the address of the key ``borrower_key(i)``: 14 positions whose health factors are known
    (script/replica/PolygonReplica.sol, ``_openReplicaBorrowers``); e-mode ``emode_stablecoins`` holds USDC,
    USDT and DAI.
    """

    chain_id: int
    pool: str
    pool_addresses_provider: str
    oracle: str
    data_provider: str
    liquidation_protocol_fee_bps: int
    emode_stablecoins: int
    borrower_seed: str
    borrowers: tuple[str, ...]

    def borrower_key(self, i: int) -> int:
        """Borrower ``i``'s private key: ``uint256(keccak256(abi.encode(seed, i)))`` (a public test key)."""
        return int.from_bytes(keccak(abi_encode(["string", "uint256"], [self.borrower_seed, i])))

    @classmethod
    def load(cls, path: Path) -> "ReplicaAave":
        try:
            raw = json.loads(path.read_text())
            return cls(
                chain_id=int(raw["chain_id"]),
                pool=to_checksum_address(raw["pool"]),
                pool_addresses_provider=to_checksum_address(raw["pool_addresses_provider"]),
                oracle=to_checksum_address(raw["oracle"]),
                data_provider=to_checksum_address(raw["data_provider"]),
                liquidation_protocol_fee_bps=int(raw["liquidation_protocol_fee_bps"]),
                emode_stablecoins=int(raw["emode_stablecoins"]),
                borrower_seed=str(raw["borrower_seed"]),
                borrowers=tuple(to_checksum_address(a) for a in raw["borrowers"]),
            )
        except FileNotFoundError:
            raise ConfigError(f"replica Aave file {path} not found: deploy it with `make replica`") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"replica Aave file {path} is malformed: {exc!r}") from None


@dataclass
class DevChain:
    """A running anvil (owned by this object) with the replica deployed."""

    url: str
    port: int
    replica: Replica
    process: subprocess.Popen = field(repr=False)
    aave: ReplicaAave | None = None

    def rpc(self, method: str, params: list | None = None):
        return _rpc(self.url, method, params)

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", [snapshot_id]):
            raise DevChainError(f"evm_revert({snapshot_id}) refused")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> "DevChain":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_anvil(port: int | None = None, *, root: Path | None = None, extra_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, int]:
    root = root or repo_root()
    env = foundry_env(root)
    if shutil.which("anvil", path=env["PATH"]) is None:
        raise DevChainError("anvil not found: run `make setup` (installs Foundry 1.7.1 from npm)")
    port = port or _free_port()
    cmd = ["anvil", "--port", str(port), "--balance", str(ANVIL_BALANCE_ETH), "--silent", *extra_args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            _rpc(url, "eth_chainId", timeout=1)
            return proc, url, port
        except Exception:
            if proc.poll() is not None:
                raise DevChainError(f"anvil exited: {proc.stderr.read().decode(errors='replace')[-500:]}") from None
            if time.monotonic() > deadline:
                proc.kill()
                raise DevChainError(f"anvil did not answer on {url} within 15 s") from None
            time.sleep(0.05)


def start_devchain(port: int | None = None, *, root: Path | None = None, cache: bool = True) -> DevChain:
    """Starts anvil and puts the replica on it (from the state cache when fresh)."""
    root = root or repo_root()
    cache_dir = root / ".cache" / "replica" / replica_cache_key(root)
    state_file, replica_file = cache_dir / "state.json", cache_dir / "replica.json"
    aave_file = cache_dir / "replica-aave.json"
    cached = cache and state_file.is_file() and replica_file.is_file() and aave_file.is_file()
    # A large state is too big for an anvil_loadState request: anvil reads it from a file at start instead.
    proc, url, port = start_anvil(port, root=root, extra_args=("--load-state", str(state_file)) if cached else ())
    try:
        if not cached:
            _deploy_replica(root, url)
            if cache:
                cache_dir.mkdir(parents=True, exist_ok=True)
                dump = bytes.fromhex(_rpc(url, "anvil_dumpState").removeprefix("0x"))
                state_file.write_bytes(gzip.decompress(dump))
                shutil.copy(root / "deployments" / "replica-31337.json", replica_file)
                shutil.copy(root / "deployments" / "replica-31337-aave.json", aave_file)
        replica = Replica.load(replica_file if cache else root / "deployments" / "replica-31337.json")
        aave = ReplicaAave.load(aave_file if cache else root / "deployments" / "replica-31337-aave.json")
    except BaseException:
        proc.kill()
        raise
    return DevChain(url=url, port=port, replica=replica, process=proc, aave=aave)


def _deploy_replica(root: Path, url: str) -> None:
    result = subprocess.run(
        [str(root / "tools" / "deploy-replica.sh"), url], cwd=root, env=foundry_env(root), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DevChainError(f"replica deployment failed: {(result.stderr or result.stdout)[-2000:]}")
