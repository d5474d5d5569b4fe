"""The hot-path signer: loads from the environment or an ape keystore; the key is never shown."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback

import pytest
from eth_account import Account

from flasharb.exceptions import AccountError, ConfigError
from flasharb.settings import Settings
from flasharb.tx import Signer, SigningError

KEY = "0x" + "5c" * 32  # a throwaway test key
KEY_BODY = KEY[2:]
ADDRESS = Account.from_key(KEY).address


def _tx(**over):
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": 3,
        "to": "0x000000000000000000000000000000000000dEaD",
        "value": 0,
        "data": b"\x01",
        "gas": 30000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    tx.update(over)
    return tx


def _keystore(tmp_path, alias: str, passphrase: str):
    keyfile = Account.encrypt(KEY, passphrase, kdf="pbkdf2", iterations=2)  # cheap for tests; ape uses scrypt
    path = tmp_path / f"{alias}.json"
    path.write_text(json.dumps(keyfile))
    return path


def test_signs_exactly_like_eth_account():
    signer = Signer.from_private_key(KEY)
    signed = signer.sign_transaction(_tx())
    expected = Account.from_key(KEY).sign_transaction(_tx())
    assert signed.raw == bytes(expected.raw_transaction) and signed.hash == "0x" + expected.hash.hex()
    assert signer.address == ADDRESS and signed.nonce == 3
    assert Signer.from_private_key(KEY_BODY).address == ADDRESS  # 0x optional


def test_from_env(monkeypatch):
    monkeypatch.setenv("FLASHARB_PRIVATE_KEY", KEY)
    assert Signer.from_env().address == ADDRESS
    with pytest.raises(AccountError, match="no signing key"):
        Signer.from_env({})


def test_from_ape_keystore_alias(tmp_path, monkeypatch):
    _keystore(tmp_path, "bot", "correct horse")
    monkeypatch.setenv("APE_ACCOUNTS_bot_PASSPHRASE", "correct horse")
    signer = Signer.from_keystore("bot", tmp_path)
    assert signer.address == ADDRESS and signer.source == "keystore:bot"
    monkeypatch.setenv("APE_ACCOUNTS_bot_PASSPHRASE", "wrong horse")
    with pytest.raises(AccountError, match="wrong passphrase for keystore account 'bot'") as info:
        Signer.from_keystore("bot", tmp_path)
    assert "wrong horse" not in str(info.value) and "correct horse" not in str(info.value)
    monkeypatch.delenv("APE_ACCOUNTS_bot_PASSPHRASE")
    with pytest.raises(AccountError, match="APE_ACCOUNTS_bot_PASSPHRASE"):
        Signer.from_keystore("bot", tmp_path)
    with pytest.raises(AccountError, match="no ape keystore account 'nobody'"):
        Signer.from_keystore("nobody", tmp_path)
    with pytest.raises(ConfigError):
        Signer.from_keystore("../etc/passwd", tmp_path)
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(AccountError, match="not an encrypted key file"):
        Signer.from_keystore("junk", tmp_path, passphrase="x")


def test_from_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASHARB_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("FLASHARB_ACCOUNT", raising=False)
    _keystore(tmp_path, "bot", "pw")
    monkeypatch.setenv("APE_ACCOUNTS_bot_PASSPHRASE", "pw")
    assert Signer.from_settings(Settings.load(account="bot", keystore_dir=tmp_path)).address == ADDRESS
    monkeypatch.setenv("FLASHARB_PRIVATE_KEY", KEY)
    assert Signer.from_settings(Settings.load()).address == ADDRESS
    with pytest.raises(ConfigError, match="choose one signer"):
        Signer.from_settings(Settings.load(account="bot", keystore_dir=tmp_path))
    monkeypatch.delenv("FLASHARB_PRIVATE_KEY")
    with pytest.raises(AccountError, match="no signing account"):
        Signer.from_settings(Settings.load())


@pytest.mark.parametrize("bad", ["0x1234", "zz" * 32, "0x" + "00" * 32, "0x" + "ff" * 32])
def test_malformed_keys_are_refused_without_quoting_them(bad):
    with pytest.raises(AccountError) as info:
        Signer.from_private_key(bad)
    text = "".join(traceback.format_exception(info.value))
    assert bad.removeprefix("0x") not in text or len(bad) < 12


def test_the_key_is_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    signer = Signer.from_private_key(KEY)
    logging.getLogger("test").info("signer %s %r", signer, signer)
    shown = [repr(signer), str(signer), f"{signer}", caplog.text]
    assert all(KEY_BODY not in s and KEY_BODY.upper() not in s for s in shown)
    assert ADDRESS in repr(signer)
    assert repr(signer._box) == "<redacted>" and not hasattr(signer, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer._box)
    with pytest.raises(TypeError):
        copy.copy(signer)
    with pytest.raises(TypeError):
        copy.deepcopy(signer)
    # A signing failure names the problem, carries no chained library exception and no key.
    with pytest.raises(SigningError) as info:
        signer.sign_transaction(_tx(to="0x000000000000000000000000000000000000dead", gas="lots"))
    err = info.value
    assert err.__cause__ is None and err.__context__ is None
    text = "".join(traceback.format_exception(err))
    assert KEY_BODY not in text and "nonce 3" in str(err)
    for frame in traceback.walk_tb(err.__traceback__):
        for value in frame[0].f_locals.values():
            assert KEY_BODY not in repr(value)
