"""GIVEN no desired state in a region's replica (the item is missing, or GetItem is denied
or throttled) WHEN the reconciler, the monitor or the traffic switch runs there THEN it
changes nothing (the reconciler and the monitor still write the heartbeat), counts DesiredStateMissing
with a Region dimension and logs an ERROR naming the table, key, region and cause.

moto enforces no IAM and never throttles: AccessDenied and throttling are injected with a
botocore hook on GetItem of the desired-state key only (every other read still works)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from switchyard.contract import (
    DESIRED_STATE_MISSING_METRIC,
    HEARTBEAT_ITEM,
    METRICS_NAMESPACE,
    MONITOR,
    RECONCILER,
    TRAFFIC_SWITCH,
    TRIGGER_ITEM,
    desired_state_item,
    initial_desired_state,
)
from switchyard.handlers import monitor, reconciler, traffic_switch
from switchyard.model import DesiredState
from switchyard.retry import EventHook, RetryPolicy
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext, StaticProbe
from tests.controller.test_handlers import URL_EVENT

WAYS = ("missing", "AccessDeniedException", "ThrottlingException")
FUNCTIONS = (MONITOR, RECONCILER, TRAFFIC_SWITCH)


@dataclass(frozen=True)
class Unavailable:
    """How the desired state is unavailable in this test, and what the report must say."""

    problem: str
    error_code: str | None
    read_attempts: list[int]  # one entry per injected failure


def make_unavailable(controller: Controller, way: str) -> Unavailable:
    """Delete the item from both replicas, or fail every GetItem of its key with ``way``."""
    names = controller.topology.names
    if way == "missing":
        for region in controller.config.regions.pair:
            controller.aws("dynamodb", region).delete_item(
                TableName=names.state_table, Key={"pk": {"S": names.desired_state_key}}
            )
        return Unavailable("missing", None, [])
    attempts: list[int] = []

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if json.loads(params["body"])["Key"]["pk"]["S"] == names.desired_state_key:
            attempts.append(1)
            raise ClientError({"Error": {"Code": way, "Message": f"injected {way}"}}, "GetItem")

    controller.hooks.append(EventHook("before-call.dynamodb.GetItem", refuse))
    return Unavailable("unreadable", way, attempts)


def region_of(controller: Controller, function: str) -> str:
    """Where each function is most dangerous: the reconciler and the switch in the active
    primary (a scale-down, a dark region), the monitor in the standby that watches it."""
    return controller.config.regions.standby if function == MONITOR else controller.config.regions.primary


def invoke(controller: Controller, function: str, **deps_options: Any) -> dict[str, Any]:
    deps = controller.deps(region_of(controller, function), **deps_options)
    context = FakeLambdaContext()
    if function == MONITOR:
        return monitor.single_evaluation(SCHEDULED_EVENT, context, deps=deps)  # one evaluation of the minute's
    if function == RECONCILER:
        return reconciler.handler(SCHEDULED_EVENT, context, deps=deps)
    return traffic_switch.handler(URL_EVENT, context, deps=deps)


def published_counts(output: str) -> list[dict[str, Any]]:
    """The EMF documents on stdout that carry the DesiredStateMissing metric."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    return [document for document in documents if DESIRED_STATE_MISSING_METRIC in document]


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=FUNCTIONS)
def function(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def metrics_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


# -- every function -------------------------------------------------------------------------
def test_no_mutating_call_but_the_reconcilers_heartbeat(rds: Controller, way: str, function: str) -> None:
    # GIVEN no desired state in the function's region
    make_unavailable(rds, way)

    # WHEN the function runs
    invoke(rds, function)

    # THEN the only writes are the reconciler's heartbeat, or the monitor's heartbeat and the
    # record of its trigger (no capacity change, no fence, no start); the reconciler's warm-up
    # invokes of its step functions (constant work) change no state and are left out
    expected = {RECONCILER: [HEARTBEAT_ITEM], MONITOR: [HEARTBEAT_ITEM, TRIGGER_ITEM]}.get(function, [])
    writes = [call for call in rds.call_log.mutating() if call.service != "lambda"]
    assert [(call.keys or ("",))[0].split("#")[0] for call in writes] == expected


def test_the_alarm_metric_is_counted_in_the_functions_region(
    rds: Controller, way: str, function: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no desired state in the function's region
    make_unavailable(rds, way)

    # WHEN the function runs
    invoke(rds, function)

    # THEN one count of DesiredStateMissing went out, dimensioned by exactly the Region (what the alarm selects)
    [document] = published_counts(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRICS_NAMESPACE
    assert directive["Dimensions"] == [["Region"]]
    assert document["Region"] == region_of(rds, function)
    assert document[DESIRED_STATE_MISSING_METRIC] == [1.0]


def test_an_error_line_names_the_table_key_region_and_cause(
    rds: Controller, way: str, function: str, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN no desired state in the function's region
    unavailable = make_unavailable(rds, way)

    # WHEN the function runs
    invoke(rds, function)

    # THEN one ERROR record says where and why
    [record] = [record for record in caplog.records if record.levelno == logging.ERROR]
    names = rds.topology.names
    assert record.__dict__["function"] == function
    assert record.__dict__["table"] == names.state_table
    assert record.__dict__["key"] == names.desired_state_key
    assert record.__dict__["region"] == region_of(rds, function)
    assert (record.__dict__["problem"], record.__dict__["error_code"]) == (unavailable.problem, unavailable.error_code)


def test_a_throttled_read_is_retried_within_its_bound_before_it_is_reported(rds: Controller, function: str) -> None:
    # GIVEN GetItem of the desired state is throttled every time
    unavailable = make_unavailable(rds, "ThrottlingException")

    # WHEN the function runs
    invoke(rds, function)

    # THEN the read was attempted as often as the retry policy allows, no more; the switch
    # tries once (Route 53 waits about 2 s: a retry inside the invocation would only time out)
    expected = 1 if function == TRAFFIC_SWITCH else RetryPolicy().max_attempts
    assert len(unavailable.read_attempts) == expected


# -- the reconciler ---------------------------------------------------------------------------
def test_the_reconciler_does_not_scale_the_active_primary_down(rds: Controller, way: str) -> None:
    # GIVEN the active primary runs at its full size and has no desired state
    primary = rds.config.regions.primary
    make_unavailable(rds, way)

    # WHEN its reconciler runs
    result = invoke(rds, RECONCILER)

    # THEN it stays at the primary's size and claims no role
    assert (result["role"], result["after"]) == ("unknown", None)
    assert rds.deps(primary).compute.describe(primary).desired == rds.config.capacity.primary_desired


def test_the_reconciler_still_writes_its_heartbeat(rds: Controller, way: str) -> None:
    # GIVEN no desired state in the primary
    primary = rds.config.regions.primary
    make_unavailable(rds, way)

    # WHEN its reconciler runs
    invoke(rds, RECONCILER)

    # THEN the other region still sees it alive through its heartbeat
    assert rds.deps(primary).state.read_heartbeat(primary, of_region=primary) == rds.clock().isoformat()


def test_a_heartbeat_that_cannot_be_written_fails_the_run_after_converging(rds: Controller) -> None:
    # GIVEN a newer epoch fences the old primary, and its heartbeat write is denied
    primary, standby = rds.config.regions.pair
    flipped = DesiredState(
        active_region=standby,
        epoch=1,
        fenced_region=primary,
        updated_by="run-1",
        reason="failover",
        updated_at="2026-01-01T00:00:00Z",
    )
    rds.deps(primary).state.write_desired(primary, flipped)
    rds.fail("dynamodb", "PutItem", "AccessDeniedException", region=primary)

    # WHEN its reconciler runs THEN the run fails, naming the heartbeat
    with pytest.raises(reconciler.HeartbeatNotWrittenError, match="AccessDeniedException"):
        invoke(rds, RECONCILER)
    # AND the old primary fenced itself down to the warm minimum all the same
    assert rds.deps(primary).compute.describe(primary).desired == rds.config.capacity.standby_warm_min


# -- the traffic switch -----------------------------------------------------------------------
def test_the_switch_answers_503_and_says_why_only_in_its_log(
    rds: Controller, way: str, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN no desired state in the primary
    unavailable = make_unavailable(rds, way)

    # WHEN Route 53 asks the primary's switch
    response = invoke(rds, TRAFFIC_SWITCH)

    # THEN it answers 503 with a body that says only "not active" (the URL is public)
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"active": False}
    # AND the why (missing, or unreadable with its error code) is in the ERROR line of its log
    [record] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert (record.__dict__["problem"], record.__dict__["error_code"]) == (unavailable.problem, unavailable.error_code)


def test_a_malformed_item_is_unreadable_not_a_crash(rds: Controller, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN the primary's desired-state item lacks its epoch (hand-edited)
    names = rds.topology.names
    item = {"pk": {"S": names.desired_state_key}, "active_region": {"S": rds.config.regions.primary}}
    rds.aws("dynamodb", rds.config.regions.primary).put_item(TableName=names.state_table, Item=item)

    # WHEN Route 53 asks the primary's switch
    response = invoke(rds, TRAFFIC_SWITCH)

    # THEN 503, reported as an unreadable item
    assert response["statusCode"] == 503
    assert [record.__dict__["error_code"] for record in caplog.records if record.levelno == logging.ERROR] == [
        "MalformedItem"
    ]


# -- the monitor ------------------------------------------------------------------------------
def test_the_monitor_starts_nothing_even_when_every_signal_fails(rds: Controller, way: str) -> None:
    # GIVEN dev (automatic mode), the primary failing every signal, and no desired state in the standby
    primary, standby = rds.config.regions.pair
    rds.alarm_everything(primary)
    state_machine = rds.state_machine(standby)
    make_unavailable(rds, way)
    deps = rds.deps(standby, probe=StaticProbe(healthy=False))

    # WHEN the standby's monitor evaluates long enough to have decided otherwise
    outcomes = rds.evaluate(deps, 6)

    # THEN it decided nothing and started no runbook
    assert {outcome["decision"] for outcome in outcomes} == {None}
    assert rds.executions(state_machine, standby) == []


# -- back to normal -----------------------------------------------------------------------------
def restore_seed(controller: Controller, region: str) -> None:
    """The runbook page's repair: put the seeded item only where there is none."""
    controller.aws("dynamodb", region).put_item(
        TableName=controller.topology.names.state_table,
        Item=desired_state_item(controller.config, initial_desired_state(controller.config)),
        ConditionExpression="attribute_not_exists(pk)",
    )


def test_after_the_seed_is_restored_the_reconciler_converges_again(rds: Controller) -> None:
    # GIVEN the item went missing, the primary was shrunk by hand, and the seed was put back
    primary = rds.config.regions.primary
    make_unavailable(rds, "missing")
    rds.deps(primary).compute.set_desired(primary, rds.config.capacity.standby_warm_min)
    restore_seed(rds, primary)

    # WHEN the primary's reconciler runs
    result = invoke(rds, RECONCILER)

    # THEN it scaled the active primary back up to its size
    assert (result["role"], result["after"]) == ("active", rds.config.capacity.primary_desired)


def test_the_seeds_conditional_put_never_overwrites_a_newer_epoch(rds: Controller) -> None:
    # GIVEN the standby is active at epoch 3
    primary, standby = rds.config.regions.pair
    newer = DesiredState(
        active_region=standby, epoch=3, updated_by="run-3", reason="failover", updated_at="2026-01-01T00:00:00Z"
    )
    rds.deps(primary).state.write_desired(primary, newer)

    # WHEN someone puts the seed back with the runbook's condition THEN DynamoDB refuses it
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        restore_seed(rds, primary)
    # AND epoch 3 stands
    assert rds.deps(primary).state.read_desired(primary) == newer


# -- call attribution ---------------------------------------------------------------------------
CALLERS: dict[str, Callable[[Controller], dict[str, Any]]] = {
    MONITOR: lambda controller: invoke(controller, MONITOR, probe=StaticProbe(healthy=True)),
    RECONCILER: lambda controller: invoke(controller, RECONCILER),
    TRAFFIC_SWITCH: lambda controller: invoke(controller, TRAFFIC_SWITCH),
}


def test_every_call_of_a_handler_carries_its_functions_purpose(rds: Controller, function: str) -> None:
    # GIVEN the seeded desired state (the happy path)
    # WHEN the function runs
    CALLERS[function](rds)

    # THEN it made calls, and every one is labelled with the function that made it
    labels = [call.step for call in rds.call_log.snapshot()]
    assert labels
    assert set(labels) == {function}
