"""Notifications to people: the region's SNS topic ``Names.topic``."""

from __future__ import annotations

import json
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.retry import ClientFactory

SUBJECT_LIMIT = 100


class Notifier(Protocol):
    def publish(self, region: str, *, subject: str, message: dict[str, Any]) -> str:
        """Publish to the region's topic; returns the message id."""
        ...


class SnsNotifier:
    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def publish(self, region: str, *, subject: str, message: dict[str, Any]) -> str:
        response = self._clients.client("sns", region).publish(
            TopicArn=self._names.topic_arn(region),
            Subject=subject[:SUBJECT_LIMIT],
            Message=json.dumps(message, default=str, sort_keys=True),
        )
        return str(response["MessageId"])
