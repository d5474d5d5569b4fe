"""The flasharb CLI: lazy command registry, one-line errors with non-zero exits, nothing sent on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flasharb import __version__
from flasharb._cli import COMMANDS, LazyGroup, cli
from flasharb.exceptions import DeploymentError

FLASHARB = Path(sys.executable).with_name("flasharb")
# anvil's first dev key: public, for local tests only.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FLASHARB_") or name in ("ETHERSCAN_API_KEY", "POLYGON_RPC_URL", "AMOY_RPC_URL"):
            monkeypatch.delenv(name)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner(mix_stderr=False).invoke(cli, list(args), env=env, catch_exceptions=False)


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed console script, in a fresh process (real exit code, real stderr)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLASHARB_")}
    base.setdefault("APE_DATA_FOLDER", str(Path(__file__).resolve().parents[3] / ".ape"))
    return subprocess.run(
        [str(FLASHARB), *args], env={**base, **(env or {})}, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------- the group
def test_help_lists_every_registered_command():
    result = run("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert run("--version").stdout.strip() == f"flasharb, version {__version__}"


def test_every_registration_resolves_to_a_click_command():
    group = cli
    assert isinstance(group, LazyGroup)
    for name in COMMANDS:
        assert isinstance(group.get_command(click.Context(group), name), click.Command)


def test_help_does_not_import_ape():
    code = textwrap.dedent(
        """
        import sys
        from click.testing import CliRunner
        from flasharb._cli import cli
        for args in (["--help"], ["deploy", "--help"], ["verify", "--help"], ["replica", "--help"]):
            assert CliRunner().invoke(cli, args).exit_code == 0, args
        heavy = sorted(m for m in ("ape", "web3", "ethpm_types", "requests") if m in sys.modules)
        print(",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_adding_a_command_is_one_registration(tmp_path, monkeypatch):
    (tmp_path / "fa_extra_cmd.py").write_text(
        "import click\n\n@click.command()\ndef cli():\n    '''Extra.'''\n    click.echo('extra ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    group = LazyGroup(name="flasharb", lazy_commands={**COMMANDS, "extra": "fa_extra_cmd:cli"})
    result = CliRunner().invoke(group, ["extra"])
    assert (result.exit_code, result.output) == (0, "extra ran\n")
    assert "fa_extra_cmd" in sys.modules and "extra" in CliRunner().invoke(group, ["--help"]).output


def test_a_flasharb_error_is_one_line_and_vv_shows_the_traceback():
    @click.command()
    def boom():
        raise DeploymentError("it broke")

    group = LazyGroup(name="flasharb", commands={"boom": boom})
    result = CliRunner(mix_stderr=False).invoke(group, ["boom"])
    assert (result.exit_code, result.stderr) == (1, "Error: it broke\n")

    @click.group(cls=LazyGroup, commands={"boom": boom})
    @click.option("-v", "--verbose", count=True)
    @click.pass_context
    def root(ctx, verbose):
        from flasharb.cli import CliState

        ctx.obj = CliState(verbose=verbose)

    result = CliRunner(mix_stderr=False).invoke(root, ["-vv", "boom"])
    assert isinstance(result.exception, DeploymentError)


# ------------------------------------------------------------ bad input: one line, non-zero, nothing sent
def test_malformed_config_file_console_script(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("network = [\n")
    proc = run_script("--config", str(bad), "deploy")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(
        f"Error: config file {bad} is not valid TOML: "
    )
    assert "Traceback" not in proc.stderr


def test_bad_setting_from_env_console_script():
    proc = run_script("deploy", env={"FLASHARB_EXECUTORS": "0x12"})
    assert proc.returncode == 2
    assert proc.stderr == (
        "Error: invalid setting 'executors.0' (from FLASHARB_EXECUTORS): "
        "not a 0x-prefixed 20-byte hex address\n"
    )


def test_unknown_network():
    result = run("deploy", "--network", "nosuchchain:main", env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: unknown network 'nosuchchain:main': ")


def test_unknown_network_syntax():
    result = run("deploy", "--network", "polygon mainnet", env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 2 and result.stderr.startswith(
        "Error: invalid setting 'network' (from the command line)"
    )


def test_missing_key():
    result = run("deploy")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no signing account: pass --account ALIAS (an ape keystore; passphrase in "
        "APE_ACCOUNTS_<ALIAS>_PASSPHRASE) or set FLASHARB_PRIVATE_KEY\n"
    )


def test_malformed_key_is_not_echoed():
    almost = DEV_KEY[:-1]  # 63 hex digits
    result = run("deploy", env={"FLASHARB_PRIVATE_KEY": almost})
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: FLASHARB_PRIVATE_KEY is malformed: expected 32 bytes as 64 hex digits (0x optional)\n"
    )
    assert almost[2:] not in result.stdout + result.stderr


def test_key_and_account_together_is_a_config_error():
    result = run("deploy", "--account", "deployer", env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 2 and "choose one signer" in result.stderr


def test_no_node_running():
    url = f"http://127.0.0.1:{free_port()}"
    result = run("deploy", "--rpc-url", url, env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"Error: cannot connect to ethereum:local:foundry at {url}"
    )
    assert "make anvil" in lines[0]


def test_polygon_needs_its_rpc_url():
    result = run("deploy", "--network", "polygon:mainnet", env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: POLYGON_RPC_URL is not set: polygon:mainnet needs an RPC URL (or pass --rpc-url)\n",
    )
    result = run("deploy", "--network", "polygon:mainnet-fork:foundry", env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: POLYGON_RPC_URL is not set: polygon:mainnet-fork:foundry forks from it\n",
    )


def test_rpc_url_with_a_key_in_its_path_is_redacted():
    url = f"http://127.0.0.1:{free_port()}/v2/sEcReTpAtHkEy"
    result = run("deploy", "--rpc-url", url, env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 1 and "sEcReTpAtHkEy" not in result.stderr + result.stdout


def test_missing_artifact(tmp_path):
    result = run("deploy", env={"FLASHARB_PRIVATE_KEY": DEV_KEY, "FLASHARB_OUT_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: artifact {tmp_path}/FlashArbExecutor.sol/FlashArbExecutor.json not found: "
        "build it with `forge build` (make build)\n"
    )


def test_replica_show(tmp_path):
    result = run("replica", "show", "--chain-id", "4242", env={"FLASHARB_DEPLOYMENTS_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"Error: replica file {tmp_path}/replica-4242.json not found: deploy it with `make replica`\n"
    )


def test_replica_show_lists_the_lenders(tmp_path):
    source = Path(__file__).resolve().parents[3] / "deployments" / "replica-31337.json"
    if not source.is_file():
        pytest.skip("deployments/replica-31337.json is missing: make replica")
    (tmp_path / "replica-31337.json").write_text(source.read_text())
    result = run("replica", "show", env={"FLASHARB_DEPLOYMENTS_DIR": str(tmp_path)})
    assert result.exit_code == 0 and "Aave V3 Pool" in result.stdout and "Balancer V2 Vault" in result.stdout


def test_ape_run_deploy_is_the_same_command():
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHARB_")}
    env.setdefault("APE_DATA_FOLDER", str(root / ".ape"))
    ape = Path(sys.executable).with_name("ape")
    proc = subprocess.run(
        [str(ape), "run", "deploy", "--help"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: ape run deploy [OPTIONS]" in proc.stdout and "--profit-receiver" in proc.stdout


# ---------------------------------------------------------------------- flasharb run: bad input, nothing sent
EXECUTOR = "0x00000000000000000000000000000000000000e1"


def test_run_without_an_rpc_endpoint_is_one_line_exit_2():
    result = run("run", "--executor", EXECUTOR, env={"FLASHARB_PRIVATE_KEY": DEV_KEY})
    assert result.exit_code == 2
    assert "no RPC endpoint" in result.stderr and "Traceback" not in result.stderr


def test_run_with_a_malformed_replica_file_names_it(tmp_path):
    bad = tmp_path / "replica.json"
    bad.write_text('{"chain_id": "not a number"}')
    result = run(
        "run", "--executor", EXECUTOR, "--rpc-url", "http://127.0.0.1:9", "--replica", str(bad),
        env={"FLASHARB_PRIVATE_KEY": DEV_KEY},
    )  # fmt: skip
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "malformed" in result.stderr


def test_run_without_a_signing_key_refuses_before_connecting():
    result = run("run", "--executor", EXECUTOR, "--rpc-url", "http://127.0.0.1:9")
    assert result.exit_code != 0
    assert "FLASHARB_PRIVATE_KEY" in result.stderr
    assert DEV_KEY[2:] not in result.stderr + result.stdout


def test_run_with_liquidations_but_no_aave_file_names_the_missing_file(devchain, tmp_path):
    from flasharb.devchain import replica_cache_key
    from flasharb.paths import repo_root

    replica_file = tmp_path / "replica-31337.json"
    cached = repo_root() / ".cache" / "replica" / replica_cache_key(repo_root()) / "replica.json"
    replica_file.write_text(cached.read_text())
    result = run(
        "run", "--executor", EXECUTOR, "--rpc-url", devchain.url, "--replica", str(replica_file), "--liquidations",
        env={"FLASHARB_PRIVATE_KEY": DEV_KEY},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "replica-31337-aave.json" in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr
