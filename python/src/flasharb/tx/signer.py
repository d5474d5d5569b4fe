"""The hot-path signer: an eth-account key in memory, loaded once, never shown.

``flasharb.accounts`` gives ape accounts (for deployment through ape); signing every transaction through ape
costs milliseconds, so the bot signs with eth-account directly. The key comes from the same places:

- ``FLASHARB_PRIVATE_KEY`` (``Settings.private_key``): 32 bytes as hex, ``0x`` optional;
- an ape keystore alias (``--account ALIAS`` / ``FLASHARB_ACCOUNT``): ``<keystore>/<ALIAS>.json`` is decrypted
  once at start with ``APE_ACCOUNTS_<ALIAS>_PASSPHRASE`` (or a hidden prompt on a terminal). ape keystores are
  standard Web3 Secret Storage files, so eth-account decrypts them without importing ape.

The key is kept as an ``eth_keys`` ``PrivateKey`` (so signing does not re-derive the public key each time)
inside a box whose ``repr`` is ``<redacted>``. ``Signer`` has no ``__dict__``, its ``repr`` shows the address
and where the key came from, it refuses to be pickled or copied, and every error raised while loading or
signing is built outside the ``except`` block that caught the library's exception, so neither its text nor its
traceback (whose frames hold the key) is chained to what the caller sees.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_keys import keys
from eth_utils import keccak

from flasharb.accounts import passphrase_env
from flasharb.exceptions import AccountError, ConfigError
from flasharb.tx.errors import SigningError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flasharb.settings import Settings

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ALIAS = re.compile(r"[A-Za-z0-9_.-]+")
PRIVATE_KEY_ENV = "FLASHARB_PRIVATE_KEY"


class _KeyBox:
    """Holds the key; shows nothing."""

    __slots__ = ("value",)

    def __init__(self, value: keys.PrivateKey) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a private key cannot be pickled")


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction: ``raw`` is what ``eth_sendRawTransaction`` takes, ``hash`` its ``0x`` hash."""

    raw: bytes = field(repr=False)
    hash: str
    nonce: int


