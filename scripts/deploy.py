"""``ape run deploy [OPTIONS]``: the same command as ``flasharb deploy`` (prefer that one).

ape's ``run`` only looks in a top-level scripts/ folder, and uses a click command named ``cli`` when a script
defines one; this shim hands it ours, so both entry points take the same options and do the same thing.
"""

from flasharb.cli.deploy import cli  # noqa: F401
