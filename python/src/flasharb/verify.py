"""Source verification on Polygonscan through the Etherscan v2 API (docs/adr/0002-verification-path.md).

One ``ETHERSCAN_API_KEY`` serves every chain: the v2 endpoint takes ``chainid`` (137 Polygon, 80002 Amoy). The
submission is solc's standard-JSON input that built the deployed artifact (``flasharb.artifacts``), the
compiler version from the artifact's metadata, ``contractname=src/FlashArbExecutor.sol:FlashArbExecutor`` and
the constructor arguments from the deployment record (ABI-encoded, without 0x). The answer is a GUID, polled
with ``checkverifystatus`` and a growing interval until it passes, fails or ``verify_timeout`` runs out.

Every outcome the API has is handled: "Pending in queue" (poll again), "Pass - Verified", "Already Verified"
(success), "Fail - Unable to verify" (error with Etherscan's reason), "Unable to locate ContractCode" (the
explorer has not indexed the contract yet: submit again later), rate limits (back off and retry), other NOTOK
answers, HTTP errors, timeouts and non-JSON answers (errors that say which). The API key travels in the form
body where it can, and is scrubbed from any text that reaches an error or a log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from flasharb.exceptions import ConfigError, VerificationError

if TYPE_CHECKING:
    import requests

    from flasharb.settings import Settings

log = logging.getLogger(__name__)

CHAINS: dict[int, tuple[str, str]] = {
    137: ("Polygon", "https://polygonscan.com"),
    80002: ("Polygon Amoy", "https://amoy.polygonscan.com"),
}
NETWORK_CHAIN_IDS: dict[str, int] = {"polygon:mainnet": 137, "polygon:amoy": 80002}
CODE_FORMAT = "solidity-standard-json-input"
MAX_POLL_INTERVAL = 30.0
BACKOFF = 1.5


def chain_id_for_network(network: str) -> int:
    """137 / 80002 for polygon:mainnet / polygon:amoy (any provider suffix)."""
    key = ":".join(network.split(":")[:2])
    if key not in NETWORK_CHAIN_IDS:
        raise ConfigError(
            f"cannot verify on {network!r}: Polygonscan covers polygon:mainnet and polygon:amoy"
        )
    return NETWORK_CHAIN_IDS[key]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyRequest:
    """One ``verifysourcecode`` submission."""

    chain_id: int
    address: str
    contract_name: str  # path:Name
    compiler_version: str  # v0.8.28+commit.7893614a
    source_code: str = field(repr=False)  # the standard JSON, as a string
    constructor_args: str  # ABI-encoded, hex without 0x

    def form(self, api_key: str) -> dict[str, str]:
        args = self.constructor_args.removeprefix("0x")
        return {
            "apikey": api_key,
            "module": "contract",
            "action": "verifysourcecode",
            "contractaddress": self.address,
            "sourceCode": self.source_code,
            "codeformat": CODE_FORMAT,
            "contractname": self.contract_name,
            "compilerversion": self.compiler_version,
            # Etherscan's historical (misspelled) field and the spelling its docs use now; forge sends both.
            "constructorArguements": args,
            "constructorArguments": args,
        }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    status: Literal["verified", "already_verified", "submitted"]
    address: str
    chain_id: int
    guid: str | None
    message: str

    @property
    def explorer_url(self) -> str:
        base = CHAINS.get(self.chain_id, ("", "https://etherscan.io"))[1]
        return f"{base}/address/{self.address}#code"


class _Retry(Exception):
    """A transient answer (rate limit, 5xx, timeout, not indexed yet): wait and ask again."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class EtherscanClient:
    """The two calls verification needs, against ``api_url`` (the v2 endpoint, or a test stand-in)."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        chain_id: int,
        *,
        http_timeout: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import requests

        self.api_url = api_url
        self._api_key = api_key
        self.chain_id = chain_id
        self.http_timeout = http_timeout
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"EtherscanClient(api_url={self.api_url!r}, chain_id={self.chain_id})"

    # ------------------------------------------------------------------ one request
    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _call(
        self, action: str, *, form: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None
    ):
        import requests

        query = {"chainid": str(self.chain_id), **(params or {})}
        try:
            if form is not None:
                resp = self._session.post(self.api_url, params=query, data=form, timeout=self.http_timeout)
            else:
                resp = self._session.get(self.api_url, params=query, timeout=self.http_timeout)
        except requests.Timeout:
            raise _Retry(f"{action}: no answer within {self.http_timeout:g} s") from None
        except requests.RequestException as exc:
            raise VerificationError(
                f"{action}: cannot reach {_host(self.api_url)}: "
                f"{type(exc).__name__}: {self._scrub(str(exc))[:200]}"
            ) from None
        if resp.status_code == 429:
            raise _Retry(f"{action}: rate limited (HTTP 429)")
        if resp.status_code >= 500:
            raise _Retry(f"{action}: HTTP {resp.status_code} from {_host(self.api_url)}")
        if resp.status_code >= 400:
            raise VerificationError(f"{action}: HTTP {resp.status_code} from {_host(self.api_url)}")
        try:
            body = resp.json()
            status, message, result = str(body["status"]), str(body.get("message", "")), str(body["result"])
        except (ValueError, KeyError, TypeError):
            head = self._scrub(resp.text[:80]).replace("\n", " ")
            raise VerificationError(
                f"{action}: {_host(self.api_url)} answered with no Etherscan JSON: {head!r}"
            ) from None
        result = self._scrub(result)
        low = result.lower()
        if "rate limit" in low:
            raise _Retry(f"{action}: {result}")
        if (
            "invalid api key" in low
            or "missing/invalid api key" in low
            or "missing or invalid api key" in low
        ):
            raise VerificationError(f"{action}: Etherscan rejected the API key (ETHERSCAN_API_KEY): {result}")
        return status, message, result

    # ------------------------------------------------------------------ the two actions
    def submit(self, request: VerifyRequest) -> tuple[str, str]:
        """("submitted", guid) or ("already_verified", message). Raises ``_Retry`` for transient answers."""
        status, message, result = self._call("verifysourcecode", form=request.form(self._api_key))
        low = result.lower()
        if "already verified" in low:
            return "already_verified", result
        if "unable to locate contractcode" in low or "unable to locate contract code" in low:
            raise _Retry(f"verifysourcecode: {result} (the explorer has not indexed it yet)")
        if status != "1":
            raise VerificationError(f"Etherscan refused the submission ({message or 'NOTOK'}): {result}")
        if not result:
            raise VerificationError("Etherscan accepted the submission but returned no GUID")
        return "submitted", result

    def check(self, guid: str) -> tuple[str, str]:
        """("pending" | "verified" | "already_verified", message); raises on a failed verification."""
        status, message, result = self._call(
            "checkverifystatus",
            params={
                "module": "contract",
                "action": "checkverifystatus",
                "guid": guid,
                "apikey": self._api_key,
            },
        )
        low = result.lower()
        if low.startswith("pending") or "in queue" in low or low.startswith("in progress"):
            return "pending", result
        if "already verified" in low:
            return "already_verified", result
        if low.startswith("pass"):
            return "verified", result
        if low.startswith("fail"):
            raise VerificationError(f"verification failed: {result}")
        if status == "1":
            return "verified", result
        raise VerificationError(f"checkverifystatus answered {message or 'NOTOK'}: {result}")

    # ------------------------------------------------------------------ the whole exchange
    def verify(
        self, request: VerifyRequest, *, poll_interval: float = 5.0, timeout: float = 300.0, wait: bool = True
    ) -> VerifyResult:
        """Submits and (with ``wait``) polls until a final answer; errors name what went wrong."""
        deadline = self._clock() + timeout
        delay = poll_interval
        while True:
            try:
                outcome, value = self.submit(request)
                break
            except _Retry as retry:
                delay = self._wait(retry.why, delay, deadline, timeout, poll_interval)
        if outcome == "already_verified":
            log.info("%s is already verified", request.address)
            return VerifyResult("already_verified", request.address, request.chain_id, None, value)
        guid = value
        log.info("submitted %s for verification, guid %s", request.address, guid)
        if not wait:
            return VerifyResult("submitted", request.address, request.chain_id, guid, "submitted")
        return self.poll(
            guid, request.address, poll_interval=poll_interval, timeout=timeout, deadline=deadline
        )

    def poll(
        self,
        guid: str,
        address: str,
        *,
        poll_interval: float = 5.0,
        timeout: float = 300.0,
        deadline: float | None = None,
    ) -> VerifyResult:
        deadline = deadline if deadline is not None else self._clock() + timeout
        delay = poll_interval
        while True:
            self._sleep_until_ok(delay, deadline, f"verification {guid} still pending", timeout)
            try:
                state, message = self.check(guid)
            except _Retry as retry:
                delay = self._grow(delay, poll_interval)
                log.info("%s; retrying", retry.why)
                continue
            if state != "pending":
                return VerifyResult(state, address, self.chain_id, guid, message)  # type: ignore[arg-type]
            log.info("%s: %s", guid, message)
            delay = self._grow(delay, poll_interval)

    # ------------------------------------------------------------------ waiting
    @staticmethod
    def _grow(delay: float, poll_interval: float) -> float:
        return min(delay * BACKOFF, max(MAX_POLL_INTERVAL, poll_interval))

    def _sleep_until_ok(self, delay: float, deadline: float, what: str, timeout: float) -> None:
        if self._clock() + delay > deadline:
            raise VerificationError(
                f"{what} after {timeout:g} s; try again later (flasharb verify --guid ...)"
            )
        self._sleep(delay)

    def _wait(self, why: str, delay: float, deadline: float, timeout: float, poll_interval: float) -> float:
        log.info("%s; retrying in %.1f s", why, delay)
        self._sleep_until_ok(delay, deadline, f"gave up: {why}", timeout)
        return self._grow(delay, poll_interval)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url


def build_request(settings: Settings, chain_id: int, *, all_sources: bool = False) -> VerifyRequest:
    """The submission for the executor recorded on ``chain_id`` (checks out/ holds the deployed build)."""
    from flasharb.artifacts import load_artifact, standard_json_input
    from flasharb.deploy import load_deployment

    if chain_id not in CHAINS:
        raise ConfigError(
            f"cannot verify on chain {chain_id}: Polygonscan covers 137 (Polygon) and 80002 (Amoy)"
        )
    record = load_deployment(chain_id, deployments_dir=settings.deployments_path)
    artifact = load_artifact(settings.artifacts_dir)
    if artifact.bytecode_hash != record.bytecode_hash:
        raise VerificationError(
            f"{artifact.path.name} is not the build deployed at {record.address} (bytecode hash "
            f"{artifact.bytecode_hash[:12]}… vs recorded {record.bytecode_hash[:12]}…): "
            "check out the deployed commit and run `forge build`"
        )
    std = standard_json_input(artifact, settings.root, settings.artifacts_dir, all_sources=all_sources)
    log.info("standard JSON from %s, %d sources", std.origin, len(std.input["sources"]))
    return VerifyRequest(
        chain_id=chain_id,
        address=record.address,
        contract_name=artifact.qualified_name,
        compiler_version=std.compiler_version,
        source_code=std.to_json(),
        constructor_args=record.constructor_args_encoded.removeprefix("0x"),
    )


def verify_executor(
    settings: Settings,
    chain_id: int,
    *,
    all_sources: bool = False,
    wait: bool = True,
    guid: str | None = None,
    client: EtherscanClient | None = None,
) -> VerifyResult:
    """Verifies the recorded executor on ``chain_id``; with ``guid``, only polls an earlier submission."""
    if settings.etherscan_api_key is None or not settings.etherscan_api_key.get_secret_value().strip():
        raise ConfigError("ETHERSCAN_API_KEY is not set (one Etherscan v2 key covers Polygon and Amoy)")
    if chain_id not in CHAINS:
        raise ConfigError(
            f"cannot verify on chain {chain_id}: Polygonscan covers 137 (Polygon) and 80002 (Amoy)"
        )
    request = build_request(settings, chain_id, all_sources=all_sources)  # everything local is checked first
    client = client or EtherscanClient(
        settings.etherscan_api_url,
        settings.etherscan_api_key.get_secret_value().strip(),
        chain_id,
        http_timeout=settings.http_timeout,
    )
    if guid:
        return client.poll(
            guid,
            request.address,
            poll_interval=settings.verify_poll_interval,
            timeout=settings.verify_timeout,
        )
    return client.verify(
        request, poll_interval=settings.verify_poll_interval, timeout=settings.verify_timeout, wait=wait
    )
