"""flasharb: flash-loan arbitrage on Polygon.

The bot is a pipeline, one subpackage per stage:
collect -> sync (engine) -> detect/size (engine) -> simulate -> risk -> execute -> record/metrics.
Pure math (``flasharb.math``) and the route codec (``flasharb.route``) do no I/O.
"""

__version__ = "0.1.0"
