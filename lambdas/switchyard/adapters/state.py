"""Desired state, the runbook lock, monitor memory and the audit trail, in the
DynamoDB global table ``Names.state_table`` (partition key ``pk``, string).

Items (one table, one key attribute):
- ``desired#<app>``: which region is active, at which epoch, which region is fenced.
  Written with a condition so an older epoch never overwrites a newer one.
- ``lock#<app>``: one runbook at a time. A conditional write with a monotonically
  increasing epoch (the fencing token); the same holder re-acquiring gets its epoch back.
  A holder is an execution ARN (``RunbookState.holder``), unique across regions.
- ``monitor#<app>#<region>``: the health monitor's memory in that region.
- ``audit#<app>#<execution ARN>``: one append-only record per runbook execution.
- ``heartbeat#<app>#<region>``: when that region's reconciler last ran (data freshness:
  the other region reads it from its own replica).
- ``promotion#<app>#<epoch>``: the database promotion issued under that lock epoch, claimed
  with a condition before the call, so a retried or concurrent promote never sends it twice.
- ``trigger#<app>#<region>#<event id>``: every event the monitor received, written once;
  a duplicate delivery increments ``deliveries`` on the first record.
- ``lost-writes#<app>#<epoch>``: a promotion at that epoch that may have lost acknowledged
  writes (written by promote before it sends one); the old primary's snapshot is added
  once (by whoever takes it), then an operator's acknowledgement once. Failback waits
  for every such record to be acknowledged.

Every call names the region whose replica it reads or writes, so a step can stay in
its own (target) region: the data plane of the global table, no control plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from switchyard.config import EnvironmentConfig
from switchyard.contract import STATE_TABLE_KEY, Names
from switchyard.model import DesiredState
from switchyard.retry import ClientFactory, error_code

KEY = STATE_TABLE_KEY  # the name this module's expressions use
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


MEMORY_VERSION = "version"  # optimistic-concurrency counter of the monitor's memory item
PROMOTION_REFUSED = "refused"  # a promotion record's outcome when AWS refused the call: it may be claimed again


class LockHeldError(RuntimeError):
    """Another runbook holds the lock; this one must not run."""

    def __init__(self, holder: str, epoch: int) -> None:
        super().__init__(f"the runbook lock is held by {holder!r} at epoch {epoch}")
        self.holder = holder
        self.epoch = epoch


@dataclass(frozen=True)
class LockRecord:
    holder: str
    epoch: int
    held: bool
    acquired_at: str
    released_at: str | None = None

    @classmethod
    def from_values(cls, item: dict[str, Any]) -> LockRecord:
        """The lock item's plain values (``from_item``) as a record."""
        return cls(
            holder=item["holder"],
            epoch=int(item["epoch"]),
            held=bool(item["held"]),
            acquired_at=item["acquired_at"],
            released_at=item.get("released_at"),
        )

    def as_values(self) -> dict[str, Any]:
        """The lock item's attributes (``pk`` aside) as plain values."""
        return {"holder": self.holder, "epoch": self.epoch, "held": self.held, "acquired_at": self.acquired_at}


def lock_to_take(current: LockRecord | None, *, holder: str, now: str, min_epoch: int) -> LockRecord:
    """The lock's rules, before the conditional write: ``holder`` already holding it gets its
    own record back (a re-run keeps its epoch); another holder's lock is refused
    (``LockHeldError``); a released or missing lock is taken at the next epoch, at least
    ``min_epoch`` + 1."""
    if current is not None and current.holder == holder:
        return current
    if current is not None and current.held:
        raise LockHeldError(current.holder, current.epoch)
    epoch = max(current.epoch if current else 0, min_epoch) + 1
    return LockRecord(holder=holder, epoch=epoch, held=True, acquired_at=now)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values as a DynamoDB item (floats as Decimal, None attributes left out)."""

    def encode(value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(str(value))
        if isinstance(value, dict):
            return {key: encode(item) for key, item in value.items() if item is not None}
        if isinstance(value, list):
            return [encode(item) for item in value]
        return value

    return {key: _SERIALIZER.serialize(encode(value)) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values (the inverse of :func:`to_item`)."""
    return {key: _plain(_DESERIALIZER.deserialize(value)) for key, value in item.items()}


