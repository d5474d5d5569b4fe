"""`python -m flasharb.bench NAME`: runs one benchmark and writes bench/results/NAME.json.

Each benchmark module exposes ``run() -> dict``; a suite may merge several (``python`` = pool math + lens).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from flasharb.paths import repo_root

SUITES: dict[str, tuple[str, ...]] = {
    "python": ("flasharb.bench.python_math", "flasharb.bench.lens"),
    "engine": ("flasharb.bench.engine",),
    "latency": ("flasharb.bench.latency",),
    "relay": ("flasharb.bench.relay",),
    "liquidations": ("flasharb.bench.liquidations", "flasharb.bench.liquidation_math"),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SUITES:
        print(f"usage: python -m flasharb.bench {{{'|'.join(SUITES)}}}", file=sys.stderr)
        return 2
    name = argv[0]
    result: dict = {}
    for module in SUITES[name]:
        result.update(importlib.import_module(module).run())
    out = repo_root() / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))
    print(f"wrote {Path(out).relative_to(repo_root())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
