"""Deploys FlashArbExecutor with ape (as a library), checks it, configures it and records it.

``deploy_executor(settings)``:

1. loads forge's artifact (``out/FlashArbExecutor.sol/FlashArbExecutor.json``) and the signer; both fail
   before any connection, so a bad key or passphrase sends nothing;
2. connects to ``settings.network`` (an ape network choice) and resolves the lenders: the replica's addresses
   on a local chain (``deployments/replica-<chainId>.json``), the real ones on Polygon, or
   ``FLASHARB_AAVE_POOL`` / ``FLASHARB_BALANCER_VAULT``; each must have code;
3. reuses the recorded executor when the record holds the same creation bytecode and lenders and the chain has
   its runtime code at the recorded address (immutables masked); otherwise deploys
   ``constructor(owner = signer, aavePool, balancerVault, profitReceiver)``, checks the runtime code the same
   way and writes the record at once;
4. reconciles what may change without a redeploy: the profit receiver, the executor allow-list, and the owner
   (``--owner`` other than the signer gets ``transferOwnership``; the new owner must ``acceptOwnership``).

Re-running with the same artifact and settings sends nothing. Records live in ``deployments/<chainId>.json``
(``<chainId>-fork.json`` for a fork or a local node of a live chain, so a test run never overwrites a real
record); ``load_deployment`` reads them back for the bot and for ``flasharb verify``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from eth_utils import keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flasharb.artifacts import EXECUTOR_NAME, ForgeArtifact, load_artifact
from flasharb.exceptions import ConfigError, DeploymentError, FlasharbError

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from ape.api.providers import ProviderAPI

    from flasharb.settings import Settings

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20
DEV_CHAIN_IDS = frozenset({31337, 1337})


@dataclass(frozen=True, slots=True)
class Lenders:
    aave_pool: str
    balancer_vault: str
    origin: str


# The protocols' canonical Polygon PoS deployments (Aave V3 address book; Balancer's one Vault address).
KNOWN_LENDERS: dict[int, Lenders] = {
    137: Lenders(
        aave_pool="0x794a61358D6845594F94dc1DB02A252b5b4814aD",
        balancer_vault="0xBA12222222228d8Ba445958a75a0704d566BF2C8",
        origin="Polygon mainnet",
    ),
}

# ape network (ecosystem:network) -> the environment variable with its RPC URL (ape-config.yaml reads it too).
RPC_ENV: dict[str, str] = {"polygon:mainnet": "POLYGON_RPC_URL", "polygon:amoy": "AMOY_RPC_URL"}
FORK_UPSTREAM_ENV: dict[str, str] = {
    "polygon:mainnet-fork": "POLYGON_RPC_URL",
    "polygon:amoy-fork": "AMOY_RPC_URL",
}


# ---------------------------------------------------------------------- records
class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class ExecutorRecord(_Model):
    """One deployment of the executor, as written to deployments/<chainId>.json."""

    address: str
    tx_hash: str
    block_number: int
    deployer: str
    network: str
    constructor_args: dict[str, str]  # ABI input name -> value, in constructor order
    constructor_args_encoded: str  # 0x + ABI encoding (Etherscan wants it without 0x)
    contract: str  # src/FlashArbExecutor.sol:FlashArbExecutor
    artifact: str  # relative to the repo root
    bytecode_hash: str  # keccak256 of the creation bytecode
    runtime_hash: str  # keccak256 of the runtime code with the immutables zeroed
    compiler_version: str
    deployed_at: str
    aave_pool: str
    balancer_vault: str
    owner: str
    pending_owner: str | None = None
    profit_receiver: str
    executors: list[str] = Field(default_factory=list)


class DeploymentFile(_Model):
    chain_id: int
    contracts: dict[str, ExecutorRecord] = Field(default_factory=dict)
    history: list[ExecutorRecord] = Field(default_factory=list)  # earlier deployments, newest last


def record_path(deployments_dir: Path, chain_id: int, network: str) -> Path:
    """deployments/<chainId>.json, or <chainId>-fork.json for a fork or a local node of a live chain."""
    _, net, _ = _split_choice(network)
    throwaway = net.endswith("-fork") or (net == "local" and chain_id not in DEV_CHAIN_IDS)
    return deployments_dir / (f"{chain_id}-fork.json" if throwaway else f"{chain_id}.json")


def read_deployments(path: Path, chain_id: int) -> DeploymentFile:
    if not path.is_file():
        return DeploymentFile(chain_id=chain_id)
    try:
        data = DeploymentFile.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as exc:
        raise DeploymentError(
            f"deployment record {path} is malformed ({type(exc).__name__}): fix or move it"
        ) from None
    if data.chain_id != chain_id:
        raise DeploymentError(f"deployment record {path} is for chain {data.chain_id}, not {chain_id}")
    return data


def write_deployments(path: Path, data: DeploymentFile) -> None:
    """Atomic write (temp file + rename): a crash leaves the old record or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data.model_dump(mode="json"), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_deployment(
    chain_id: int, *, deployments_dir: Path, network: str = "", name: str = EXECUTOR_NAME
) -> ExecutorRecord:
    """The recorded executor on ``chain_id`` (for the bot and ``flasharb verify``)."""
    path = record_path(deployments_dir, chain_id, network or _default_network_for(chain_id))
    record = read_deployments(path, chain_id).contracts.get(name)
    if record is None:
        raise DeploymentError(
            f"no {name} recorded for chain {chain_id} in {path}: run `flasharb deploy` first"
        )
    return record


