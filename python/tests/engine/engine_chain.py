"""Moving the replica's pools for the engine tests: swaps through the real routers, V3 liquidity through the
real position manager, all sent by the replica's admin (anvil's first dev account, unlocked); the lens code.

Helpers, not fakes: every state change is a real transaction the engine must then see through logs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from flasharb.lens import LensError, load_runtime_code
from flasharb.paths import foundry_env, repo_root

MAX_UINT = (1 << 256) - 1


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def calldata(signature: str, types: list[str], args: list) -> str:
    return "0x" + (selector(signature) + encode(types, args)).hex()


def send(w3: Web3, sender: str, to: str, data: str, value: int = 0) -> dict:
    tx = {"from": sender, "to": Web3.to_checksum_address(to), "data": data, "value": value, "gas": 3_000_000}
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    assert receipt["status"] == 1, f"transaction to {to} reverted"
    return receipt


def call(w3: Web3, to: str, data: str, sender: str | None = None) -> bytes:
    tx = {"to": Web3.to_checksum_address(to), "data": data}
    if sender:
        tx["from"] = sender
    return bytes(w3.eth.call(tx))


def fund(w3: Web3, replica, symbol: str, amount: int) -> None:
    """Gives the admin ``amount`` of a replica token (wraps native for WMATIC, mints otherwise)."""
    token = replica.token(symbol).address
    if symbol == "WMATIC":
        send(w3, replica.admin, token, calldata("deposit()", [], []), value=amount)
    else:
        send(
            w3,
            replica.admin,
            token,
            calldata("mint(address,uint256)", ["address", "uint256"], [replica.admin, amount]),
        )


def approve(w3: Web3, replica, symbol: str, spender: str, amount: int = MAX_UINT) -> None:
    send(
        w3,
        replica.admin,
        replica.token(symbol).address,
        calldata("approve(address,uint256)", ["address", "uint256"], [spender, amount]),
    )


def units(replica, symbol: str, usd: float) -> int:
    """Raw amount of ``symbol`` worth ``usd`` at the replica's reference price."""
    t = replica.token(symbol)
    return int(usd * 10**t.decimals * 10**8 // t.usd_price_e8)


def v2_swap(w3: Web3, replica, dex: str, token_in: str, token_out: str, amount_in: int) -> None:
    """Sells ``amount_in`` of ``token_in`` through QuickSwap's or SushiSwap's router (``dex``)."""
    router = getattr(replica, dex).router
    fund(w3, replica, token_in, amount_in)
    approve(w3, replica, token_in, router, amount_in)
    path = [replica.token(token_in).address, replica.token(token_out).address]
    send(
        w3,
        replica.admin,
        router,
        calldata(
            "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
            ["uint256", "uint256", "address[]", "address", "uint256"],
            [amount_in, 0, path, replica.admin, MAX_UINT],
        ),
    )


def v3_swap(w3: Web3, replica, token_in: str, token_out: str, fee: int, amount_in: int) -> None:
    """Sells ``amount_in`` of ``token_in`` into the V3 pool (fee tier ``fee``) through the real SwapRouter."""
    router = replica.uniswap_v3.swap_router
    fund(w3, replica, token_in, amount_in)
    approve(w3, replica, token_in, router, amount_in)
    params = (
        replica.token(token_in).address,
        replica.token(token_out).address,
        fee,
        replica.admin,
        MAX_UINT,
        amount_in,
        0,
        0,
    )
    send(
        w3,
        replica.admin,
        router,
        calldata(
            "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))",
            ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"],
            [params],
        ),
    )


def v3_mint(
    w3: Web3,
    replica,
    symbol_a: str,
    symbol_b: str,
    fee: int,
    lower: int,
    upper: int,
    amount_a: int,
    amount_b: int,
) -> None:
    """Adds a position through the NonfungiblePositionManager (the pool emits ``Mint``)."""
    npm = replica.uniswap_v3.position_manager
    a, b = replica.token(symbol_a).address, replica.token(symbol_b).address
    (t0, s0, x0), (t1, s1, x1) = sorted(
        [(a, symbol_a, amount_a), (b, symbol_b, amount_b)], key=lambda t: t[0].lower()
    )
    for s, x in ((s0, x0), (s1, x1)):
        fund(w3, replica, s, x)
        approve(w3, replica, s, npm, x)
    params = (t0, t1, fee, lower, upper, x0, x1, 0, 0, replica.admin, MAX_UINT)
    send(
        w3,
        replica.admin,
        npm,
        calldata(
            "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))",
            ["(address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256)"],
            [params],
        ),
    )


def v3_position_liquidity(w3: Web3, replica, token_id: int) -> int:
    raw = call(
        w3, replica.uniswap_v3.position_manager, calldata("positions(uint256)", ["uint256"], [token_id])
    )
    return int.from_bytes(raw[7 * 32 : 8 * 32])


def v3_burn(w3: Web3, replica, token_id: int, liquidity: int) -> None:
    """Removes ``liquidity`` from position ``token_id`` (the pool emits ``Burn``)."""
    send(
        w3,
        replica.admin,
        replica.uniswap_v3.position_manager,
        calldata(
            "decreaseLiquidity((uint256,uint128,uint256,uint256,uint256))",
            ["(uint256,uint128,uint256,uint256,uint256)"],
            [(token_id, liquidity, 0, 0, MAX_UINT)],
        ),
    )


@lru_cache(maxsize=1)
def lens_forge_out() -> Path:
    """A forge out/ holding PoolLens's artifact: the repo's, $FLASHARB_FORGE_OUT's, or one built now."""
    try:
        load_runtime_code()
        return Path(os.environ.get("FLASHARB_FORGE_OUT") or repo_root() / "out")
    except LensError:
        pass
    out = Path(tempfile.gettempdir()) / "flasharb-engine-tests-out"
    try:
        load_runtime_code(out)
        return out
    except LensError:
        pass
    env = foundry_env()
    env["FOUNDRY_OUT"] = str(out)
    env["FOUNDRY_CACHE_PATH"] = str(out.parent / "flasharb-engine-tests-cache")
    result = subprocess.run(
        ["forge", "build", "src/lens/PoolLens.sol"], cwd=repo_root(), env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"forge build of PoolLens failed: {result.stderr[-2000:]}")
    load_runtime_code(out)
    return out


def v2_add_liquidity(
    w3: Web3, replica, dex: str, symbol_a: str, symbol_b: str, amount_a: int, amount_b: int
) -> None:
    """Adds liquidity through the router, creating the pair if it does not exist (PairCreated)."""
    router = getattr(replica, dex).router
    for s, x in ((symbol_a, amount_a), (symbol_b, amount_b)):
        fund(w3, replica, s, x)
        approve(w3, replica, s, router, x)
    send(
        w3,
        replica.admin,
        router,
        calldata(
            "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)",
            ["address", "address", "uint256", "uint256", "uint256", "uint256", "address", "uint256"],
            [
                replica.token(symbol_a).address,
                replica.token(symbol_b).address,
                amount_a,
                amount_b,
                0,
                0,
                replica.admin,
                MAX_UINT,
            ],
        ),
    )
