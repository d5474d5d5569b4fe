"""flasharb.deploy on the replica: deploy, check, record, re-run, reconcile; bad input sends nothing."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from deploy_keys import ALICE, BOB, CAROL, DEPLOYER, DEPLOYER_KEY
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb._cli import cli
from flasharb.accounts import load_account, private_key_account
from flasharb.artifacts import load_artifact
from flasharb.deploy import deploy_executor, load_deployment, read_deployments, record_path
from flasharb.exceptions import AccountError, ConfigError, DeploymentError

pytestmark = pytest.mark.chain

EXECUTOR_ABI = [
    {"name": n, "type": "function", "stateMutability": "view", "inputs": i, "outputs": [{"type": t}]}
    for n, i, t in (
        ("owner", [], "address"),
        ("pendingOwner", [], "address"),
        ("profitReceiver", [], "address"),
        ("AAVE_POOL", [], "address"),
        ("BALANCER_VAULT", [], "address"),
        ("isExecutor", [{"type": "address"}], "bool"),
    )
]


def executor(w3: Web3, address: str):
    return w3.eth.contract(address=address, abi=EXECUTOR_ABI)


def nonce(w3: Web3, who: str = DEPLOYER) -> int:
    return w3.eth.get_transaction_count(who)


# ---------------------------------------------------------------------- first deployment
def test_deploys_checks_and_records(make_settings, w3, replica, executor_out):
    settings = make_settings(executors=[ALICE])
    outcome = deploy_executor(settings)
    assert outcome.action == "deployed" and outcome.reason == "no deployment recorded"
    assert outcome.changes == [f"setExecutor({ALICE}, true)"]

    path = settings.deployments_path / "31337.json"
    assert outcome.record_path == path
    data = json.loads(path.read_text())
    rec = data["contracts"]["FlashArbExecutor"]
    artifact = load_artifact(executor_out)
    receipt = w3.eth.get_transaction_receipt(rec["tx_hash"])
    assert data["chain_id"] == 31337
    assert receipt.contractAddress == rec["address"] and receipt.blockNumber == rec["block_number"]
    assert rec["deployer"] == DEPLOYER and rec["network"] == "ethereum:local:foundry"
    pool, vault = to_checksum_address(replica.aave_v3.pool), to_checksum_address(replica.balancer_v2.vault)
    assert list(rec["constructor_args"].values()) == [DEPLOYER, pool, vault, DEPLOYER]
    assert (
        rec["constructor_args_encoded"]
        == "0x" + artifact.encode_constructor_args([DEPLOYER, pool, vault, DEPLOYER]).hex()
    )
    assert rec["bytecode_hash"] == "0x" + keccak(artifact.bytecode).hex()
    assert rec["contract"] == "src/FlashArbExecutor.sol:FlashArbExecutor"
    assert rec["artifact"] == "out/FlashArbExecutor.sol/FlashArbExecutor.json"
    assert rec["compiler_version"].startswith("0.8.")
    assert (rec["owner"], rec["profit_receiver"], rec["executors"], rec["pending_owner"]) == (
        DEPLOYER,
        DEPLOYER,
        [ALICE],
        None,
    )

    # The chain agrees, and its code is the artifact's up to the immutables (which hold the lenders).
    c = executor(w3, rec["address"])
    assert c.functions.owner().call() == DEPLOYER and c.functions.profitReceiver().call() == DEPLOYER
    assert c.functions.isExecutor(ALICE).call() and not c.functions.isExecutor(BOB).call()
    assert (c.functions.AAVE_POOL().call(), c.functions.BALANCER_VAULT().call()) == (pool, vault)
    code = bytes(w3.eth.get_code(rec["address"]))
    assert code != artifact.deployed_bytecode and artifact.runtime_matches(code)
    assert load_deployment(31337, deployments_dir=settings.deployments_path).address == rec["address"]


# ---------------------------------------------------------------------- idempotence and reconciliation
def test_rerun_with_same_artifact_and_settings_sends_nothing(make_settings, w3):
    settings = make_settings(executors=[ALICE])
    first = deploy_executor(settings)
    path = first.record_path
    before = (path.read_bytes(), path.stat().st_mtime_ns, nonce(w3), w3.eth.block_number)
    again = deploy_executor(make_settings(executors=[ALICE]))
    assert (again.action, again.changes) == ("unchanged", [])
    assert again.record.address == first.record.address
    assert (path.read_bytes(), path.stat().st_mtime_ns, nonce(w3), w3.eth.block_number) == before


def test_rerun_only_fixes_receiver_and_executors(make_settings, w3):
    first = deploy_executor(make_settings(executors=[ALICE]))
    start = nonce(w3)
    outcome = deploy_executor(make_settings(executors=[BOB], profit_receiver=CAROL))
    assert outcome.action == "reconfigured" and outcome.record.address == first.record.address
    assert outcome.changes == [
        f"setProfitReceiver({CAROL})",
        f"setExecutor({BOB}, true)",
        f"setExecutor({ALICE}, false)",
    ]
    assert nonce(w3) == start + 3  # three calls, no deployment
    c = executor(w3, first.record.address)
    assert c.functions.profitReceiver().call() == CAROL
    assert c.functions.isExecutor(BOB).call() and not c.functions.isExecutor(ALICE).call()
    rec = load_deployment(31337, deployments_dir=outcome.record_path.parent)
    assert (rec.profit_receiver, rec.executors) == (CAROL, [BOB])
    # The constructor arguments stay those of the deployment (verification needs them).
    assert list(rec.constructor_args.values())[3] == DEPLOYER


def test_other_owner_gets_a_two_step_transfer(make_settings, w3):
    outcome = deploy_executor(make_settings(owner=CAROL))
    assert outcome.changes == [f"transferOwnership({CAROL})"]
    assert (outcome.record.owner, outcome.record.pending_owner, outcome.record.profit_receiver) == (
        DEPLOYER,
        CAROL,
        CAROL,
    )
    c = executor(w3, outcome.record.address)
    assert (c.functions.owner().call(), c.functions.pendingOwner().call()) == (DEPLOYER, CAROL)
    assert deploy_executor(make_settings(owner=CAROL)).action == "unchanged"  # transfer already pending

    # Once CAROL accepts, the deployer can no longer change anything, and says so before sending.
    w3.provider.make_request("anvil_impersonateAccount", [CAROL])
    accept = Web3.keccak(text="acceptOwnership()")[:4]
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": CAROL, "to": outcome.record.address, "data": accept})
    )
    w3.provider.make_request("anvil_stopImpersonatingAccount", [CAROL])
    assert deploy_executor(make_settings(owner=CAROL)).record.owner == CAROL
    start = nonce(w3)
    with pytest.raises(
        DeploymentError,
        match=rf"needs setProfitReceiver\({BOB}\), but the signer {DEPLOYER} is not its owner \({CAROL}\)",
    ):
        deploy_executor(make_settings(owner=CAROL, profit_receiver=BOB))
    assert nonce(w3) == start


def test_redeploys_when_the_recorded_code_is_gone(make_settings, w3):
    first = deploy_executor(make_settings())
    path = first.record_path
    data = json.loads(path.read_text())
    data["contracts"]["FlashArbExecutor"]["address"] = to_checksum_address(
        "0x" + "42" * 20
    )  # e.g. anvil restarted
    path.write_text(json.dumps(data))
    second = deploy_executor(make_settings())
    assert second.action == "deployed" and second.reason.startswith("no code at the recorded address")
    book = read_deployments(path, 31337)
    assert book.contracts["FlashArbExecutor"].address == second.record.address
    assert [h.address for h in book.history] == [to_checksum_address("0x" + "42" * 20)]


def test_redeploys_when_the_artifact_changed(make_settings):
    first = deploy_executor(make_settings())
    data = json.loads(first.record_path.read_text())
    data["contracts"]["FlashArbExecutor"]["bytecode_hash"] = "0x" + "00" * 32
    first.record_path.write_text(json.dumps(data))
    second = deploy_executor(make_settings())
    assert (
        second.action == "deployed" and second.reason == "the artifact changed since the recorded deployment"
    )
    assert second.record.address != first.record.address


def test_recorded_address_holding_other_code_is_not_reused(make_settings, replica):
    first = deploy_executor(make_settings())
    data = json.loads(first.record_path.read_text())
    data["contracts"]["FlashArbExecutor"]["address"] = to_checksum_address(replica.aave_v3.pool)
    first.record_path.write_text(json.dumps(data))
    second = deploy_executor(make_settings())
    assert second.action == "deployed" and "is not this artifact's" in second.reason


def test_redeploy_flag(make_settings):
    first = deploy_executor(make_settings())
    second = deploy_executor(make_settings(), redeploy=True)
    assert second.action == "deployed" and second.record.address != first.record.address


def test_fork_or_live_chain_ids_get_their_own_record_file(tmp_path):
    assert record_path(tmp_path, 137, "polygon:mainnet:node").name == "137.json"
    assert record_path(tmp_path, 137, "polygon:mainnet-fork:foundry").name == "137-fork.json"
    assert (
        record_path(tmp_path, 137, "ethereum:local:foundry").name == "137-fork.json"
    )  # a local fork of Polygon
    assert record_path(tmp_path, 31337, "ethereum:local:foundry").name == "31337.json"


# ---------------------------------------------------------------------- bad input: clear error, nothing sent
def test_lenders_without_code(make_settings, w3):
    start, block = nonce(w3), w3.eth.block_number
    nowhere = to_checksum_address("0x" + "77" * 20)
    with pytest.raises(DeploymentError, match=f"no contract at the Aave V3 Pool {nowhere} on chain 31337"):
        deploy_executor(make_settings(aave_pool=nowhere))
    assert (nonce(w3), w3.eth.block_number) == (start, block)


def test_no_replica_file(make_settings, deployments, w3):
    (deployments / "replica-31337.json").unlink()
    with pytest.raises(
        ConfigError,
        match="no lender addresses known for chain 31337: set FLASHARB_AAVE_POOL and "
        r"FLASHARB_BALANCER_VAULT or deploy the replica \(make replica\)",
    ):
        deploy_executor(make_settings())
    assert not (deployments / "31337.json").exists()


def keystore(tmp_path, alias: str, key: str, passphrase: str):
    folder = tmp_path / "keystore"
    folder.mkdir(exist_ok=True)
    (folder / f"{alias}.json").write_text(
        json.dumps(Account.encrypt(key, passphrase, kdf="pbkdf2", iterations=2048))
    )
    return folder


def test_keystore_account_signs_headless(make_settings, monkeypatch, tmp_path, w3):
    monkeypatch.delenv("FLASHARB_PRIVATE_KEY")
    folder = keystore(tmp_path, "deployer", DEPLOYER_KEY, "correct horse")
    monkeypatch.setenv("APE_ACCOUNTS_deployer_PASSPHRASE", "correct horse")
    outcome = deploy_executor(make_settings(account="deployer", keystore_dir=folder))
    assert outcome.action == "deployed" and outcome.record.deployer == DEPLOYER


def test_wrong_passphrase_sends_nothing(make_settings, monkeypatch, tmp_path, w3, deployments):
    monkeypatch.delenv("FLASHARB_PRIVATE_KEY")
    folder = keystore(tmp_path, "deployer", DEPLOYER_KEY, "correct horse")
    monkeypatch.setenv("APE_ACCOUNTS_deployer_PASSPHRASE", "battery staple")
    start, block = nonce(w3), w3.eth.block_number
    with pytest.raises(AccountError) as info:
        deploy_executor(make_settings(account="deployer", keystore_dir=folder))
    assert str(info.value) == "wrong passphrase for keystore account 'deployer'"
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert (nonce(w3), w3.eth.block_number) == (start, block)
    assert not (deployments / "31337.json").exists()


def test_wrong_passphrase_through_the_cli_is_one_line(
    chain_snapshot, deployments, executor_out, tmp_path, w3
):
    folder = keystore(tmp_path, "deployer", DEPLOYER_KEY, "correct horse")
    env = {
        "APE_ACCOUNTS_deployer_PASSPHRASE": "nope",
        "FLASHARB_KEYSTORE_DIR": str(folder),
        "FLASHARB_DEPLOYMENTS_DIR": str(deployments),
        "FLASHARB_OUT_DIR": str(executor_out),
    }
    start = nonce(w3)
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["deploy", "--account", "deployer", "--rpc-url", chain_snapshot.url], env=env
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: wrong passphrase for keystore account 'deployer'\n",
    )
    assert nonce(w3) == start and not (deployments / "31337.json").exists()


def test_headless_keystore_without_passphrase(monkeypatch, tmp_path):
    from flasharb.settings import Settings

    folder = keystore(tmp_path, "deployer", DEPLOYER_KEY, "pw")
    with pytest.raises(
        AccountError,
        match="set APE_ACCOUNTS_deployer_PASSPHRASE to sign with keystore account 'deployer' headless",
    ):
        load_account(Settings.load(account="deployer", keystore_dir=folder), interactive=False)
    with pytest.raises(
        AccountError, match=r"no ape keystore account 'other' in .* \(create one: ape accounts import other\)"
    ):
        load_account(Settings.load(account="other", keystore_dir=folder), interactive=False)
    (folder / "broken.json").write_text("{}")
    with pytest.raises(AccountError, match="is not an encrypted key file"):
        load_account(Settings.load(account="broken", keystore_dir=folder), interactive=False)


# ---------------------------------------------------------------------- the key never shows
def _needles(key: str) -> list[str]:
    body = key.removeprefix("0x")
    return [body.lower(), body.upper(), body[:40].lower(), body[-40:].lower()]


def test_private_key_never_reaches_output_logs_records_or_errors(
    chain_snapshot, deployments, executor_out, w3, caplog, capfd
):
    key = "0x" + keccak(b"flasharb test key").hex()  # a fresh key: fund it so it can deploy
    address = Account.from_key(key).address
    w3.provider.make_request("anvil_setBalance", [address, hex(10**21)])

    seen: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            seen.append(self.format(record))

    grab = Grab(level=logging.DEBUG)
    for name in ("", "ape", "flasharb", "web3", "urllib3"):
        logging.getLogger(name).addHandler(grab)
    caplog.set_level(logging.DEBUG)
    try:
        env = {
            "FLASHARB_PRIVATE_KEY": key,
            "FLASHARB_DEPLOYMENTS_DIR": str(deployments),
            "FLASHARB_OUT_DIR": str(executor_out),
        }
        runner = CliRunner(mix_stderr=False)
        ok = runner.invoke(
            cli, ["-v", "deploy", "--rpc-url", chain_snapshot.url, "--executor", ALICE], env=env
        )
        assert ok.exit_code == 0, ok.stderr
        again = runner.invoke(cli, ["-v", "deploy", "--rpc-url", chain_snapshot.url, "--json"], env=env)
        bad = runner.invoke(
            cli, ["-v", "deploy", "--rpc-url", chain_snapshot.url, "--aave-pool", "0x" + "77" * 20], env=env
        )
        assert bad.exit_code == 1
        malformed = runner.invoke(cli, ["deploy"], env={**env, "FLASHARB_PRIVATE_KEY": key[:-2]})
        assert malformed.exit_code == 1
    finally:
        for name in ("", "ape", "flasharb", "web3", "urllib3"):
            logging.getLogger(name).removeHandler(grab)

    from flasharb.settings import Settings

    account = private_key_account(key)
    errors = []
    for bad_key in (key[:-1], key + "00", "0x" + "00" * 32):
        with pytest.raises(AccountError) as info:
            private_key_account(bad_key)
        errors += [
            str(info.value),
            repr(info.value),
            repr(info.value.__cause__),
            repr(info.value.__context__),
        ]
    captured = capfd.readouterr()
    haystack = "\n".join(
        [
            *(r.stdout + r.stderr for r in (ok, again, bad, malformed)),
            caplog.text,
            *seen,
            captured.out,
            captured.err,
            *(p.read_text() for p in deployments.iterdir()),
            repr(Settings.load(private_key=key)),
            str(Settings.load(private_key=key).model_dump()),
            repr(account),
            str(account),
            str(account.model_dump()),
            *errors,
        ]
    )
    assert address in haystack  # the address is shown; the key is not
    for needle in _needles(key):
        assert needle not in haystack
