"""The embedded AWS emulation: a moto server on 127.0.0.1 and a free port, and the
drill's model of DynamoDB global-table replication (moto keeps each region's table
apart)."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from drill.world import Faults
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's threaded server on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the drill starts a server

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    saved = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)  # moto's Step Functions interpreter calls itself on it
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto's backends live in this process: start every drill from an empty account
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - the server started above
        pass
    try:
        yield endpoint
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = saved


def _rank(item: dict[str, Any]) -> tuple[int, str]:
    """Which of two concurrent versions of an item wins: higher epoch, then later time."""
    epoch = int(item.get("epoch", {}).get("N", "-1"))
    stamp = max(str(item.get(name, {}).get("S", "")) for name in ("updated_at", "released_at", "acquired_at"))
    return epoch, stamp


class ModelledGlobalTableReplication:
    """DynamoDB global tables replicate every write to the other region (typically in
    about a second), last writer wins. moto keeps each region's table apart, so the drill
    copies what changed in one region since the last sync to the other, while both are
    reachable. When both sides changed the same item (a conflict), "last writer" is
    modelled as the higher epoch, then the later timestamp in the item."""

    def __init__(self, config: EnvironmentConfig, faults: Faults, endpoint_url: str) -> None:
        self._config = config
        self._faults = faults
        self._table = Names(config).state_table
        self._clients = {
            region: boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
            for region in config.regions.pair
        }
        self._seen: dict[str, dict[str, dict[str, Any]]] = {region: {} for region in config.regions.pair}
        self._lock = threading.Lock()

    def _items(self, region: str) -> dict[str, dict[str, Any]]:
        pages = self._clients[region].get_paginator("scan").paginate(TableName=self._table)
        return {item["pk"]["S"]: item for page in pages for item in page["Items"]}

    def sync(self) -> int:
        """Replicate once; returns how many items were copied."""
        first, second = self._config.regions.pair
        if not (self._faults.api_reachable(first) and self._faults.api_reachable(second)):
            return 0
        with self._lock:
            items = {first: self._items(first), second: self._items(second)}
            copied = 0
            for key in set(items[first]) | set(items[second]):
                a, b = items[first].get(key), items[second].get(key)
                if a == b:
                    continue
                changed_a = a != self._seen[first].get(key)
                changed_b = b != self._seen[second].get(key)
                if changed_a and changed_b and a is not None and b is not None:
                    winner_is_a = _rank(a) >= _rank(b)
                else:
                    winner_is_a = changed_a
                source, target = (first, second) if winner_is_a else (second, first)
                winner = items[source].get(key)
                if winner is None:
                    continue  # deletions do not happen in Switchyard's table
                self._clients[target].put_item(TableName=self._table, Item=winner)
                items[target][key] = winner
                copied += 1
            self._seen = items
            return copied
