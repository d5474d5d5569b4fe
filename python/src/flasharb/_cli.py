"""``flasharb``: one click group; each noun's commands live in ``flasharb/cli/<noun>.py``, loaded when used.

Adding a command is one line in ``COMMANDS`` (``"name": "module:attribute"``). Command modules must import
fast: ape, web3 and the like are imported inside the command callbacks, so ``flasharb --help`` stays quick.

Any ``FlasharbError`` that escapes a command prints as one ``Error: ...`` line and exits with its exit code
(2 for a ``ConfigError``, 1 otherwise); no traceback unless ``-vv``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from flasharb import __version__
from flasharb.exceptions import FlasharbError

COMMANDS: dict[str, str] = {
    "deploy": "flasharb.cli.deploy:cli",
    "verify": "flasharb.cli.verify:cli",
    "replica": "flasharb.cli.replica:cli",
    "report": "flasharb.cli.report:cli",
    "run": "flasharb.cli.run:cli",
    "demo": "flasharb.cli.run:demo",
    "scan": "flasharb.cli.relay:scan",
    "agent": "flasharb.cli.relay:agent",
    "record": "flasharb.cli.relay:record",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when used (or listed by --help)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, _, attr = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attr or "cli")
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise  # ConfigError is one too
        except FlasharbError as exc:
            if ctx.obj is not None and getattr(ctx.obj, "verbose", 0) >= 2:
                raise
            raise OneLineError(exc) from None


class OneLineError(click.ClickException):
    """A FlasharbError shown the click way: ``Error: <message>`` on stderr, non-zero exit."""

    def __init__(self, exc: FlasharbError) -> None:
        super().__init__(str(exc))
        self.exit_code = exc.exit_code


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: $FLASHARB_CONFIG). Environment variables FLASHARB_* override it.",
)
@click.option("-v", "--verbose", count=True, help="-v: ape's and flasharb's info logs; -vv: tracebacks too.")
@click.version_option(__version__, prog_name="flasharb")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, verbose: int) -> None:
    """Flash-loan arbitrage on Polygon: deploy and verify the executor, run the bot."""
    from flasharb.cli import CliState

    ctx.obj = CliState(config_file=config_file, verbose=verbose)
