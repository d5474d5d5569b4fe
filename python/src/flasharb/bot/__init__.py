"""The bot: one block through the pipeline (``pipeline.Bot.process_block``) and the long-running loop (``run``).

collect (heads) -> sync + detect + size (``flasharb.engine``) -> simulate (``simulate``) -> risk
(``flasharb.risk``) -> sign and send (``flasharb.tx``) -> record (``flasharb.store``) and metrics
(``flasharb.metrics``). Each stage is its own module; the records between them are frozen dataclasses.
"""
