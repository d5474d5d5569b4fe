"""Typed settings, read once at startup: command line > environment (``FLASHARB_*``) > TOML file > defaults.

The config file is optional and named by ``--config`` or ``FLASHARB_CONFIG``; its keys are the field names
below (``network = "polygon:mainnet"``, ``executors = ["0x..."]``). Secrets come from the environment only:
``FLASHARB_PRIVATE_KEY`` and ``ETHERSCAN_API_KEY`` (a keystore passphrase comes from ape's
``APE_ACCOUNTS_<alias>_PASSPHRASE``); a config file that sets one is rejected. Relative paths are taken
from the repo root. Every problem becomes one ``ConfigError`` line that names the field and where its value
came from, never the value itself.

Other commands add their own fields here (with defaults, so existing config files stay valid).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from flasharb.exceptions import ConfigError
from flasharb.paths import repo_root

ENV_PREFIX = "FLASHARB_"
CONFIG_ENV = "FLASHARB_CONFIG"
DEFAULT_NETWORK = "ethereum:local:foundry"
ETHERSCAN_V2_API_URL = "https://api.etherscan.io/v2/api"

# field -> the environment variable that must carry it (never a file).
SECRET_FIELDS: dict[str, str] = {
    "private_key": "FLASHARB_PRIVATE_KEY",
    "etherscan_api_key": "ETHERSCAN_API_KEY",
}
# Environment variables that do not follow the FLASHARB_<FIELD> rule.
_ENV_NAMES: dict[str, str] = {"etherscan_api_key": "ETHERSCAN_API_KEY"}


def _address(value: str) -> str:
    """A 20-byte hex address, returned checksummed; a mixed-case one must carry a valid checksum."""
    if not isinstance(value, str) or not is_hex_address(value):
        raise ValueError("not a 0x-prefixed 20-byte hex address")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise ValueError("mixed-case address with a wrong EIP-55 checksum")
    return to_checksum_address(value)


def _split_list(value: Any) -> Any:
    """Environment lists: a JSON array or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("not a JSON array of addresses") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _network_choice(value: str) -> str:
    """``ecosystem:network[:provider]`` as ape spells it (whether ape knows it is checked when connecting)."""
    parts = value.split(":")
    ok = all(p.replace("-", "").replace("_", "").isalnum() for p in parts if p)
    if not 1 <= len(parts) <= 3 or not parts[0] or not ok:
        raise ValueError("expected an ape network choice like ethereum:local:foundry or polygon:mainnet")
    return value


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError("expected an http(s):// or ws(s):// URL")
    return value


Address = Annotated[str, AfterValidator(_address)]
NetworkChoice = Annotated[str, AfterValidator(_network_choice)]
Url = Annotated[str, AfterValidator(_url)]
AddressList = Annotated[tuple[Address, ...], NoDecode, BeforeValidator(_split_list)]

_TOML_DATA: ContextVar[Mapping[str, Any]] = ContextVar("flasharb_toml_data", default=MappingProxyType({}))


