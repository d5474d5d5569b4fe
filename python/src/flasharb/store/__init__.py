"""The P&L store (SQLite by default, PostgreSQL by URL): ``Store.open(url)`` and its ``record_*`` writes.

See ``flasharb.store.store`` for the API and ``flasharb.store.models`` for the tables.
"""

from flasharb.store.models import DecisionKind, TxStatus
from flasharb.store.store import (
    Batch,
    DecisionCount,
    DecisionRecord,
    OpportunityRecord,
    ResultRecord,
    ResultView,
    SchemaError,
    Store,
    StoreError,
    TokenInfo,
    TxRecord,
    UnknownTransaction,
    default_database_url,
    opportunity_id,
    route_shape,
    safe_url,
    sqlite_url,
)

__all__ = [
    "Batch",
    "DecisionCount",
    "DecisionKind",
    "DecisionRecord",
    "OpportunityRecord",
    "ResultRecord",
    "ResultView",
    "SchemaError",
    "Store",
    "StoreError",
    "TokenInfo",
    "TxRecord",
    "TxStatus",
    "UnknownTransaction",
    "default_database_url",
    "opportunity_id",
    "route_shape",
    "safe_url",
    "sqlite_url",
]
