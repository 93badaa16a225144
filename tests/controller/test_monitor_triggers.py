"""GIVEN an event the monitor receives (the schedule, an alarm state change) WHEN it is
delivered, delivered again, or delivered late THEN it leaves exactly one record with the
event's id and time; a duplicate is marked, a late event changes nothing."""

from __future__ import annotations

from typing import Any

from switchyard.handlers import monitor
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext, StaticProbe


def trigger_items(controller: Controller, region: str) -> list[dict[str, Any]]:
    names = controller.topology.names
    items = controller.aws("dynamodb", region).scan(TableName=names.state_table)["Items"]
    return [item for item in items if item["pk"]["S"].startswith(f"trigger#{controller.config.application}#{region}#")]


def alarm_event(event_id: str, time: str) -> dict[str, Any]:
    detail = {"alarmName": "switchyard-dev-us-east-1-alb-5xx", "state": {"value": "ALARM"}}
    return {
        **SCHEDULED_EVENT,
        "id": event_id,
        "time": time,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "detail": detail,
    }


def test_a_no_op_evaluation_leaves_a_record_with_the_events_id_and_time(rds: Controller) -> None:
    # GIVEN a healthy primary watched by the standby's monitor
    deps = rds.deps(rds.config.regions.standby)

    # WHEN the schedule's event triggers one evaluation (the minute's first)
    outcome = monitor.single_evaluation(SCHEDULED_EVENT, FakeLambdaContext(), deps=deps)

    # THEN the trigger is recorded with its id, time and the (healthy) decision
    assert outcome["trigger_record"] == "recorded"
    [item] = trigger_items(rds, deps.region)
    assert item["event_id"]["S"] == SCHEDULED_EVENT["id"]
    assert item["event_time"]["S"] == "2026-11-24T21:00:00+00:00"
    assert item["decision"]["S"] == outcome["decision"]
    assert int(item["expires_at"]["N"]) > int(rds.clock().timestamp())


def test_a_duplicate_delivery_leaves_one_record_marked_as_delivered_twice(rds: Controller) -> None:
    # GIVEN an alarm event the standby's monitor already received
    deps = rds.deps(rds.config.regions.standby, probe=StaticProbe(healthy=True))
    event = alarm_event("a1b2c3d4-0000-0000-0000-000000000001", "2026-11-24T21:00:30Z")
    monitor.handler(event, FakeLambdaContext(), deps=deps)

    # WHEN EventBridge delivers it again
    again = monitor.handler(event, FakeLambdaContext(), deps=deps)

    # THEN there is still one record, counting two deliveries, and the outcome says duplicate
    assert again["trigger_record"] == "duplicate"
    [item] = trigger_items(rds, deps.region)
    assert item["deliveries"]["N"] == "2"
    assert (item["alarm_name"]["S"], item["alarm_state"]["S"]) == ("switchyard-dev-us-east-1-alb-5xx", "ALARM")


def test_a_late_event_is_recorded_and_changes_nothing(rds: Controller) -> None:
    # GIVEN the primary failing, and the monitor has evaluated a trigger of 21:05
    primary, standby = rds.config.regions.pair
    rds.alarm_everything(primary)
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))
    monitor.handler(alarm_event("evt-newer", "2026-11-24T21:05:00Z"), FakeLambdaContext(), deps=deps)
    memory_before = deps.state.read_monitor_memory(standby)
    writes_before = len(rds.call_log.mutating())

    # WHEN an alarm event of 21:01 arrives late
    late = monitor.handler(alarm_event("evt-older", "2026-11-24T21:01:00Z"), FakeLambdaContext(), deps=deps)

    # THEN it is recorded as late, and nothing else changed: no evaluation, no memory write, no
    # start (the heartbeat is written first at every evaluation, late or not)
    assert late["late"] is True
    assert late["decision"] is None
    assert deps.state.read_monitor_memory(standby) == memory_before
    assert [call.keys for call in rds.call_log.mutating()[writes_before:]] == [
        (rds.topology.names.heartbeat_key(standby),),
        (rds.topology.names.trigger_key(standby, "evt-older"),),
    ]
    records = {item["event_id"]["S"]: item for item in trigger_items(rds, standby)}
    assert records["evt-older"]["late"]["BOOL"] is True