def _default_network_for(chain_id: int) -> str:
    return {137: "polygon:mainnet", 80002: "polygon:amoy"}.get(chain_id, "ethereum:local")


# ---------------------------------------------------------------------- connecting
def _split_choice(choice: str) -> tuple[str, str, str]:
    parts = (choice.split(":") + ["", "", ""])[:3]
    return parts[0], parts[1], parts[2]


def redact_url(url: str | None) -> str:
    """scheme://host[:port] only: RPC URLs often carry an API key in their path or query."""
    if not url:
        return "?"
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _scrub(text: str, *urls: str | None) -> str:
    for url in urls:
        if url:
            text = text.replace(url, redact_url(url))
    return text.splitlines()[0] if text else text


@contextmanager
def connect(settings: Settings) -> Iterator[ProviderAPI]:
    """Connects ape to ``settings.network`` from the repo root (ape-config.yaml applies); disconnects after.

    A local foundry network only attaches to a node that already runs (``make anvil``): ape is not allowed to
    start a throw-away anvil for a deployment. A fork network starts its own anvil from the upstream URL.
    """
    from ape import networks, project
    from ape.exceptions import ApeException, NetworkError

    choice = settings.network
    eco, net, _ = _split_choice(choice)
    with project.chdir(settings.root):
        try:
            probe = networks.get_provider_from_choice(choice)
        except NetworkError as exc:
            reason = _scrub(str(exc)).removesuffix("Options:").strip().rstrip(".")
            raise ConfigError(f"unknown network {choice!r}: {reason} (see `ape networks list`)") from None
        except ApeException as exc:
            # e.g. ape-config.yaml's $POLYGON_RPC_URL left unexpanded.
            raise ConfigError(_network_hint(choice) or f"network {choice!r}: {_scrub(str(exc))}") from None
        fork = probe.network.name.endswith("-fork")
        if probe.name == "foundry" and fork:
            _put_foundry_on_path(settings.root)  # ape starts the forking anvil itself
        provider_settings: dict[str, Any] = {}
        url: str | None = settings.rpc_url
        if probe.name == "foundry" and fork:
            if settings.rpc_url:
                raise ConfigError("--rpc-url does not apply to a fork network: set its upstream URL instead")
            env = FORK_UPSTREAM_ENV.get(f"{eco}:{probe.network.name}")
            if env and not os.environ.get(env):
                raise ConfigError(f"{env} is not set: {choice} forks from it")
            provider_settings = {"host": "auto"}
            url = os.environ.get(env) if env else None
        elif probe.name == "foundry":
            url = settings.rpc_url or getattr(probe.settings, "host", None) or "http://127.0.0.1:8545"
            provider_settings = {"host": url, "manage_process": False}
        elif settings.rpc_url:
            provider_settings = {"uri": settings.rpc_url}
        else:
            env = RPC_ENV.get(f"{eco}:{probe.network.name}")
            if env:
                if not os.environ.get(env):
                    raise ConfigError(f"{env} is not set: {choice} needs an RPC URL (or pass --rpc-url)")
                url = os.environ[env]
                provider_settings = {"uri": url}
        try:
            context = networks.parse_network_choice(
                choice, provider_settings=provider_settings, disconnect_after=True
            )
            provider = context.__enter__()
        except FlasharbError:
            raise
        except Exception as exc:  # ape, web3 and requests all raise their own
            raise DeploymentError(
                f"cannot connect to {choice} at {redact_url(url)}: {_scrub(str(exc), url)}"
                + (
                    " (start it with `make anvil`, then `make replica`)"
                    if probe.name == "foundry" and not fork
                    else ""
                )
            ) from None
        try:
            yield provider
        finally:
            context.__exit__(None, None, None)


