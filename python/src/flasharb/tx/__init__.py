"""The transaction layer: JSON-RPC with failover, EIP-1559 fees, nonces, signing, sending, private submission.

Everything here is asyncio and stays off ape, so the bot's path from a new block header to a signed
transaction on the wire costs a few milliseconds (``flasharb.bench.tx`` measures it). Typical wiring::

    async with RpcClient(parse_endpoints(urls)) as rpc:
        signer = Signer.from_settings(settings)
        nonces = await NonceManager.open(rpc, signer.address, default_store_path())
        fees = FeeOracle(rpc, FeePolicy())
        await fees.refresh()
        sender = TxSender(rpc, signer, nonces, fees=fees, executor=executor_address)
        await sender.recover()
        async with rpc.heads() as heads:
            async for head in heads:
                fees.on_head(head)
                ...  # detect, size, simulate, risk checks
                sent = await sender.send(executor_address, calldata, simulated_gas=gas)
                result = await sender.wait(sent, replace_after=4.0, fee_cap=risk.max_gas_price)
"""

from flasharb.tx.decode import DecodedRevert, RevertDecoder, RunResult, decode_run_executed
from flasharb.tx.errors import (
    AllEndpointsFailed,
    ChainMismatch,
    FeeError,
    NonceError,
    NonceTaken,
    ReplacementError,
    RpcError,
    RpcTimeout,
    RpcTransportError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    SigningError,
    StaleEndpoint,
    SubmitError,
    TxError,
)
from flasharb.tx.fees import FeeOracle, FeePolicy, Fees, default_min_priority_fee
from flasharb.tx.nonce import NonceManager, default_store_path
from flasharb.tx.rpc import Endpoint, Head, HeadStream, RpcClient, parse_endpoints
from flasharb.tx.sender import SentTx, TxResult, TxSender
from flasharb.tx.signer import SignedTx, Signer
from flasharb.tx.submit import BloxrouteSubmitter, PlainPrivateRpc, PublicMempool, Submitter

__all__ = [
    "AllEndpointsFailed",
    "BloxrouteSubmitter",
    "ChainMismatch",
    "DecodedRevert",
    "Endpoint",
    "FeeError",
    "FeeOracle",
    "FeePolicy",
    "Fees",
    "Head",
    "HeadStream",
    "NonceError",
    "NonceManager",
    "NonceTaken",
    "PlainPrivateRpc",
    "PublicMempool",
    "ReplacementError",
    "RevertDecoder",
    "RpcClient",
    "RpcError",
    "RpcTimeout",
    "RpcTransportError",
    "RunResult",
    "SendErrorKind",
    "SendOutcomeUnknown",
    "SendRejected",
    "SentTx",
    "SignedTx",
    "Signer",
    "SigningError",
    "StaleEndpoint",
    "SubmitError",
    "Submitter",
    "TxError",
    "TxResult",
    "TxSender",
    "decode_run_executed",
    "default_min_priority_fee",
    "default_store_path",
    "parse_endpoints",
]
