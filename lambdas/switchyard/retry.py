"""Bounded retries and the one way Switchyard creates AWS clients.

Every call has a timeout and at most a few attempts with capped exponential backoff
and full jitter. botocore's own retries are turned down to a single attempt so this
module is the one retry policy: throttling, 5xx, timeouts and connection errors are
retried, validation and other client errors are not.

:class:`ClientFactory` creates clients lazily (first use), wraps them so every call goes
through the policy, and records each API call into an :class:`ApiCallLog` through
botocore's event hooks: service, operation, target region, mutating, the calling function
(``step``: a runbook step or ``monitor``/``reconciler``/``traffic_switch``) and the region
it runs in, and what IAM authorizes (action, resource ARNs, condition-key values such as
DynamoDB's partition keys; see switchyard.iam_request). Tests and the drill read that
history ("fence -> promote -> ready -> flip", calls per step) and check every labelled
call against the calling function's synthesized IAM policy (drill.policy_check).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from switchyard.iam_request import IamRequest, describe_request

T = TypeVar("T")

RETRYABLE_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        # a multi-Region strongly consistent (MRSC) table refuses a write while another
        # Region modifies the same item; the SDK marks it retry-safe (the state table)
        "ReplicatedWriteConflictException",
        "PriorRequestNotComplete",
        "SlowDown",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
RETRYABLE_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    ConnectTimeoutError,
    ReadTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Query", "Scan", "BatchGet", "Test")


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or None
    return None


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx, timeouts and connection errors; never validation/client errors."""
    if isinstance(exc, RETRYABLE_TRANSPORT_ERRORS):
        return True
    if isinstance(exc, ClientError):
        if error_code(exc) in RETRYABLE_ERROR_CODES:
            return True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status or 0) >= 500
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (sleep = U(0, min(cap, base * 2**n)))."""

    max_attempts: int = 4
    base_delay_seconds: float = 0.2
    max_delay_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def backoff(self, retry_number: int) -> float:
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * (2**retry_number))
        return ceiling * self.random()

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; retry retryable errors up to ``max_attempts`` in total."""
        for attempt in range(self.max_attempts):
            try:
                return operation()
            except Exception as exc:
                if not is_retryable(exc) or attempt + 1 >= self.max_attempts:
                    raise
                self.sleep(self.backoff(attempt))
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Timeouts:
    connect_seconds: float = 2.0
    read_seconds: float = 5.0

    def botocore_config(self) -> Config:
        # total_max_attempts=1: botocore does not retry; RetryPolicy is the one policy.
        return Config(
            connect_timeout=self.connect_seconds,
            read_timeout=self.read_seconds,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )


CRITICAL_PATH_TIMEOUTS = Timeouts()
# Best-effort calls go mostly to the OTHER (possibly dark) region: a TCP connect to a regional
# endpoint takes one round trip (under 0.2 s between the farthest pairs), so 0.5 s tells a
# dark region from a slow one, and each such call on the failover path (lock, preflight,
# fence, promote each make one or two) costs half a second, not a second (make bench).
BEST_EFFORT_TIMEOUTS = Timeouts(connect_seconds=0.5, read_seconds=2.0)


@dataclass(frozen=True)
class ApiCall:
    """One API call attempt as the call log saw it.

    ``region`` is where the call goes; ``caller_region`` where the calling function runs
    (a deps object for region R is the function deployed in R, even when it calls the
    other region); ``step`` is the calling function's purpose, None for the harness's own
    calls (not checked against any policy). ``iam`` is what IAM authorizes (None when the
    recorder had no request parameters)."""

    service: str
    operation: str
    region: str
    mutating: bool
    step: str | None
    caller_region: str | None = None
    iam: IamRequest | None = None

    @property
    def action(self) -> str | None:
        return self.iam.action if self.iam else None

    @property
    def resources(self) -> tuple[str, ...]:
        return self.iam.resources if self.iam else ()

    @property
    def keys(self) -> tuple[str, ...] | None:
        """DynamoDB partition-key values (``dynamodb:LeadingKeys``), None if not addressed by key."""
        return self.iam.context.get("dynamodb:LeadingKeys") if self.iam else None