def _put_foundry_on_path(root: Path) -> None:
    import shutil

    from flasharb.paths import foundry_bin_dirs

    if shutil.which("anvil") is None:
        os.environ["PATH"] = os.pathsep.join(
            [*(str(p) for p in foundry_bin_dirs(root)), os.environ.get("PATH", "")]
        )


def _network_hint(choice: str) -> str | None:
    eco, net, _ = _split_choice(choice)
    env = RPC_ENV.get(f"{eco}:{net}") or FORK_UPSTREAM_ENV.get(f"{eco}:{net}")
    if env and not os.environ.get(env):
        return f"{env} is not set: {choice} needs it (or pass --rpc-url)"
    return None


# ---------------------------------------------------------------------- deploying
@dataclass
class DeployOutcome:
    action: Literal["deployed", "unchanged", "reconfigured"]
    record: ExecutorRecord
    record_path: Path
    chain_id: int
    changes: list[str] = field(default_factory=list)  # transactions sent after (or instead of) deploying
    reason: str = ""  # why a new deployment was needed


def resolve_lenders(settings: Settings, chain_id: int, network: str) -> Lenders:
    known = KNOWN_LENDERS.get(chain_id)
    replica_file = settings.deployments_path / f"replica-{chain_id}.json"
    _, net, _ = _split_choice(network)
    if known is None and net == "local" and replica_file.is_file():
        from flasharb.replica import Replica

        replica = Replica.load(replica_file)
        known = Lenders(replica.aave_v3.pool, replica.balancer_v2.vault, f"replica {replica_file.name}")
    aave = settings.aave_pool or (known.aave_pool if known else None)
    vault = settings.balancer_vault or (known.balancer_vault if known else None)
    missing = [
        env for env, value in (("FLASHARB_AAVE_POOL", aave), ("FLASHARB_BALANCER_VAULT", vault)) if not value
    ]
    if missing:
        hint = " or deploy the replica (make replica)" if net == "local" else ""
        raise ConfigError(
            f"no lender addresses known for chain {chain_id}: set {' and '.join(missing)}{hint}"
        )
    origin = known.origin if known and not (settings.aave_pool or settings.balancer_vault) else "settings"
    return Lenders(to_checksum_address(aave), to_checksum_address(vault), origin)


def _constructor_args(artifact: ForgeArtifact, owner: str, lenders: Lenders, receiver: str) -> dict[str, str]:
    """Constructor arguments by ABI input name, matched by name (owner, aavePool, ...) or else position."""
    wanted = {"owner": owner, "aavepool": lenders.aave_pool, "balancervault": lenders.balancer_vault}
    wanted["profitreceiver"] = receiver
    inputs = artifact.constructor_inputs
    if len(inputs) != 4 or any(i.get("type") != "address" for i in inputs):
        sig = ", ".join(f"{i.get('type')} {i.get('name')}" for i in inputs)
        raise DeploymentError(
            f"{artifact.name} constructor is ({sig}); deploy expects "
            "(address owner, address aavePool, address balancerVault, address profitReceiver)"
        )
    names = [i.get("name") or f"arg{n}" for n, i in enumerate(inputs)]
    normalized = [n.strip("_").lower().replace("_", "") for n in names]
    if sorted(normalized) == sorted(wanted):
        return {name: wanted[norm] for name, norm in zip(names, normalized, strict=True)}
    return dict(
        zip(names, wanted.values(), strict=True)
    )  # positional: owner, aavePool, balancerVault, profitReceiver


