"""flasharb.settings: sources and their precedence, validation, one-line errors that never show a value."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest

from flasharb.exceptions import ConfigError, FlasharbError
from flasharb.paths import repo_root
from flasharb.settings import DEFAULT_NETWORK, ETHERSCAN_V2_API_URL, Settings, env_name

A1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
A2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
KEY = "0x" + "5e" * 32  # made up


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FLASHARB_") or name == "ETHERSCAN_API_KEY":
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flasharb.toml"
    path.write_text(text)
    return path


def test_defaults():
    s = Settings.load()
    assert s.network == DEFAULT_NETWORK == "ethereum:local:foundry"
    assert s.root == repo_root()
    assert s.artifacts_dir == repo_root() / "out"
    assert s.deployments_path == repo_root() / "deployments"
    assert s.etherscan_api_url == ETHERSCAN_V2_API_URL
    assert s.private_key is None and s.etherscan_api_key is None and s.executors == ()


def test_precedence_command_line_over_env_over_file(tmp_path, monkeypatch):
    text = f'network = "polygon:amoy"\nprofit_receiver = "{A1.lower()}"\nverify_timeout = 12\n'
    path = write(tmp_path, text)
    s = Settings.load(path)
    assert (s.network, s.profit_receiver, s.verify_timeout) == ("polygon:amoy", A1, 12.0)  # checksummed
    monkeypatch.setenv("FLASHARB_NETWORK", "polygon:mainnet")
    assert Settings.load(path).network == "polygon:mainnet"
    assert (
        Settings.load(path, network="polygon:mainnet-fork:foundry").network == "polygon:mainnet-fork:foundry"
    )
    assert Settings.load(path, network=None).network == "polygon:mainnet"  # None = not given


def test_config_file_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHARB_CONFIG", str(write(tmp_path, 'account = "deployer"\n')))
    assert Settings.load().account == "deployer"


def test_executors_from_env_as_list_or_json(monkeypatch):
    monkeypatch.setenv("FLASHARB_EXECUTORS", f"{A1}, {A2.lower()}")
    assert Settings.load().executors == (A1, A2)
    monkeypatch.setenv("FLASHARB_EXECUTORS", f'["{A2}"]')
    assert Settings.load().executors == (A2,)


def test_relative_paths_are_from_the_root(tmp_path):
    s = Settings.load(root=tmp_path, out_dir="build/out", deployments_dir=tmp_path / "d")
    assert s.artifacts_dir == tmp_path / "build" / "out" and s.deployments_path == tmp_path / "d"


def test_keystore_dir_follows_ape_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path))
    assert Settings.load().keystore_path == tmp_path / "accounts"
    assert Settings.load(keystore_dir=tmp_path / "k").keystore_path == tmp_path / "k"


def test_secrets_come_from_env_and_stay_hidden(monkeypatch):
    monkeypatch.setenv("FLASHARB_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ETHERSCAN_API_KEY", "ABCDEF123")
    s = Settings.load()
    assert s.private_key.get_secret_value() == KEY and s.etherscan_api_key.get_secret_value() == "ABCDEF123"
    for text in (repr(s), str(s), str(s.model_dump())):
        assert KEY not in text and KEY[2:] not in text and "ABCDEF123" not in text
    assert (
        env_name("etherscan_api_key") == "ETHERSCAN_API_KEY"
        and env_name("private_key") == "FLASHARB_PRIVATE_KEY"
    )


@pytest.mark.parametrize("key", ["private_key", "etherscan_api_key"])
def test_a_secret_in_the_config_file_is_refused(tmp_path, key):
    path = write(tmp_path, f'{key} = "{KEY}"\n')
    with pytest.raises(ConfigError) as info:
        Settings.load(path)
    assert str(info.value) == (
        f"config file {path} sets {key!r}: secrets come from the environment only "
        f"({'FLASHARB_PRIVATE_KEY' if key == 'private_key' else 'ETHERSCAN_API_KEY'})"
    )
    assert KEY not in str(info.value)


# ------------------------------------------------------------ errors: one line, field and source named
def one_line_error(*args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.load(*args, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_missing_config_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert one_line_error(path) == f"config file {path} not found (given by --config or FLASHARB_CONFIG)"


def test_malformed_toml(tmp_path):
    path = write(tmp_path, 'network = "polygon:mainnet\n')
    assert one_line_error(path).startswith(f"config file {path} is not valid TOML: ")


def test_unknown_key_in_file(tmp_path):
    path = write(tmp_path, "netwrok = 'polygon:mainnet'\n")
    assert one_line_error(path) == f"unknown setting 'netwrok' in config file {path}"


def test_bad_address_from_file_names_field_and_file(tmp_path):
    secretish = "0xnot-an-address-but-maybe-sensitive"
    path = write(tmp_path, f'profit_receiver = "{secretish}"\n')
    text = one_line_error(path)
    assert (
        text == f"invalid setting 'profit_receiver' (from config file {path}): "
        "not a 0x-prefixed 20-byte hex address"
    )
    assert secretish not in text


def test_bad_checksum_from_env(monkeypatch):
    monkeypatch.setenv("FLASHARB_OWNER", A1[:-1] + "9")  # mixed case, wrong checksum
    assert (
        one_line_error()
        == "invalid setting 'owner' (from FLASHARB_OWNER): mixed-case address with a wrong EIP-55 checksum"
    )


def test_bad_executor_in_list(monkeypatch):
    monkeypatch.setenv("FLASHARB_EXECUTORS", f"{A1},0x12")
    assert one_line_error().startswith(
        "invalid setting 'executors.1' (from FLASHARB_EXECUTORS): not a 0x-prefixed"
    )


def test_bad_values_from_the_command_line():
    assert one_line_error(network="polygon mainnet").startswith(
        "invalid setting 'network' (from the command line)"
    )
    assert one_line_error(rpc_url="localhost:8545") == (
        "invalid setting 'rpc_url' (from the command line): expected an http(s):// or ws(s):// URL"
    )


def test_several_errors_in_one_line(monkeypatch):
    monkeypatch.setenv("FLASHARB_VERIFY_TIMEOUT", "-1")
    monkeypatch.setenv("FLASHARB_HTTP_TIMEOUT", "soon")
    text = one_line_error()
    assert "'verify_timeout' (from FLASHARB_VERIFY_TIMEOUT): Input should be greater than 0" in text
    assert "'http_timeout' (from FLASHARB_HTTP_TIMEOUT)" in text and "soon" not in text


def test_config_error_prints_like_a_click_error():
    err = ConfigError("bad thing")
    assert isinstance(err, FlasharbError) and isinstance(err, click.ClickException)
    assert (err.exit_code, err.format_message(), str(err)) == (2, "bad thing", "bad thing")
