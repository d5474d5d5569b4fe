"""JSON-RPC over HTTP for the synchronous readers (the engine's chain reader, the pool and Aave lenses): one
keep-alive session per endpoint and one way to post, each caller raising its own error type."""

from __future__ import annotations

import json
from typing import Any

import requests

__all__ = ["rpc_session", "JsonRpcPoster", "JsonRpcClient"]


def rpc_session(url: str) -> requests.Session:
    """A keep-alive session for one endpoint, with its proxy settings resolved once: by default ``requests``
    re-reads the proxy environment on every request, ~0.5 ms each (most of a local node's round trip)."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    return session


class JsonRpcPoster:
    """Posts JSON-RPC requests (one, or a batch as a list) to ``url``; a transport failure or an answer that is
    not JSON raises ``error`` naming the endpoint. Interpreting ``result``/``error`` is the caller's."""

    def __init__(
        self, url: str, error: type[Exception], *, timeout: float = 30.0, session: requests.Session | None = None
    ) -> None:
        self.url = url
        self.error = error
        self.timeout = timeout
        self.session = session or rpc_session(url)
        self._id = 0

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        self._id += 1
        return {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}

    def post(self, payload: Any) -> Any:
        try:
            resp = self.session.post(
                self.url,
                data=json.dumps(payload, separators=(",", ":")),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
            resp.raise_for_status()
            return resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise self.error(f"JSON-RPC request to {self.url} failed: {exc}") from None

    def close(self) -> None:
        self.session.close()


class JsonRpcClient:
    """What a synchronous JSON-RPC reader shares: a ``JsonRpcPoster`` in ``_http`` (set by the subclass),
    ``_post``/``_request``, ``close`` and use as a context manager."""

    _http: JsonRpcPoster

    def close(self) -> None:
        self._http.close()

    def __enter__(self):  # noqa: ANN204 - the subclass's own type
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, payload: Any) -> Any:
        return self._http.post(payload)

    def _request(self, method: str, params: list[Any]) -> dict[str, Any]:
        return self._http.request(method, params)