class Signer:
    """Signs EIP-1559 transaction dicts for one account. Build it with a ``from_*`` class method."""

    __slots__ = ("_box", "address", "source")

    def __init__(self, box: _KeyBox, source: str) -> None:
        if not isinstance(box, _KeyBox):
            raise TypeError("use Signer.from_private_key / from_keystore / from_settings")
        self._box = box
        self.address: str = box.value.public_key.to_checksum_address()
        self.source = source

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_private_key(cls, secret: SecretStr | str | bytes, *, source: str = PRIVATE_KEY_ENV) -> "Signer":
        """A signer from a raw key (hex string, ``SecretStr`` or 32 bytes). Errors never quote the key."""
        if isinstance(secret, (bytes, bytearray)):
            key = bytes(secret)
            if len(key) != 32:
                raise AccountError(f"{source} is malformed: expected 32 bytes")
        else:
            raw = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
            raw = raw.strip()
            if not _HEX_KEY.fullmatch(raw):
                raise AccountError(f"{source} is malformed: expected 32 bytes as 64 hex digits (0x optional)")
            key = bytes.fromhex(raw.removeprefix("0x"))
            del raw
        return cls(_box_key(key, source), source)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Signer":
        """A signer from ``FLASHARB_PRIVATE_KEY``."""
        env = os.environ if environ is None else environ
        value = env.get(PRIVATE_KEY_ENV)
        if not value:
            raise AccountError(
                f"no signing key: set {PRIVATE_KEY_ENV} or use a keystore account (--account ALIAS)"
            )
        return cls.from_private_key(value)

    @classmethod
    def from_keystore(
        cls,
        alias: str,
        keystore_dir: str | os.PathLike[str],
        *,
        passphrase: str | None = None,
        interactive: bool = False,
        environ: dict[str, str] | None = None,
    ) -> "Signer":
        """Decrypts the ape keystore ``<keystore_dir>/<alias>.json`` once (passphrase: argument, then
        ``APE_ACCOUNTS_<alias>_PASSPHRASE``, then a hidden prompt when ``interactive``)."""
        if not _ALIAS.fullmatch(alias):
            raise ConfigError(f"account alias {alias!r} is not a valid ape alias (letters, digits, _ . -)")
        path = Path(keystore_dir) / f"{alias}.json"
        if not path.is_file():
            raise AccountError(
                f"no ape keystore account {alias!r} in {path.parent} "
                f"(create one: ape accounts import {alias})"
            )
        try:
            keyfile = json.loads(path.read_text())
            if not isinstance(keyfile, dict) or "crypto" not in keyfile:
                raise ValueError
        except (ValueError, OSError):
            raise AccountError(f"keystore {path} is not an encrypted key file") from None
        env = os.environ if environ is None else environ
        if passphrase is None:
            passphrase = env.get(passphrase_env(alias))
        if passphrase is None:
            if not interactive:
                raise AccountError(
                    f"set {passphrase_env(alias)} to sign with keystore account {alias!r} headless"
                )
            import click

            passphrase = click.prompt(f"Passphrase for keystore account {alias!r}", hide_input=True)
        key, problem = _decrypt(keyfile, passphrase)
        del passphrase
        if problem is not None:
            raise AccountError(f"{problem} for keystore account {alias!r}")
        assert key is not None
        signer = cls(_box_key(key, f"keystore {alias!r}"), f"keystore:{alias}")
        del key
        expected = keyfile.get("address")
        if isinstance(expected, str) and expected.lower().removeprefix("0x") != signer.address.lower()[2:]:
            raise AccountError(f"keystore {path} decrypts to a key of another address than it records")
        return signer

    @classmethod
    def from_settings(cls, settings: Settings, *, interactive: bool | None = None) -> "Signer":
        """The signer ``Settings`` name: ``account`` (keystore) or ``private_key``; exactly one of them."""
        if settings.account and settings.private_key is not None:
            raise ConfigError(
                "choose one signer: --account / FLASHARB_ACCOUNT or FLASHARB_PRIVATE_KEY, not both"
            )
        if settings.account:
            if interactive is None:
                interactive = sys.stdin.isatty()
            return cls.from_keystore(settings.account, settings.keystore_path, interactive=interactive)
        if settings.private_key is not None:
            return cls.from_private_key(settings.private_key)
        raise AccountError(
            "no signing account: pass --account ALIAS (an ape keystore; passphrase in "
            f"APE_ACCOUNTS_<ALIAS>_PASSPHRASE) or set {PRIVATE_KEY_ENV}"
        )

    # ------------------------------------------------------------------ signing
    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        """Signs a transaction dict (eth-account's field names: ``type``, ``chainId``, ``nonce``, ``to``,
        ``value``, ``data``, ``gas``, ``maxFeePerGas``, ``maxPriorityFeePerGas``; ``to`` checksummed)."""
        problem: str | None = None
        try:
            signed = Account.sign_transaction(tx, self._box.value)
        except Exception as exc:  # the message is rebuilt below, outside this block (no chained traceback)
            problem = f"{type(exc).__name__}: {_scrub(str(exc))}"
        if problem is not None:
            raise SigningError(f"cannot sign transaction with nonce {tx.get('nonce')}: {problem}")
        raw = bytes(signed.raw_transaction)
        return SignedTx(raw=raw, hash="0x" + keccak(raw).hex(), nonce=int(tx["nonce"]))

    # ------------------------------------------------------------------ never shown
    def __repr__(self) -> str:
        return f"<Signer {self.address} ({self.source})>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Signer cannot be pickled (it holds a private key)")

    def __copy__(self) -> "Signer":
        raise TypeError("Signer cannot be copied (it holds a private key)")

    def __deepcopy__(self, memo: Any) -> "Signer":
        raise TypeError("Signer cannot be copied (it holds a private key)")


def _box_key(key: bytes, source: str) -> _KeyBox:
    problem = False
    try:
        box = _KeyBox(keys.PrivateKey(key))
    except Exception:
        problem = True
    if problem:
        raise AccountError(f"{source} is not a valid secp256k1 private key")
    return box


def _decrypt(keyfile: dict[str, Any], passphrase: str) -> tuple[bytes | None, str | None]:
    try:
        return bytes(Account.decrypt(keyfile, passphrase)), None
    except ValueError as exc:
        wrong = "MAC mismatch" in str(exc)
        return None, "wrong passphrase" if wrong else f"cannot decrypt the key file ({type(exc).__name__})"
    except Exception as exc:  # malformed cipher parameters and the like
        return None, f"cannot decrypt the key file ({type(exc).__name__})"


_LONG_HEX = re.compile(r"(0x)?[0-9a-fA-F]{64,}")


def _scrub(text: str) -> str:
    """Belt and braces: a library message never carries the key, but long hex blobs are cut anyway."""
    return _LONG_HEX.sub("<hex>", text)[:300]