class StateStore(Protocol):
    def read_desired(self, region: str, *, best_effort: bool = False) -> DesiredState | None:
        """``best_effort``: one attempt with short timeouts (the traffic switch must answer
        Route 53 within its 2 s)."""
        ...

    def write_desired(self, region: str, state: DesiredState) -> bool:
        """Write unless a newer epoch is stored; False when one is."""
        ...

    def read_lock(self, region: str, *, best_effort: bool = False) -> LockRecord | None: ...

    def acquire_lock(self, region: str, *, holder: str, now: str, min_epoch: int) -> LockRecord: ...

    def release_lock(self, region: str, *, holder: str, now: str) -> bool: ...

    def append_audit(self, region: str, *, execution: str, record: dict[str, Any]) -> bool:
        """Write the execution's audit record once; False when it already exists."""
        ...

    def read_audit(self, region: str, *, execution: str) -> dict[str, Any] | None: ...

    def read_monitor_memory(self, region: str) -> dict[str, Any] | None: ...

    def write_monitor_memory(self, region: str, memory: dict[str, Any], *, read_version: int) -> bool:
        """Conditional on ``read_version`` (the ``version`` field of what was read; 0 if none)."""
        ...

    def write_heartbeat(self, region: str, *, at: str) -> None:
        """``region``'s heartbeat, into its own replica."""
        ...

    def read_heartbeat(self, region: str, *, of_region: str) -> str | None:
        """``of_region``'s last heartbeat as ``region``'s replica has it."""
        ...

    def claim_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        """Record the promotion about to be issued at ``epoch``; False when one already is
        (claimed and not refused)."""
        ...

    def settle_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> None:
        """Replace the promotion record of ``epoch`` with its outcome."""
        ...

    def read_promotion(self, region: str, *, epoch: int) -> dict[str, Any] | None: ...

    def record_trigger(self, region: str, *, event_id: str, record: dict[str, Any], at: str) -> bool:
        """Record one event the monitor received; False (and ``deliveries`` incremented on
        the existing record) when the event was recorded before: a duplicate delivery."""
        ...

    def record_lost_writes(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        """Record that the promotion at ``epoch`` may lose writes; False when it already is."""
        ...

    def read_lost_writes(self, region: str, *, up_to_epoch: int) -> list[dict[str, Any]]:
        """Every lost-writes record of epochs 1..``up_to_epoch``, oldest first."""
        ...

    def read_lost_writes_record(self, region: str, *, epoch: int) -> dict[str, Any] | None: ...

    def record_lost_writes_snapshot(self, region: str, *, epoch: int, snapshot: str, at: str) -> bool:
        """Add the old primary's snapshot to ``epoch``'s record; False when it has one (or no record)."""
        ...

    def acknowledge_lost_writes(self, region: str, *, epoch: int, by: str, at: str, note: str) -> bool:
        """An operator's acknowledgement of ``epoch``'s lost writes; False when there is no
        record or it is acknowledged already."""
        ...


class LostWritesUpdates:
    """The lost-writes record's two set-once updates, over a store's ``_update_once``
    (the record must exist and ``attribute`` must not be set yet; False otherwise)."""

    def _update_once(self, region: str, epoch: int, *, attribute: str, values: dict[str, Any]) -> bool:
        raise NotImplementedError

    def record_lost_writes_snapshot(self, region: str, *, epoch: int, snapshot: str, at: str) -> bool:
        return self._update_once(region, epoch, attribute="snapshot", values={"snapshot": snapshot, "snapshot_at": at})

    def acknowledge_lost_writes(self, region: str, *, epoch: int, by: str, at: str, note: str) -> bool:
        values = {"acknowledged_by": by, "acknowledged_at": at, "note": note}
        return self._update_once(region, epoch, attribute="acknowledged_by", values=values)


class DynamoStateStore(LostWritesUpdates):
    """The state table through the low-level DynamoDB client (consistent reads)."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def _table(self, region: str, *, best_effort: bool = False) -> tuple[Any, str]:
        return self._clients.client("dynamodb", region, best_effort=best_effort), self._names.state_table

    def _get(self, region: str, key: str, *, best_effort: bool = False) -> dict[str, Any] | None:
        dynamodb, table = self._table(region, best_effort=best_effort)
        item = dynamodb.get_item(TableName=table, Key={KEY: {"S": key}}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def _put(self, region: str, values: dict[str, Any], *, condition: str | None = None, **expression: Any) -> bool:
        dynamodb, table = self._table(region)
        kwargs: dict[str, Any] = {"TableName": table, "Item": to_item(values)}
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs.update(expression)
        try:
            dynamodb.put_item(**kwargs)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- desired state -----------------------------------------------------------------
    def read_desired(self, region: str, *, best_effort: bool = False) -> DesiredState | None:
        item = self._get(region, self._names.desired_state_key, best_effort=best_effort)
        if item is None:
            return None
        item.pop(KEY)
        return DesiredState.model_validate(item)

    def write_desired(self, region: str, state: DesiredState) -> bool:
        return self._put(
            region,
            {KEY: self._names.desired_state_key, **state.model_dump()},
            condition="attribute_not_exists(#pk) OR #epoch <= :epoch",
            ExpressionAttributeNames={"#pk": KEY, "#epoch": "epoch"},
            ExpressionAttributeValues={":epoch": {"N": str(state.epoch)}},
        )

    # -- lock --------------------------------------------------------------------------
    def read_lock(self, region: str, *, best_effort: bool = False) -> LockRecord | None:
        item = self._get(region, self._names.lock_key, best_effort=best_effort)
        return LockRecord.from_values(item) if item is not None else None

    def acquire_lock(self, region: str, *, holder: str, now: str, min_epoch: int) -> LockRecord:
        current = self.read_lock(region)
        record = lock_to_take(current, holder=holder, now=now, min_epoch=min_epoch)
        if record is current:
            return record  # idempotent: the same run re-acquiring gets its epoch back
        epoch = record.epoch
        if current is None:
            condition = "attribute_not_exists(#pk)"
            names = {"#pk": KEY}
            values: dict[str, Any] = {}
        else:
            condition = "#epoch = :previous AND #held = :released"
            names = {"#epoch": "epoch", "#held": "held"}
            values = {":previous": {"N": str(current.epoch)}, ":released": {"BOOL": False}}
        expression: dict[str, Any] = {"ExpressionAttributeNames": names}
        if values:
            expression["ExpressionAttributeValues"] = values
        written = self._put(
            region,
            {KEY: self._names.lock_key, **record.as_values()},
            condition=condition,
            **expression,
        )
        if written:
            return record
        winner = self.read_lock(region)
        if winner is not None and winner.holder == holder:
            return winner
        raise LockHeldError(winner.holder if winner else "unknown", winner.epoch if winner else epoch)

    def release_lock(self, region: str, *, holder: str, now: str) -> bool:
        dynamodb, table = self._table(region)
        try:
            dynamodb.update_item(
                TableName=table,
                Key={KEY: {"S": self._names.lock_key}},
                UpdateExpression="SET #held = :released, released_at = :now",
                ConditionExpression="#holder = :holder AND #held = :held",
                ExpressionAttributeNames={"#held": "held", "#holder": "holder"},
                ExpressionAttributeValues={
                    ":released": {"BOOL": False},
                    ":held": {"BOOL": True},
                    ":holder": {"S": holder},
                    ":now": {"S": now},
                },
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- audit -------------------------------------------------------------------------
    def append_audit(self, region: str, *, execution: str, record: dict[str, Any]) -> bool:
        key = self._names.audit_key(execution)
        return self._put(
            region,
            {**record, KEY: key},
            condition="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": KEY},
        )

    def read_audit(self, region: str, *, execution: str) -> dict[str, Any] | None:
        return self._get(region, self._names.audit_key(execution))

    # -- monitor memory ----------------------------------------------------------------
    def read_monitor_memory(self, region: str) -> dict[str, Any] | None:
        item = self._get(region, self._names.monitor_key(region))
        if item is not None:
            item.pop(KEY)
        return item

    def write_monitor_memory(self, region: str, memory: dict[str, Any], *, read_version: int) -> bool:
        """Write the memory unless another evaluation wrote it since ``read_version`` (the
        schedule and alarm events can run two monitors at once); False when it lost."""
        return self._put(
            region,
            {**memory, KEY: self._names.monitor_key(region), MEMORY_VERSION: read_version + 1},
            condition="attribute_not_exists(#version) OR #version = :read",
            ExpressionAttributeNames={"#version": MEMORY_VERSION},
            ExpressionAttributeValues={":read": {"N": str(read_version)}},
        )

    # -- heartbeat ---------------------------------------------------------------------
    def write_heartbeat(self, region: str, *, at: str) -> None:
        self._put(region, {KEY: self._names.heartbeat_key(region), "at": at})

    def read_heartbeat(self, region: str, *, of_region: str) -> str | None:
        item = self._get(region, self._names.heartbeat_key(of_region))
        return str(item["at"]) if item else None

    # -- promotion (promote's idempotency record) ----------------------------------------
    def claim_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        return self._put(
            region,
            {**record, KEY: self._names.promotion_key(epoch), "epoch": epoch},
            condition="attribute_not_exists(#pk) OR #outcome = :refused",
            ExpressionAttributeNames={"#pk": KEY, "#outcome": "outcome"},
            ExpressionAttributeValues={":refused": {"S": PROMOTION_REFUSED}},
        )

    def settle_promotion(self, region: str, *, epoch: int, record: dict[str, Any]) -> None:
        self._put(region, {**record, KEY: self._names.promotion_key(epoch), "epoch": epoch})

    def read_promotion(self, region: str, *, epoch: int) -> dict[str, Any] | None:
        item = self._get(region, self._names.promotion_key(epoch))
        if item is not None:
            item.pop(KEY)
        return item

    # -- lost writes (a data-losing promotion's record) -----------------------------------
    def record_lost_writes(self, region: str, *, epoch: int, record: dict[str, Any]) -> bool:
        return self._put(
            region,
            {**record, KEY: self._names.lost_writes_key(epoch), "epoch": epoch},
            condition="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": KEY},
        )

    def read_lost_writes(self, region: str, *, up_to_epoch: int) -> list[dict[str, Any]]:
        """One consistent GetItem per epoch: every read the table's readers already have, no
        Scan over the whole table (trigger records grow with every event)."""
        found = (self.read_lost_writes_record(region, epoch=epoch) for epoch in range(1, up_to_epoch + 1))
        return [record for record in found if record is not None]

    def read_lost_writes_record(self, region: str, *, epoch: int) -> dict[str, Any] | None:
        item = self._get(region, self._names.lost_writes_key(epoch))
        if item is not None:
            item.pop(KEY)
        return item

    def _update_once(self, region: str, epoch: int, *, attribute: str, values: dict[str, Any]) -> bool:
        """Set ``values`` on ``epoch``'s lost-writes record unless ``attribute`` is set already."""
        dynamodb, table = self._table(region)
        names = {"#pk": KEY, "#once": attribute, **{f"#{name}": name for name in values}}
        try:
            dynamodb.update_item(
                TableName=table,
                Key={KEY: {"S": self._names.lost_writes_key(epoch)}},
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in values),
                ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(#once)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":{name}": _SERIALIZER.serialize(value) for name, value in values.items()},
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- monitor triggers ------------------------------------------------------------------
    def record_trigger(self, region: str, *, event_id: str, record: dict[str, Any], at: str) -> bool:
        key = self._names.trigger_key(region, event_id)
        first = self._put(
            region,
            {**record, KEY: key, "deliveries": 1, "recorded_at": at},
            condition="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": KEY},
        )
        if first:
            return True
        dynamodb, table = self._table(region)
        dynamodb.update_item(
            TableName=table,
            Key={KEY: {"S": key}},
            UpdateExpression="ADD deliveries :one SET last_delivered_at = :at",
            ExpressionAttributeValues={":one": {"N": "1"}, ":at": {"S": at}},
        )
        return False
