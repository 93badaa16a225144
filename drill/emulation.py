"""The embedded AWS emulation: a moto server on 127.0.0.1 and a free port, and the
drill's model of the state table's multi-Region strong consistency (moto keeps each
region's table apart and knows no global tables)."""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.exceptions import ClientError

from drill.world import Faults
from switchyard.config import EnvironmentConfig
from switchyard.contract import STATE_TABLE_KEY as KEY
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


# Operations that change an item, each addressing exactly one item by key (MRSC supports
# no transactions, so TransactWriteItems never reaches the state table).
ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
ITEM_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
# What a replica without a majority answers. The AWS documentation we found names no code
# for it; the model answers with the worse case for the controller: a 5xx that its retry
# policy retries (time lost on the critical path) before the call fails.
NO_MAJORITY_CODE = "InternalServerError"
NO_MAJORITY_STATUS = 500
MAJORITY = 2  # of three voters: the two replicas and the witness


class ModelledStrongConsistency:
    """Model of the state table as a DynamoDB global table in multi-Region strong
    consistency (MRSC): two replicas (the pair) and a witness region
    (``config.regions.witness``). moto keeps one independent table per region, so the drill
    models what MRSC guarantees, in front of every call to the state table:

    - **Majority rule.** A region has a majority when at least two of {itself, the other
      replica, the witness} are reachable from it: itself when not dark; the other replica
      when that one is not dark and the link between the two is up
      (``Faults.link_up``); the witness always (the drill never faults it). A region
      without a majority answers writes and strongly consistent reads with
      ``InternalServerError`` (HTTP 500; see ``NO_MAJORITY_CODE``); eventually consistent
      reads are served from its local replica, which may be stale.
    - **Linearizable writes.** Every state-table call is serialized behind one lock, and a
      successful write is copied to the other replica before the call returns, so the next
      strongly consistent read in either region sees it (through the witness when the link
      is cut: the witness holds the replicated log, so a partitioned pair both keeping a
      majority still agrees). A replica that had no majority when a write landed is marked
      behind and caught up from the other replica before it serves again.
    - **Not modelled:** ``ReplicatedWriteConflictException`` (two regions writing the same
      item at once); the lock makes calls sequential, so conflicts never arise here. The
      controller retries that code (``switchyard.retry``); the drill can script it with
      ``ThrottleScript``.

    The model answers the call itself (botocore's ``before-call`` event may return the
    response): it runs the request against moto's table in the called region with a plain
    client, under the lock, and returns moto's answer, so the caller's own hooks (call log,
    faults, throttling, retry policy) work as for any other call.
    """

    def __init__(self, config: EnvironmentConfig, faults: Faults, endpoint_url: str) -> None:
        self._pair = config.regions.pair
        self._witness = config.regions.witness
        self._faults = faults
        self.table = Names(config).state_table
        self._clients = {
            region: boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url) for region in self._pair
        }
        self._lock = threading.RLock()
        self._behind: set[str] = set()
        self._on_write: list[Callable[[], None]] = []

    # -- the majority rule ----------------------------------------------------------------
    def witness_reachable(self, region: str) -> bool:  # noqa: ARG002 - the drill never faults the witness
        return True

    def has_majority(self, region: str) -> bool:
        """At least two of {``region``, the other replica, the witness} reachable from ``region``."""
        if not self._faults.api_reachable(region):
            return False
        other = self._other(region)
        votes = 1 + int(self._faults.api_reachable(other) and self._faults.link_up(region, other))
        votes += int(self.witness_reachable(region))
        return votes >= MAJORITY

    def _other(self, region: str) -> str:
        return next(candidate for candidate in self._pair if candidate != region)

    @staticmethod
    def needs_majority(operation: str, params: Mapping[str, Any]) -> bool:
        """Writes and strongly consistent reads need a majority; eventually consistent reads do not."""
        if operation in ITEM_WRITES:
            return True
        if operation == "BatchGetItem":
            return any(bool(spec.get("ConsistentRead")) for spec in params.get("RequestItems", {}).values())
        return bool(params.get("ConsistentRead"))

    @contextmanager
    def atomically(self) -> Iterator[None]:
        """No write lands while the caller holds this (reads in the same thread still answer):
        several reads taken inside it see one instant of the table, as the invariant
        checker's sample must (read one region's switch, a write lands, read the other's:
        two regions would each look active at "the same" instant)."""
        with self._lock:
            yield

    def on_write(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every successful write (outside the lock): the
        invariant checker samples the world on every change of the state table."""
        self._on_write.append(listener)

    # -- answering a call -----------------------------------------------------------------
    def governs(self, request: Mapping[str, Any]) -> bool:
        return self._api_params(request).get("TableName") == self.table or self.table in self._api_params(request).get(
            "RequestItems", {}
        )

    @staticmethod
    def _api_params(request: Mapping[str, Any]) -> dict[str, Any]:
        """DynamoDB's JSON protocol sends the API parameters as the body, typed values and all."""
        body = request.get("body") or b"{}"
        parsed: dict[str, Any] = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        return parsed

    def answer(self, region: str, operation: str, request: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Run one state-table call in ``region`` as MRSC would; returns botocore's
        ``(http, parsed)`` pair (an error is returned, not raised: botocore raises it)."""
        params = self._api_params(request)
        if operation not in ITEM_WRITES | ITEM_READS:
            return _error(400, "ValidationException", f"{operation} is not modelled on an MRSC table (drill)")
        wrote = False
        with self._lock:
            if self.needs_majority(operation, params) and not self.has_majority(region):
                return _error(
                    NO_MAJORITY_STATUS, NO_MAJORITY_CODE, f"{region} cannot reach a majority of the MRSC table (drill)"
                )
            if region in self._behind and self.has_majority(region):
                self._catch_up(region)
            method = getattr(self._clients[region], _snake(operation))
            try:
                parsed = method(**params)
            except ClientError as exc:
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) or 400)
                return SimpleNamespace(status_code=status, headers={}, content=b""), dict(exc.response)
            if operation in ITEM_WRITES:
                self._replicate(region, params)
                wrote = True
        if wrote:
            for listener in self._on_write:
                listener()
        return SimpleNamespace(status_code=200, headers={}, content=b""), dict(parsed)

    def _replicate(self, region: str, params: Mapping[str, Any]) -> None:
        """Copy the written item to the other replica, or mark that replica behind."""
        other = self._other(region)
        if not self.has_majority(other):
            self._behind.add(other)
            return
        key_value = (params.get("Key") or params.get("Item") or {})[KEY]
        item = (
            self._clients[region].get_item(TableName=self.table, Key={KEY: key_value}, ConsistentRead=True).get("Item")
        )
        if item is None:
            self._clients[other].delete_item(TableName=self.table, Key={KEY: key_value})
        else:
            self._clients[other].put_item(TableName=self.table, Item=item)

    def _catch_up(self, region: str) -> None:
        """Make ``region``'s replica equal to the other one (it missed writes while cut off)."""
        source, target = self._clients[self._other(region)], self._clients[region]
        wanted = _scan(source, self.table)
        for key in set(_scan(target, self.table)) - set(wanted):
            target.delete_item(TableName=self.table, Key={KEY: {"S": key}})
        for item in wanted.values():
            target.put_item(TableName=self.table, Item=item)
        self._behind.discard(region)


def _scan(client: Any, table: str) -> dict[str, dict[str, Any]]:
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {item[KEY]["S"]: item for page in pages for item in page["Items"]}


def _snake(operation: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in operation).lstrip("_")


def _error(status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return SimpleNamespace(status_code=status, headers={}, content=b""), parsed