def _runtime_hash(artifact: ForgeArtifact) -> str:
    return "0x" + keccak(artifact.mask_immutables(artifact.deployed_bytecode)).hex()


def deploy_executor(
    settings: Settings, *, account: AccountAPI | None = None, redeploy: bool = False
) -> DeployOutcome:
    """Deploys (or finds) and configures the executor; see the module docstring."""
    artifact = load_artifact(settings.artifacts_dir)
    if account is None:
        from flasharb.accounts import load_account

        account = load_account(settings)
    with connect(settings) as provider:
        return _deploy(settings, artifact, account, provider, redeploy=redeploy)


def _deploy(
    settings: Settings, artifact: ForgeArtifact, account: AccountAPI, provider: ProviderAPI, *, redeploy: bool
) -> DeployOutcome:
    from ape.contracts import ContractContainer, ContractInstance
    from ape.exceptions import ApeException

    chain_id = provider.chain_id
    network = provider.network_choice
    lenders = resolve_lenders(settings, chain_id, network)
    for label, address in (
        ("Aave V3 Pool", lenders.aave_pool),
        ("Balancer V2 Vault", lenders.balancer_vault),
    ):
        if not _code(provider, address):
            hint = " (deploy the replica first: make replica)" if "replica" in lenders.origin else ""
            raise DeploymentError(f"no contract at the {label} {address} on chain {chain_id}{hint}")

    sender = to_checksum_address(account.address)
    owner = settings.owner or sender
    receiver = settings.profit_receiver or owner
    path = record_path(settings.deployments_path, chain_id, network)
    book = read_deployments(path, chain_id)
    existing = book.contracts.get(EXECUTOR_NAME)

    reason = _reuse_blocker(existing, artifact, lenders, provider) if not redeploy else "--redeploy given"
    contract_type = artifact.contract_type()
    if reason is None:
        assert existing is not None
        log.info("found %s at %s (recorded in %s)", EXECUTOR_NAME, existing.address, path.name)
        contract = ContractInstance(existing.address, contract_type)
        record = existing
        action: Literal["deployed", "unchanged", "reconfigured"] = "unchanged"
    else:
        args = _constructor_args(artifact, sender, lenders, receiver)
        log.info("deploying %s on chain %s (%s)", EXECUTOR_NAME, chain_id, reason)
        try:
            contract = ContractContainer(contract_type).deploy(*args.values(), sender=account)
        except ApeException as exc:
            raise DeploymentError(f"deploying {EXECUTOR_NAME} failed: {_scrub(str(exc))}") from None
        address = to_checksum_address(contract.address)
        code = _code(provider, address)
        if not artifact.runtime_matches(code):
            raise DeploymentError(
                f"runtime code at {address} differs from {artifact.path.name}'s deployedBytecode "
                f"(immutables masked; {len(code)} vs {len(artifact.deployed_bytecode)} bytes)"
            )
        receipt = provider.get_receipt(contract.txn_hash)
        encoded = artifact.encode_constructor_args(list(args.values()))
        record = ExecutorRecord(
            address=address,
            tx_hash=_hex(contract.txn_hash),
            block_number=int(receipt.block_number),
            deployer=sender,
            network=network,
            constructor_args=args,
            constructor_args_encoded="0x" + encoded.hex(),
            contract=artifact.qualified_name,
            artifact=_relative(artifact.path, settings.root),
            bytecode_hash=artifact.bytecode_hash,
            runtime_hash=_runtime_hash(artifact),
            compiler_version=artifact.compiler_version,
            deployed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            aave_pool=lenders.aave_pool,
            balancer_vault=lenders.balancer_vault,
            owner=sender,
            profit_receiver=receiver,
            executors=[],
        )
        if existing is not None:
            book.history.append(existing)
        book.contracts[EXECUTOR_NAME] = record
        write_deployments(path, book)  # at once: a failure while configuring must not lose the address
        log.info("deployed %s at %s in block %s", EXECUTOR_NAME, address, record.block_number)
        action = "deployed"

    before = record.model_dump()
    changes = _reconcile(contract, record, account, settings, owner, receiver)
    if action == "deployed" or changes or record.model_dump() != before:
        book.contracts[EXECUTOR_NAME] = record
        write_deployments(path, book)
    if changes and action == "unchanged":
        action = "reconfigured"
    return DeployOutcome(
        action=action,
        record=record,
        record_path=path,
        chain_id=chain_id,
        changes=changes,
        reason=reason or "",
    )


