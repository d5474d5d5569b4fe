"""The ``flasharb`` subcommands, one module per noun (registered in ``flasharb._cli.COMMANDS``).

Shared pieces: ``CliState`` (the root group's options, on ``ctx.obj``), ``settings`` (loads ``Settings`` with
the command-line values on top), the two rich consoles (results on stdout, progress on stderr) and
``setup_logging``. Keep this module and the command modules cheap to import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

if TYPE_CHECKING:
    from flasharb.settings import Settings

out = Console(soft_wrap=True, highlight=False)  # results (stdout)
err = Console(stderr=True, soft_wrap=True, highlight=False)  # progress and logs (stderr)


@dataclass
class CliState:
    config_file: Path | None = None
    verbose: int = 0


def state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    return obj if obj is not None else CliState()


def settings(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the config file and environment, under the command-line values (None = not given)."""
    from flasharb.settings import Settings

    return Settings.load(state(ctx).config_file, **overrides)


def setup_logging(ctx: click.Context, *, ape: bool = False) -> None:
    """flasharb's progress lines on stderr (INFO); ape's own logs only with -v."""
    from rich.logging import RichHandler

    verbose = state(ctx).verbose
    root = logging.getLogger("flasharb")
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        handler = RichHandler(
            console=err, show_time=False, show_path=False, markup=False, rich_tracebacks=False
        )
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    if ape:
        from ape.logging import logger as ape_logger

        ape_logger.set_level("INFO" if verbose else "WARNING")
