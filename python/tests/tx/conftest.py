"""Fixtures of the transaction-layer tests: dedicated plain anvils (so mining modes can change without
disturbing the shared replica chain), freshly funded random accounts, and a runner for ``async def`` tests."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from txhelpers import Anvil, Funded, funded_account, launch_anvil

ASYNC_TEST_TIMEOUT = 90.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Runs ``async def`` tests in a fresh event loop (the suite has no asyncio plugin)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(asyncio.wait_for(pyfuncitem.obj(**args), ASYNC_TEST_TIMEOUT))
        return True
    return None


@pytest.fixture(scope="module")
def anvil() -> Anvil:
    node = launch_anvil()
    yield node
    node.close()


@pytest.fixture()
def fresh_anvil() -> Anvil:
    """An anvil for one test (free to turn automine off)."""
    node = launch_anvil()
    yield node
    node.close()


@pytest.fixture()
def account(anvil: Anvil) -> Funded:
    return funded_account(anvil)