def _reuse_blocker(
    existing: ExecutorRecord | None, artifact: ForgeArtifact, lenders: Lenders, provider: ProviderAPI
) -> str | None:
    """None when the recorded executor can be reused, else why a new one is deployed."""
    if existing is None:
        return "no deployment recorded"
    if existing.bytecode_hash != artifact.bytecode_hash:
        return "the artifact changed since the recorded deployment"
    if (existing.aave_pool, existing.balancer_vault) != (lenders.aave_pool, lenders.balancer_vault):
        return "the lender addresses changed"
    code = _code(provider, existing.address)
    if not code:
        return f"no code at the recorded address {existing.address} (chain reset?)"
    if not artifact.runtime_matches(code):
        return f"the code at the recorded address {existing.address} is not this artifact's"
    return None


def _reconcile(
    contract: Any, record: ExecutorRecord, account: AccountAPI, settings: Settings, owner: str, receiver: str
) -> list[str]:
    """Brings receiver, executors and owner to the settings; returns the calls made."""
    from ape.exceptions import ApeException

    sender = to_checksum_address(account.address)
    onchain_owner = to_checksum_address(contract.owner())
    pending = _pending_owner(contract)
    desired = list(dict.fromkeys(settings.executors))
    todo: list[tuple[str, str, tuple[Any, ...]]] = []
    current_receiver = to_checksum_address(contract.profitReceiver())
    if current_receiver != receiver:
        todo.append((f"setProfitReceiver({receiver})", "setProfitReceiver", (receiver,)))
    for who in desired:
        if not contract.isExecutor(who):
            todo.append((f"setExecutor({who}, true)", "setExecutor", (who, True)))
    for who in record.executors:
        if who not in desired and contract.isExecutor(who):
            todo.append((f"setExecutor({who}, false)", "setExecutor", (who, False)))
    if owner != onchain_owner and pending != owner:
        todo.append((f"transferOwnership({owner})", "transferOwnership", (owner,)))

    if todo and onchain_owner != sender:
        calls = ", ".join(label for label, _, _ in todo)
        raise DeploymentError(
            f"executor {record.address} needs {calls}, "
            f"but the signer {sender} is not its owner ({onchain_owner})"
        )
    done = []
    for label, method, args in todo:
        log.info("%s on %s", label, record.address)
        try:
            getattr(contract, method)(*args, sender=account)
        except ApeException as exc:
            raise DeploymentError(f"{label} failed: {_scrub(str(exc))}") from None
        done.append(label)

    record.profit_receiver = receiver
    record.executors = desired
    record.owner = to_checksum_address(contract.owner())
    new_pending = _pending_owner(contract)
    record.pending_owner = new_pending if new_pending and new_pending != ZERO_ADDRESS else None
    return done


def _pending_owner(contract: Any) -> str | None:
    try:
        method = contract.pendingOwner
    except AttributeError:
        return None
    return to_checksum_address(method())


def _code(provider: ProviderAPI, address: str) -> bytes:
    return bytes(provider.get_code(address))


def _hex(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
