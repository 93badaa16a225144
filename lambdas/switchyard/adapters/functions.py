"""Warming the runbook's step functions: an asynchronous ``lambda:Invoke`` of each with
``switchyard.contract.WARM_UP_EVENT`` (the reconciler's constant work, docs/architecture.md).

Best-effort by construction: the client has the short timeouts and the single attempt of
``switchyard.retry.BEST_EFFORT_TIMEOUTS``, and the call only queues the event (``Event``
invocation: Lambda answers 202 before the function runs), so it never waits for the step.
"""

from __future__ import annotations

import json
from typing import Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import WARM_UP_EVENT, Names
from switchyard.retry import ClientFactory

WARM_UP_PAYLOAD = json.dumps(WARM_UP_EVENT, sort_keys=True).encode("utf-8")


class FunctionWarmer(Protocol):
    def warm(self, region: str, step: str) -> None:
        """Queue a warm-up invocation of ``step``'s function in ``region``; raise if Lambda refuses it."""
        ...


class LambdaFunctionWarmer:
    """Invoke (``InvocationType="Event"``) the step function by its contract ARN."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def warm(self, region: str, step: str) -> None:
        function = self._clients.client("lambda", region, best_effort=True)
        function.invoke(
            FunctionName=self._names.function_arn(region, step), InvocationType="Event", Payload=WARM_UP_PAYLOAD
        )
