"""A continuous pull from a JetStream consumer: messages are pushed to the agent as soon as they are stored.

Why not ``PullSubscription.fetch``: one fetch is one round trip per batch, and nats-py's lingering fetch,
once it has one message, waits out its whole timeout for the rest of the batch (a batch of 64 at a low rate
adds up to the timeout to every message's latency). Here the feed keeps pull requests outstanding on the
server (``$JS.API.CONSUMER.MSG.NEXT``, ``batch`` and ``expires``) and tops them up as messages arrive, the way
the newer NATS clients' ``consume()`` does: a message is delivered the moment it is stored, and at high rates
many messages ride on one request.

Credit is tracked per request, oldest first (the server fills waiting requests in arrival order); a request
is forgotten (and replaced) at three quarters of its ``expires``, so there is never a gap with nothing
requested, and requests lost with a broker restart are replaced within ``expires``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from typing import Any

__all__ = ["PullFeed"]

class PullFeed:
    """Keeps up to ``window`` messages requested from ``stream``/``consumer``; ``next()`` hands them out."""

    def __init__(
        self, nc: Any, stream: str, consumer: str, *, window: int = 128, expires: float = 1.0,
        api_prefix: str = "$JS.API",
    ) -> None:  # fmt: skip
        self.nc = nc
        self.window = window
        self.expires = expires
        self._next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = ""
        self._sub: Any = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._requests: deque[list[float]] = deque()  # [expires_at (monotonic), remaining]
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self.paused = False
        self.requests_sent = 0

    async def start(self) -> PullFeed:
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self._inbox, cb=self._on_msg)
        self._pump = asyncio.create_task(self._run_pump())
        return self

    async def stop(self) -> list[Any]:
        """Stops requesting; returns the messages delivered but not yet taken (the caller naks them)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        left = []
        while not self._queue.empty():
            left.append(self._queue.get_nowait())
        return left

    @property
    def credit(self) -> int:
        return int(sum(r[1] for r in self._requests))

    async def next(self, timeout: float) -> Any | None:
        """The next message, or None after ``timeout`` seconds without one."""
        if not self._queue.empty():  # no timer and no task when one is there (the busy case)
            msg = self._queue.get_nowait()
        else:
            try:
                msg = await asyncio.wait_for(self._queue.get(), timeout)
            except asyncio.TimeoutError:
                return None
        self._maybe_wake()
        return msg

    def _maybe_wake(self) -> None:
        if self.credit + self._queue.qsize() <= self.window // 2:
            self._wake.set()

    def take_ready(self, limit: int) -> list[Any]:
        """Messages already delivered, without waiting (at most ``limit``)."""
        out = []
        while len(out) < limit and not self._queue.empty():
            out.append(self._queue.get_nowait())
        self._maybe_wake()
        return out

    # ------------------------------------------------------------------ internals
    async def _on_msg(self, msg: Any) -> None:
        if not msg.reply:  # a status (408 expired, 409, 100 heartbeat): requests age out locally instead
            return
        self._expire()
        if self._requests:
            self._requests[0][1] -= 1
            if self._requests[0][1] <= 0:
                self._requests.popleft()
        self._queue.put_nowait(msg)
        self._maybe_wake()

    def _expire(self) -> None:
        now = time.monotonic()
        while self._requests and self._requests[0][0] <= now:
            self._requests.popleft()

    async def _run_pump(self) -> None:
        while True:
            self._expire()
            want = self.window - self.credit - self._queue.qsize()
            if not self.paused and want >= max(1, self.window // 2) and self.nc.is_connected:
                body = json.dumps({"batch": want, "expires": int(self.expires * 1e9)}).encode()
                with contextlib.suppress(Exception):
                    await self.nc.publish(self._next_subject, body, reply=self._inbox)
                    # renewed before the server drops it: a short overlap beats a gap with nothing requested
                    self._requests.append([time.monotonic() + 0.75 * self.expires, want])
                    self.requests_sent += 1
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.expires / 4)