class _TomlDataSource(PydanticBaseSettingsSource):
    """The already-parsed config file (``Settings.load`` parses it, so errors can name the file)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is used instead
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_TOML_DATA.get())


class Settings(BaseSettings):
    """Everything the CLI and the bot read from outside. Build it with ``Settings.load``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,  # a ValidationError's text never shows a value (keys included)
        validate_default=True,
    )

    # ------------------------------------------------------------------ where things are
    root: Path = Field(default_factory=repo_root, description="monorepo root (holds foundry.toml)")
    out_dir: Path = Field(Path("out"), description="forge's artifacts (out/)")
    deployments_dir: Path = Field(Path("deployments"), description="deployment records")
    keystore_dir: Path | None = Field(None, description="ape keystores; default $APE_DATA_FOLDER/accounts")

    # ------------------------------------------------------------------ chain and signer
    network: NetworkChoice = Field(
        DEFAULT_NETWORK, description="ape network choice ecosystem:network[:provider]"
    )
    rpc_url: Url | None = Field(None, description="overrides the provider's URL for the chosen network")
    account: str | None = Field(None, description="ape keystore alias that signs")
    private_key: SecretStr | None = Field(None, description="hex key that signs (environment only)")

    # ------------------------------------------------------------------ executor deployment
    owner: Address | None = Field(None, description="final owner (default: the deployer)")
    profit_receiver: Address | None = Field(None, description="default: the owner")
    executors: AddressList = Field((), description="addresses allowed to call execute()")
    aave_pool: Address | None = Field(None, description="Aave V3 Pool (default: known per chain)")
    balancer_vault: Address | None = Field(None, description="Balancer V2 Vault (default: known per chain)")

    # ------------------------------------------------------------------ verification
    etherscan_api_url: Url = Field(ETHERSCAN_V2_API_URL, description="Etherscan v2 API endpoint")
    etherscan_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("etherscan_api_key", "ETHERSCAN_API_KEY"),
        description="environment only",
    )
    verify_poll_interval: float = Field(5.0, gt=0, description="first wait between status polls, seconds")
    verify_timeout: float = Field(300.0, gt=0, description="give up verifying after this many seconds")
    http_timeout: float = Field(30.0, gt=0, description="one HTTP request's timeout, seconds")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlDataSource(settings_cls))

    # ------------------------------------------------------------------ derived paths
    def path(self, value: Path) -> Path:
        """``value`` taken from the repo root when relative."""
        return value if value.is_absolute() else (self.root / value)

    @property
    def artifacts_dir(self) -> Path:
        return self.path(self.out_dir)

    @property
    def deployments_path(self) -> Path:
        return self.path(self.deployments_dir)

    @property
    def keystore_path(self) -> Path:
        if self.keystore_dir is not None:
            return self.path(self.keystore_dir)
        data = os.environ.get("APE_DATA_FOLDER")
        return (Path(data) if data else Path.home() / ".ape") / "accounts"

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``overrides`` (None values are ignored), the environment and the config file.

        ``config_file`` defaults to ``$FLASHARB_CONFIG``; no file at all is fine.
        """
        overrides = {k: v for k, v in overrides.items() if v is not None and v != ()}
        unknown = sorted(set(overrides) - set(cls.model_fields))
        if unknown:
            raise ConfigError(f"unknown setting(s) passed in code: {', '.join(unknown)}")
        source = config_file if config_file is not None else os.environ.get(CONFIG_ENV) or None
        path = Path(source).expanduser().resolve() if source else None
        data = _read_toml(path) if path else {}
        token = _TOML_DATA.set(data)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, path, data, overrides)) from None
        finally:
            _TOML_DATA.reset(token)


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _ENV_NAMES.get(field, f"{ENV_PREFIX}{field.upper()}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found (given by --config or {CONFIG_ENV})") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {type(exc).__name__}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message names line and column, never the value.
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    for key in data:
        if key in SECRET_FIELDS:
            raise ConfigError(
                f"config file {path} sets {key!r}: "
                f"secrets come from the environment only ({SECRET_FIELDS[key]})"
            )
    return data


def _describe(
    exc: ValidationError, path: Path | None, data: Mapping[str, Any], overrides: Mapping[str, Any]
) -> str:
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else "?"
        where = ".".join(loc)
        if err["type"] == "extra_forbidden":
            origin = f"in config file {path}" if field in data else "given"
            parts.append(f"unknown setting {field!r} {origin}")
            continue
        if field in overrides:
            origin = "from the command line"
        elif env_name(field) in os.environ or env_name(field).lower() in {k.lower() for k in os.environ}:
            origin = f"from {env_name(field)}"
        elif field in data:
            origin = f"from config file {path}"
        else:
            origin = "default"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"invalid setting {where!r} ({origin}): {msg}")
    return "; ".join(parts) or "invalid settings"
