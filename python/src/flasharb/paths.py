"""Where the monorepo keeps what Python reads: forge's out/, deployments/, the npm toolchain."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The monorepo root (FLASHARB_ROOT overrides; else the folder holding foundry.toml above this file)."""
    env = os.environ.get("FLASHARB_ROOT")
    if env:
        return Path(env).resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "foundry.toml").is_file():
            return parent
    return Path.cwd()


def foundry_bin_dirs(root: Path | None = None) -> list[Path]:
    """The Foundry platform binaries from npm (never the node_modules/.bin shims: they hide exit codes)."""
    root = root or repo_root()
    return [root / "node_modules" / "@foundry-rs" / f"{tool}-linux-amd64" / "bin" for tool in ("forge", "anvil", "cast")]


def foundry_env(root: Path | None = None) -> dict[str, str]:
    """os.environ with the Foundry binaries first on PATH and ape's data folder inside the project."""
    root = root or repo_root()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*(str(p) for p in foundry_bin_dirs(root)), env.get("PATH", "")])
    env.setdefault("APE_DATA_FOLDER", str(root / ".ape"))
    return env
