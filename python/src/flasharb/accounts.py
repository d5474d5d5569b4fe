"""The account that signs: an ape keystore alias, or a raw key from ``FLASHARB_PRIVATE_KEY``.

- Keystore (``--account NAME`` / ``FLASHARB_ACCOUNT``): ape's ``KeyfileAccount`` from
  ``<keystore>/<NAME>.json``, unlocked with the passphrase in ``APE_ACCOUNTS_<NAME>_PASSPHRASE`` (headless) or
  a hidden prompt on a terminal, then ``set_autosign(True)`` so no transaction waits for a confirmation.
- Private key (``FLASHARB_PRIVATE_KEY``): an in-memory ``PrivateKeyAccount``. The key lives only in a private
  attribute: it is not a model field, so it is in no ``repr``, ``model_dump`` or log line, and every error
  about it is raised ``from None`` with a message that does not quote it.

Both are ape ``AccountAPI``s, usable as ``sender=`` anywhere in ape. ape is imported lazily (it is slow).
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from flasharb.exceptions import AccountError, ConfigError

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI
    from pydantic import SecretStr

    from flasharb.settings import Settings

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def passphrase_env(alias: str) -> str:
    """ape's environment variable for a keystore's passphrase."""
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def load_account(settings: Settings, *, interactive: bool | None = None) -> AccountAPI:
    """The signer the settings name; raises ``AccountError`` (one line, no secret) when there is none."""
    has_key = settings.private_key is not None and bool(settings.private_key.get_secret_value().strip())
    if settings.account and has_key:
        raise ConfigError("choose one signer: --account / FLASHARB_ACCOUNT or FLASHARB_PRIVATE_KEY, not both")
    if settings.account:
        if interactive is None:
            interactive = sys.stdin.isatty()
        return load_keystore_account(settings.account, settings.keystore_path, interactive=interactive)
    if has_key:
        assert settings.private_key is not None
        return private_key_account(settings.private_key)
    raise AccountError(
        "no signing account: pass --account ALIAS (an ape keystore; passphrase in "
        "APE_ACCOUNTS_<ALIAS>_PASSPHRASE) or set FLASHARB_PRIVATE_KEY"
    )


def load_keystore_account(
    alias: str, keystore_dir: os.PathLike[str] | str, *, interactive: bool
) -> AccountAPI:
    """An unlocked, autosigning ape keystore account."""
    from pathlib import Path

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", alias):
        raise ConfigError(f"account alias {alias!r} is not a valid ape alias (letters, digits, _ . -)")
    path = Path(keystore_dir) / f"{alias}.json"
    if not path.is_file():
        raise AccountError(
            f"no ape keystore account {alias!r} in {path.parent} (create one: ape accounts import {alias})"
        )

    import json

    from ape_accounts.accounts import InvalidPasswordError, KeyfileAccount

    try:
        keyfile = json.loads(path.read_text())
        if not isinstance(keyfile, dict) or "crypto" not in keyfile or "address" not in keyfile:
            raise ValueError
    except (ValueError, OSError):
        raise AccountError(f"keystore {path} is not an encrypted key file") from None

    account = KeyfileAccount(keyfile_path=path)
    passphrase = os.environ.get(passphrase_env(alias))
    if passphrase is None:
        if not interactive:
            raise AccountError(
                f"set {passphrase_env(alias)} to sign with keystore account {alias!r} headless"
            )
        import click

        passphrase = click.prompt(f"Passphrase for keystore account {alias!r}", hide_input=True)
    try:
        account.set_autosign(True, passphrase=passphrase)
    except InvalidPasswordError:
        raise AccountError(f"wrong passphrase for keystore account {alias!r}") from None
    except Exception as exc:  # malformed cipher parameters and the like
        raise AccountError(f"cannot unlock keystore account {alias!r}: {type(exc).__name__}") from None
    return account


def private_key_account(secret: SecretStr | str) -> AccountAPI:
    """An ape account signing with a raw key (0x optional); the key is never shown."""
    raw = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
    raw = raw.strip()
    if not _HEX_KEY.fullmatch(raw):
        raise AccountError(
            "FLASHARB_PRIVATE_KEY is malformed: expected 32 bytes as 64 hex digits (0x optional)"
        )
    key = bytes.fromhex(raw.removeprefix("0x"))
    del raw
    cls = _private_key_account_class()
    try:
        return cls.from_key(key)
    except Exception:
        raise AccountError("FLASHARB_PRIVATE_KEY is not a valid secp256k1 private key") from None


_PKA: Any = None


def _private_key_account_class() -> Any:
    """Defines ``PrivateKeyAccount`` on first use (its base class comes from ape)."""
    global _PKA
    if _PKA is not None:
        return _PKA

    from ape.api.accounts import AccountAPI
    from ape_accounts.accounts import ApeSigner
    from pydantic import PrivateAttr

    class PrivateKeyAccount(AccountAPI):
        """Signs with a key held in memory only (a private attribute: in no repr, dump or error)."""

        _signer: Any = PrivateAttr(default=None)

        @classmethod
        def from_key(cls, key: bytes) -> PrivateKeyAccount:
            from eth_account import Account

            Account.from_key(key)  # rejects zero and out-of-range keys (raises without quoting the key)
            account = cls()
            account._signer = ApeSigner(private_key="0x" + key.hex())
            return account

        @property
        def alias(self) -> str:
            return "FLASHARB_PRIVATE_KEY"

        @property
        def address(self) -> Any:
            return self._signer.address

        @property
        def public_key(self) -> Any:
            return self._signer.public_key

        def sign_message(self, msg: Any, **signer_options: Any) -> Any:
            return self._signer.sign_message(msg, **signer_options)

        def sign_transaction(self, txn: Any, **signer_options: Any) -> Any:
            return self._signer.sign_transaction(txn, **signer_options)

        def sign_raw_msghash(self, msghash: Any) -> Any:
            return self._signer.sign_raw_msghash(msghash)

        def sign_authorization(
            self, address: Any, chain_id: int | None = None, nonce: int | None = None
        ) -> Any:
            return self._signer.sign_authorization(address, chain_id=chain_id, nonce=nonce)

        def __repr__(self) -> str:
            return f"<PrivateKeyAccount {self.address}>"

        def __getstate__(self) -> Any:
            raise TypeError("PrivateKeyAccount cannot be pickled (it holds a private key)")

    _PKA = PrivateKeyAccount
    return _PKA