@dataclass
class ApiCallLog:
    """Thread-safe, append-only history of every API call attempt (including retries)."""

    calls: list[ApiCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def record(
        self,
        service: str,
        operation: str,
        region: str,
        *,
        mutating: bool | None = None,
        params: Mapping[str, Any] | None = None,
        caller_region: str | None = None,
        account: str | None = None,
    ) -> None:
        """Record one attempt; with ``params`` (the request) it also records what IAM
        authorizes. Never raises for an unexpected request shape (the call must go on)."""
        is_mutating = mutating if mutating is not None else not operation.startswith(READ_ONLY_PREFIXES)
        iam = None
        if params is not None:
            try:
                iam = describe_request(service, operation, region, params, account=account)
            except Exception:  # noqa: BLE001 - recording must never break the call; no iam = not checkable
                iam = None
        self.append(ApiCall(service, operation, region, is_mutating, self.current_step, caller_region, iam))

    def append(self, call: ApiCall) -> None:
        with self._lock:
            self.calls.append(call)

    @property
    def current_step(self) -> str | None:
        """The function this thread's calls are attributed to (see :meth:`step`)."""
        step: str | None = getattr(self._local, "step", None)
        return step

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Attribute calls made by this thread to the function ``name`` (a runbook step,
        ``monitor``, ``reconciler`` or ``traffic_switch``: a ``switchyard.contract`` purpose)."""
        previous = getattr(self._local, "step", None)
        self._local.step = name
        try:
            yield
        finally:
            self._local.step = previous

    def snapshot(self) -> list[ApiCall]:
        with self._lock:
            return list(self.calls)

    def mutating(self) -> list[ApiCall]:
        return [call for call in self.snapshot() if call.mutating]

    def operations(self, *, mutating_only: bool = False) -> list[str]:
        calls = self.mutating() if mutating_only else self.snapshot()
        return [call.operation for call in calls]

    def by_step(self) -> dict[str, list[str]]:
        steps: dict[str, list[str]] = {}
        for call in self.snapshot():
            steps.setdefault(call.step or "-", []).append(call.operation)
        return steps


@dataclass(frozen=True)
class EventHook:
    """An extra botocore event handler for every client (of ``region`` only, if given);
    how tests and the drill inject faults such as throttling or an unreachable region."""

    event: str
    handler: Callable[..., Any]
    region: str | None = None


class RetryingClient:
    """A boto3 client whose every operation goes through a :class:`RetryPolicy`."""

    def __init__(self, client: Any, policy: RetryPolicy) -> None:
        self._client = client
        self._policy = policy

    @property
    def raw(self) -> Any:
        return self._client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith(("get_paginator", "get_waiter", "can_paginate")):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._policy.call(lambda: attribute(*args, **kwargs))

        return call


class ClientFactory:
    """Creates boto3 clients lazily per (service, region, best_effort), with timeouts,
    the retry policy, call recording and optional extra event hooks (fault injection)."""

    def __init__(
        self,
        *,
        call_log: ApiCallLog | None = None,
        endpoint_url: str | None = None,
        retry_policy: RetryPolicy | None = None,
        event_hooks: list[EventHook] | None = None,
        session: boto3.session.Session | None = None,
        caller_region: str | None = None,
        account: str | None = None,
    ) -> None:
        self.call_log = call_log
        self.caller_region = caller_region  # where the function using these clients runs
        self.account = account  # completes recorded ARNs of resources addressed by name
        self.endpoint_url = endpoint_url
        self.retry_policy = retry_policy or RetryPolicy()
        self.event_hooks = event_hooks if event_hooks is not None else []
        self._session = session
        self._clients: dict[tuple[str, str, bool], RetryingClient] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str, *, best_effort: bool = False) -> Any:
        """A client for ``service`` in ``region``; best-effort clients use short timeouts
        and a single attempt (they must never block the critical path)."""
        key = (service, region, best_effort)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._create(service, region, best_effort=best_effort)
            return self._clients[key]

    def _create(self, service: str, region: str, *, best_effort: bool) -> RetryingClient:
        timeouts = BEST_EFFORT_TIMEOUTS if best_effort else CRITICAL_PATH_TIMEOUTS
        if self._session is None:
            self._session = boto3.session.Session()
        client = self._session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=timeouts.botocore_config()
        )
        events = client.meta.events
        if self.call_log is not None:

            def record(model: Any, params: Mapping[str, Any], **_: Any) -> None:
                self.record(service, model.name, region, params=params)

            events.register("before-parameter-build", record)  # before any before-call hook (faults)
        for hook in self.event_hooks:
            if hook.region in (None, region):
                events.register(hook.event, hook.handler)
        return RetryingClient(client, NO_RETRY if best_effort else self.retry_policy)

    def record(
        self,
        service: str,
        operation: str,
        region: str,
        *,
        params: Mapping[str, Any] | None = None,
        mutating: bool | None = None,
    ) -> None:
        """Record one call made by the function these clients belong to (also how a
        modelled operation that moto lacks is recorded, with the parameters it would send)."""
        if self.call_log is not None:
            self.call_log.record(
                service,
                operation,
                region,
                mutating=mutating,
                params=params,
                caller_region=self.caller_region,
                account=self.account,
            )
