"""One root for every error the package raises on purpose, with one subclass per domain.

A ``FlasharbError`` carries a message meant for the user: the CLI prints it as one line and exits non-zero.
"""

from __future__ import annotations


class FlasharbError(Exception):
    """Root of the package's errors."""


class ConfigError(FlasharbError):
    """A setting, config file, replica file or command-line value is missing or malformed."""


class AccountError(FlasharbError):
    """A signing account cannot be loaded (unknown alias, wrong passphrase, malformed key)."""


class DeploymentError(FlasharbError):
    """Deploying or checking the executor failed."""


class VerificationError(FlasharbError):
    """Source verification on the block explorer failed."""
