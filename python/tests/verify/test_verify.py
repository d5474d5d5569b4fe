"""flasharb verify against the local Etherscan v2 stand-in: exact form fields, every answer the API gives."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_abi import encode
from etherscan_standin import http, notok, ok, raw, slow
from verify_project import ADDRESS, API_KEY, ARGS, LIB, SOURCE, add_build_info, write_record

from flasharb._cli import cli
from flasharb.exceptions import ArtifactError, ConfigError, DeploymentError, VerificationError
from flasharb.settings import Settings
from flasharb.verify import EtherscanClient, build_request, chain_id_for_network, verify_executor

GUID = "ezq878u486pzijkvvmerl6a9mzwhv6sefgvqi5tkwceejc7tvn"


def make_settings(root: Path, standin, monkeypatch, **overrides) -> Settings:
    monkeypatch.setenv("ETHERSCAN_API_KEY", API_KEY)
    base = dict(
        root=root, etherscan_api_url=standin.url, verify_poll_interval=0.01, verify_timeout=5, http_timeout=2
    )
    return Settings.load(**{**base, **overrides})


# ---------------------------------------------------------------------- the happy path and the exact request
def test_pending_then_pass_sends_the_exact_fields(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script(
        "checkverifystatus", [notok("Pending in queue"), notok("Pending in queue"), ok("Pass - Verified")]
    )
    result = verify_executor(make_settings(project, standin, monkeypatch), 137)

    assert (result.status, result.guid, result.message) == ("verified", GUID, "Pass - Verified")
    assert result.explorer_url == f"https://polygonscan.com/address/{ADDRESS}#code"
    submit = standin.calls("verifysourcecode")
    assert len(submit) == 1
    req = submit[0]
    assert (req.method, req.path, req.query) == ("POST", "/v2/api", {"chainid": "137"})
    args = encode(["address"] * 4, ARGS).hex()
    expected = {
        "apikey": API_KEY,
        "module": "contract",
        "action": "verifysourcecode",
        "contractaddress": ADDRESS,
        "codeformat": "solidity-standard-json-input",
        "contractname": "src/FlashArbExecutor.sol:FlashArbExecutor",
        "compilerversion": "v0.8.28+commit.7893614a",
        "constructorArguements": args,
        "constructorArguments": args,
    }
    assert {k: v for k, v in req.form.items() if k != "sourceCode"} == expected
    assert not args.startswith("0x") and len(args) == 4 * 64
    std = json.loads(req.form["sourceCode"])
    assert set(std) == {"language", "sources", "settings"}
    # Only the contract's import closure, with the files' exact text; the unrelated source is left out.
    assert std["sources"] == {
        "src/FlashArbExecutor.sol": {"content": SOURCE},
        "src/Lib.sol": {"content": LIB},
    }
    assert std["settings"]["optimizer"] == {"enabled": True, "runs": 1000000}
    assert std["settings"]["evmVersion"] == "cancun"
    assert "compilationTarget" not in std["settings"]

    checks = standin.calls("checkverifystatus")
    assert len(checks) == 3
    for c in checks:
        assert c.method == "GET"
        assert c.query == {
            "chainid": "137",
            "module": "contract",
            "action": "checkverifystatus",
            "guid": GUID,
            "apikey": API_KEY,
        }


def test_amoy_uses_chain_80002(project, standin, monkeypatch):
    write_record(project, 80002, network="polygon:amoy:node")
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [ok("Pass - Verified")])
    result = verify_executor(make_settings(project, standin, monkeypatch), 80002)
    assert result.explorer_url.startswith("https://amoy.polygonscan.com/address/")
    assert standin.calls("verifysourcecode")[0].query == {"chainid": "80002"}


def test_build_info_input_is_used_when_forge_kept_it(project, standin, monkeypatch):
    add_build_info(project)
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [ok("Pass - Verified")])
    verify_executor(make_settings(project, standin, monkeypatch), 137)
    std = json.loads(standin.calls("verifysourcecode")[0].form["sourceCode"])
    assert set(std["sources"]) == {"src/FlashArbExecutor.sol", "src/Lib.sol"}
    assert std["settings"]["outputSelection"] == {"*": {"*": ["abi"]}}  # the build info's own settings
    assert "allowPaths" not in std and "version" not in std


def test_all_sources_sends_the_whole_build(project, standin, monkeypatch):
    add_build_info(project)
    request = build_request(make_settings(project, standin, monkeypatch), 137, all_sources=True)
    assert set(json.loads(request.source_code)["sources"]) == {
        "src/FlashArbExecutor.sol",
        "src/Lib.sol",
        "src/Unrelated.sol",
    }


# ---------------------------------------------------------------------- success variants
def test_already_verified_on_submit(project, standin, monkeypatch):
    standin.script("verifysourcecode", [notok("Contract source code already verified")])
    result = verify_executor(make_settings(project, standin, monkeypatch), 137)
    assert result.status == "already_verified"
    assert standin.calls("checkverifystatus") == []


def test_already_verified_on_check(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [ok("Already Verified")])
    assert verify_executor(make_settings(project, standin, monkeypatch), 137).status == "already_verified"


def test_no_wait_returns_the_guid(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    result = verify_executor(make_settings(project, standin, monkeypatch), 137, wait=False)
    assert (result.status, result.guid) == ("submitted", GUID)
    assert standin.calls("checkverifystatus") == []


def test_guid_only_polls(project, standin, monkeypatch):
    standin.script("checkverifystatus", [notok("Pending in queue"), ok("Pass - Verified")])
    result = verify_executor(make_settings(project, standin, monkeypatch), 137, guid=GUID)
    assert result.status == "verified"
    assert standin.calls("verifysourcecode") == []


# ---------------------------------------------------------------------- transient answers are retried
def test_rate_limit_is_retried_with_backoff(project, standin, monkeypatch):
    standin.script("verifysourcecode", [notok("Max calls per sec rate limit reached (5/sec)"), ok(GUID)])
    standin.script("checkverifystatus", [notok("Max rate limit reached"), http(429), ok("Pass - Verified")])
    sleeps: list[float] = []
    settings = make_settings(project, standin, monkeypatch)
    client = EtherscanClient(standin.url, API_KEY, 137, http_timeout=2, sleep=sleeps.append)
    result = verify_executor(settings, 137, client=client)
    assert result.status == "verified"
    assert len(standin.calls("verifysourcecode")) == 2 and len(standin.calls("checkverifystatus")) == 3
    assert sleeps == sorted(sleeps) and sleeps[-1] > sleeps[0]  # the interval grows


def test_contract_not_indexed_yet_is_resubmitted(project, standin, monkeypatch):
    standin.script("verifysourcecode", [notok(f"Unable to locate ContractCode at {ADDRESS}"), ok(GUID)])
    standin.script("checkverifystatus", [ok("Pass - Verified")])
    assert verify_executor(make_settings(project, standin, monkeypatch), 137).status == "verified"
    assert len(standin.calls("verifysourcecode")) == 2


def test_server_error_then_success(project, standin, monkeypatch):
    standin.script("verifysourcecode", [http(502, "<html>bad gateway</html>"), ok(GUID)])
    standin.script("checkverifystatus", [http(503), ok("Pass - Verified")])
    assert verify_executor(make_settings(project, standin, monkeypatch), 137).status == "verified"


def test_http_timeout_is_retried_then_gives_up(project, standin, monkeypatch):
    standin.script("verifysourcecode", [slow(1.0, ok(GUID))])
    settings = make_settings(
        project, standin, monkeypatch, http_timeout=0.2, verify_timeout=0.5, verify_poll_interval=0.1
    )
    with pytest.raises(VerificationError, match=r"gave up: verifysourcecode: no answer within 0.2 s"):
        verify_executor(settings, 137)
    assert len(standin.calls("verifysourcecode")) >= 2


# ---------------------------------------------------------------------- final errors
def test_fail_unable_to_verify(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    reason = (
        "Fail - Unable to verify. Compiled contract deployment bytecode does NOT match the transaction "
        "deployment bytecode."
    )
    standin.script("checkverifystatus", [notok("Pending in queue"), notok(reason)])
    with pytest.raises(
        VerificationError, match="verification failed: Fail - Unable to verify. Compiled contract"
    ):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_notok_submission_is_an_error(project, standin, monkeypatch):
    standin.script("verifysourcecode", [notok("Invalid constructor arguments provided")])
    with pytest.raises(
        VerificationError, match=r"Etherscan refused the submission \(NOTOK\): Invalid constructor"
    ):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_invalid_api_key(project, standin, monkeypatch):
    standin.script("verifysourcecode", [notok("Invalid API Key (#err2)|x")])
    with pytest.raises(VerificationError, match=r"rejected the API key \(ETHERSCAN_API_KEY\)"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_client_http_error_is_final(project, standin, monkeypatch):
    standin.script("verifysourcecode", [http(403, "forbidden")])
    with pytest.raises(VerificationError, match=r"verifysourcecode: HTTP 403 from 127.0.0.1:\d+"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)
    assert len(standin.calls("verifysourcecode")) == 1


def test_non_json_answer(project, standin, monkeypatch):
    standin.script("verifysourcecode", [raw("<html>maintenance</html>")])
    with pytest.raises(VerificationError, match="answered with no Etherscan JSON: '<html>maintenance"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_unknown_status_on_check(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [notok("Unknown UID")])
    with pytest.raises(VerificationError, match="checkverifystatus answered NOTOK: Unknown UID"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_still_pending_at_the_deadline(project, standin, monkeypatch):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [notok("Pending in queue")])
    settings = make_settings(project, standin, monkeypatch, verify_timeout=0.3, verify_poll_interval=0.05)
    with pytest.raises(VerificationError, match=f"verification {GUID} still pending after 0.3 s"):
        verify_executor(settings, 137)


def test_unreachable_api_names_the_host_not_the_key(project, standin, monkeypatch, caplog):
    standin.stop()  # nothing listens on the port any more
    caplog.set_level(logging.DEBUG)
    with pytest.raises(VerificationError) as info:
        verify_executor(make_settings(project, standin, monkeypatch), 137, guid=GUID)  # GET: key in the query
    text = str(info.value)
    assert "cannot reach 127.0.0.1:" in text and "ConnectionError" in text
    assert API_KEY not in text and API_KEY not in caplog.text and API_KEY not in repr(info.value)


# ---------------------------------------------------------------------- checked before anything is sent
def test_missing_api_key(project, standin, monkeypatch):
    settings = make_settings(project, standin, monkeypatch)
    monkeypatch.delenv("ETHERSCAN_API_KEY")
    with pytest.raises(ConfigError, match="ETHERSCAN_API_KEY is not set"):
        verify_executor(Settings.load(root=project, etherscan_api_url=settings.etherscan_api_url), 137)
    assert standin.requests == []


def test_out_dir_holds_another_build(project, standin, monkeypatch):
    write_record(project, 137, bytecode_hash="0x" + "00" * 32)
    with pytest.raises(VerificationError, match="is not the build deployed at"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)
    assert standin.requests == []


def test_source_edited_since_the_build(project, standin, monkeypatch):
    (project / "src" / "Lib.sol").write_text(LIB + "// edited\n")
    with pytest.raises(
        ArtifactError, match=r"src/Lib.sol in the working tree is not the source the artifact was compiled"
    ):
        verify_executor(make_settings(project, standin, monkeypatch), 137)
    assert standin.requests == []


def test_no_record(project, standin, monkeypatch):
    (project / "deployments" / "137.json").unlink()
    with pytest.raises(DeploymentError, match="no FlashArbExecutor recorded for chain 137"):
        verify_executor(make_settings(project, standin, monkeypatch), 137)


def test_only_polygon_chains(project, standin, monkeypatch):
    with pytest.raises(ConfigError, match="Polygonscan covers 137"):
        verify_executor(make_settings(project, standin, monkeypatch), 1)
    with pytest.raises(ConfigError, match="polygon:mainnet and polygon:amoy"):
        chain_id_for_network("ethereum:local:foundry")
    assert (
        chain_id_for_network("polygon:mainnet:node") == 137 and chain_id_for_network("polygon:amoy") == 80002
    )


# ---------------------------------------------------------------------- through the CLI
def _run(args, env):
    return CliRunner(mix_stderr=False).invoke(cli, args, env=env, catch_exceptions=False)


def test_cli_verify(project, standin):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [notok("Pending in queue"), ok("Pass - Verified")])
    env = {
        "ETHERSCAN_API_KEY": API_KEY,
        "FLASHARB_ROOT": str(project),
        "FLASHARB_ETHERSCAN_API_URL": standin.url,
        "FLASHARB_VERIFY_POLL_INTERVAL": "0.01",
    }
    result = _run(["verify", "--network", "polygon:mainnet"], env)
    assert result.exit_code == 0, result.stderr
    assert f"Verified {ADDRESS}" in result.stdout and "polygonscan.com" in result.stdout
    assert API_KEY not in result.stdout + result.stderr


def test_cli_verify_without_key_is_one_line(project, standin):
    result = _run(
        ["verify", "--chain-id", "137"],
        {"FLASHARB_ROOT": str(project), "FLASHARB_ETHERSCAN_API_URL": standin.url},
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: ETHERSCAN_API_KEY is not set (one Etherscan v2 key covers Polygon and Amoy)"
    ]
    assert standin.requests == []


def test_cli_verify_failure_is_one_line(project, standin):
    standin.script("verifysourcecode", [ok(GUID)])
    standin.script("checkverifystatus", [notok("Fail - Unable to verify")])
    env = {
        "ETHERSCAN_API_KEY": API_KEY,
        "FLASHARB_ROOT": str(project),
        "FLASHARB_ETHERSCAN_API_URL": standin.url,
        "FLASHARB_VERIFY_POLL_INTERVAL": "0.01",
    }
    result = _run(["verify", "--chain-id", "137"], env)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: verification failed: Fail - Unable to verify"
