"""One root for every error the package raises on purpose, with one subclass per domain.

A ``FlasharbError`` carries a message meant for the user: the CLI (``flasharb._cli``) prints it as one line
(``Error: ...``) and exits with its ``exit_code``. A ``ConfigError`` is also a ``click.ClickException``, so it
prints the same way when raised straight out of a click callback or parameter type.

Messages never contain secrets: code that handles a private key, passphrase or API key raises with a message
of its own and ``from None``, so neither the text nor the chained cause can carry the value.
"""

from __future__ import annotations

import click


class FlasharbError(Exception):
    """Root of the package's errors."""

    exit_code: int = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.message = str(args[0]) if args else ""


class ConfigError(FlasharbError, click.ClickException):
    """A setting, config file, replica file or command-line value is missing or malformed (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # FlasharbError -> ClickException -> Exception: every __init__ gets the one message.
        super().__init__(message)


class AccountError(FlasharbError):
    """A signing account cannot be loaded (unknown alias, wrong passphrase, malformed key)."""


class DeploymentError(FlasharbError):
    """Deploying or checking the executor failed."""


class VerificationError(FlasharbError):
    """Source verification on the block explorer failed."""


class ArtifactError(FlasharbError):
    """Forge's build output is missing, malformed, or not what was deployed."""
