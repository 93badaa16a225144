"""GIVEN an event WHEN a handler receives it THEN bad input is rejected before any
mutating call, and good input runs the logic through the injected deps."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from switchyard.config import ConfigError
from switchyard.contract import Names
from switchyard.handlers import monitor, reconciler, runbook, traffic_switch
from switchyard.handlers.environment import forget_cached_deps, override_deps
from switchyard.model import DesiredState, StepStatus
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext, StaticProbe
from tests.controller.route53_verdicts import route53_sees

NOW = "2026-11-24T21:00:00+00:00"


def _document(config: Any, **request_changes: Any) -> dict[str, Any]:
    request = {
        "action": "failover",
        "target_region": config.regions.standby,
        "reason": "primary region failing",
        "incident_id": "INC-7",
        "requested_by": "alice",
        **request_changes,
    }
    execution = Names(config).execution_arn(config.regions.standby, "manual-inc-7")
    return {"request": request, "execution": execution, "epoch": None, "results": {}, "approval": None}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"target_region": "ap-south-1"}, "not one of the configured pair"),
        ({"target_region": "us-east-1"}, "this runbook runs in us-west-2 and promotes only us-west-2"),
        ({"action": "failback", "target_region": "us-west-2"}, "failback returns to the configured primary"),
        ({"force": True}, "field 'request.force': unknown field"),
        ({"target_region": "mars-1"}, "field 'request.target_region'"),
        ({"action": "yolo"}, "field 'request.action'"),
    ],
)
def test_validate_rejects_bad_requests_without_a_mutating_call(
    rds: Controller, lambda_context: FakeLambdaContext, change: dict[str, Any], named: str
) -> None:
    # GIVEN a request with one thing wrong
    event = _document(rds.config, **change)

    # WHEN the validate handler receives it
    result = runbook.validate(event, lambda_context, deps=rds.deps())

    # THEN it is rejected with a message naming the problem, and nothing was changed
    assert result["status"] == StepStatus.NEEDS_HUMAN
    assert result["message"].startswith("rejected: ")
    assert named in result["message"]
    assert rds.call_log.mutating() == []


def test_validate_rejects_the_already_active_region_in_its_own_runbook(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN a failover to the primary, sent to the primary's own runbook while it is active
    event = _document(rds.config, target_region=rds.config.regions.primary)

    # WHEN the primary's validate handler receives it
    result = runbook.validate(event, lambda_context, deps=rds.deps(rds.config.regions.primary))

    # THEN it is rejected as already active, and nothing was changed
    assert result["status"] == StepStatus.NEEDS_HUMAN
    assert "already the active region" in result["message"]
    assert rds.call_log.mutating() == []


def test_validate_accepts_a_good_request(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN a well-formed failover request to the standby
    # WHEN the validate handler receives it
    result = runbook.validate(_document(rds.config), lambda_context, deps=rds.deps())

    # THEN it is accepted without a mutating call
    assert result["status"] == StepStatus.NOOP
    assert result["observed"]["active_region"] == rds.config.regions.primary
    assert rds.call_log.mutating() == []


def test_a_malformed_document_raises_a_named_error_for_later_steps(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN a state document with an unknown top-level field
    event = {**_document(rds.config), "surprise": 1}

    # WHEN the lock handler receives it THEN it raises before touching anything
    with pytest.raises(runbook.InvalidRunbookInputError, match="field 'surprise': unknown field"):
        runbook.lock(event, lambda_context, deps=rds.deps())
    assert rds.call_log.snapshot() == []


def test_handlers_use_overriding_deps_when_none_are_passed(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN deps installed the way the state machine harness and the drill do
    deps = rds.deps()

    # WHEN a step handler is called with (event, context) only
    with override_deps(deps):
        result = runbook.lock(_document(rds.config), lambda_context)

    # THEN it ran against those deps and returned the StepResult as JSON
    assert result["status"] == StepStatus.DONE
    assert result["observed"]["epoch"] == 1
    assert [call.operation for call in rds.call_log.mutating()] == ["PutItem"]


# -- traffic switch ------------------------------------------------------------------------
URL_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "headers": {"host": "switch.lambda-url.us-east-1.on.aws"},
    "requestContext": {
        "accountId": "anonymous",
        "apiId": "switch",
        "domainName": "switch.lambda-url.us-east-1.on.aws",
        "domainPrefix": "switch",
        "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "Route53"},
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "24/Nov/2026:21:00:00 +0000",
        "timeEpoch": 1795000000000,
    },
    "isBase64Encoded": False,
}


def test_traffic_switch_is_on_only_in_the_active_unfenced_region(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN the provisioned state: the primary is active
    primary, standby = rds.config.regions.pair

    # WHEN each region's switch is asked
    answers = {
        region: traffic_switch.handler(URL_EVENT, lambda_context, deps=rds.deps(region))
        for region in (primary, standby)
    }

    # THEN the primary answers 200 and the standby 503
    assert {region: answer["statusCode"] for region, answer in answers.items()} == {primary: 200, standby: 503}


def test_traffic_switch_turns_off_once_its_region_is_fenced(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN a newer epoch fences the primary (still named active until the flip)
    primary = rds.config.regions.primary
    deps = rds.deps(primary)
    fence = DesiredState(
        active_region=primary,
        epoch=1,
        fenced_region=primary,
        updated_by="t",
        reason="fence",
        updated_at="2026-11-24T21:00:00+00:00",
    )
    deps.state.write_desired(primary, fence)

    # WHEN the primary's switch is asked THEN it answers 503
    assert traffic_switch.handler(URL_EVENT, lambda_context, deps=deps)["statusCode"] == 503


def test_traffic_switch_rejects_events_that_are_not_url_requests(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN an event that is not a function URL request WHEN the switch gets it THEN 400, no read
    assert traffic_switch.handler({"hello": "world"}, lambda_context, deps=rds.deps())["statusCode"] == 400
    assert rds.call_log.snapshot() == []


@pytest.mark.parametrize(
    ("desired", "answer"),
    [
        (None, (503, {"active": False})),
        (
            DesiredState(active_region="us-east-1", epoch=7, updated_by="t", reason="r", updated_at=NOW),
            (200, {"active": True}),
        ),
        (
            DesiredState(active_region="us-west-2", epoch=7, updated_by="t", reason="r", updated_at=NOW),
            (503, {"active": False}),
        ),
        (
            DesiredState(
                active_region="us-east-1",
                epoch=7,
                fenced_region="us-east-1",
                updated_by="t",
                reason="r",
                updated_at=NOW,
            ),
            (503, {"active": False}),
        ),
    ],
    ids=["no-desired-state", "active", "other-region-active", "fenced"],
)
def test_the_switch_answer_repeats_its_status_and_says_nothing_else(
    desired: DesiredState | None, answer: tuple[int, dict[str, bool]]
) -> None:
    # GIVEN us-east-1's desired state WHEN its switch answers THEN the body is exactly whether it
    # is active: no region, epoch, fence or reason for the public URL to disclose
    assert traffic_switch.switch_answer("us-east-1", desired) == answer


def _logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Each captured record as the function's log line (Powertools' JSON, appended keys included)."""
    formatter = traffic_switch.logger.registered_formatter
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_the_public_body_discloses_neither_region_nor_epoch_but_the_log_keeps_them(
    rds: Controller, lambda_context: FakeLambdaContext, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the standby active at epoch 4 after a failover, the primary fenced
    primary, standby = rds.config.regions.pair
    rds.standby_active(epoch=4, reason="failover", by="run-4")

    # WHEN Route 53 asks each region's switch
    responses = {
        region: traffic_switch.handler(URL_EVENT, lambda_context, deps=rds.deps(region))
        for region in (primary, standby)
    }

    # THEN each public body says only whether that region is active
    assert {region: json.loads(response["body"]) for region, response in responses.items()} == {
        primary: {"active": False},
        standby: {"active": True},
    }
    # AND each answer's reasons are in the function's log, one line per answer
    answered = [line for line in _logged(caplog) if line["message"] == "switch answered"]
    assert [(line["status"], line["active_region"], line["epoch"], line["fenced_region"]) for line in answered] == [
        (503, standby, 4, primary),
        (200, standby, 4, primary),
    ]


@pytest.fixture
def switch_told_to_log_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The switch's module imported with POWERTOOLS_LOGGER_LOG_EVENT=true (Powertools reads it
    when the handler is decorated), then imported again without it."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    yield importlib.reload(traffic_switch)
    monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
    importlib.reload(traffic_switch)


def test_the_log_names_a_request_by_a_truncated_summary_never_the_whole_event(
    rds: Controller,
    lambda_context: FakeLambdaContext,
    caplog: pytest.LogCaptureFixture,
    switch_told_to_log_events: ModuleType,
) -> None:
    # GIVEN Powertools told to log every event, and a request that carries a secret header, a
    # query string and a huge user agent
    event = json.loads(json.dumps(URL_EVENT))
    event["headers"]["authorization"] = "Bearer do-not-log-me"
    event["rawQueryString"] = "token=do-not-log-me-either"
    event["requestContext"]["http"]["userAgent"] = "x" * 5000

    # WHEN the primary's switch answers it
    switch_told_to_log_events.handler(event, lambda_context, deps=rds.deps(rds.config.regions.primary))

    # THEN its log line names the caller by address, method, path and a truncated user agent
    [line] = [line for line in _logged(caplog) if line["message"] == "switch answered"]
    assert (line["source_ip"], line["method"], line["path"]) == ("1.2.3.4", "GET", "/")
    assert line["user_agent"] == "x" * traffic_switch.MAX_LOGGED_CHARS
    # AND nothing the caller chose beyond that reached any line of the log
    text = json.dumps(_logged(caplog))
    assert "do-not-log-me" not in text
    assert "x" * (traffic_switch.MAX_LOGGED_CHARS + 1) not in text


# -- reconciler ----------------------------------------------------------------------------
def test_reconciler_converges_each_region_to_its_role(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN the standby's ASG was scaled up by hand while the primary stays active
    standby = rds.config.regions.standby
    deps = rds.deps(standby)
    deps.compute.set_desired(standby, rds.config.capacity.max)

    # WHEN the standby's reconciler runs
    result = reconciler.handler(SCHEDULED_EVENT, lambda_context, deps=deps)

    # THEN it went back to the warm minimum
    assert (result["role"], result["after"]) == ("standby", rds.config.capacity.standby_warm_min)
    assert deps.compute.describe(standby).desired == rds.config.capacity.standby_warm_min
    # AND it left its heartbeat for the other region's monitor
    assert deps.state.read_heartbeat(standby, of_region=standby) == rds.clock().isoformat()


def test_reconciler_does_not_scale_down_while_a_runbook_holds_the_lock(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN a runbook holds the lock and has scaled the standby up before its flip
    standby = rds.config.regions.standby
    deps = rds.deps(standby)
    deps.state.acquire_lock(standby, holder="run-1", now=NOW, min_epoch=0)
    deps.compute.set_desired(standby, rds.config.capacity.standby_scale_up_target)

    # WHEN the standby's reconciler runs
    result = reconciler.handler(SCHEDULED_EVENT, lambda_context, deps=deps)

    # THEN it leaves the capacity alone
    assert result["runbook_in_progress"] is True
    assert deps.compute.describe(standby).desired == rds.config.capacity.standby_scale_up_target


# -- monitor -------------------------------------------------------------------------------
def test_monitor_rejects_an_unknown_event(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN an EventBridge event of another kind WHEN the monitor gets it THEN a clear error, no call
    event = {**SCHEDULED_EVENT, "detail-type": "EC2 Instance State-change Notification"}
    with pytest.raises(monitor.InvalidMonitorEventError, match="detail-type"):
        monitor.handler(event, lambda_context, deps=rds.deps())
    assert rds.call_log.snapshot() == []


def test_monitor_in_the_active_region_does_not_watch_itself(rds: Controller, lambda_context: FakeLambdaContext) -> None:
    # GIVEN the monitor runs in the active (primary) region
    deps = rds.deps(rds.config.regions.primary, probe=StaticProbe(healthy=False))

    # WHEN the schedule invokes it THEN at each of the minute's evaluations it decides nothing and
    # writes nothing but its heartbeat (the standby reads it; also between evaluations) and the
    # record of that evaluation's trigger
    outcome = monitor.handler(SCHEDULED_EVENT, lambda_context, deps=deps)
    assert {evaluation["decision"] for evaluation in outcome["evaluations"]} == {None}
    names = rds.topology.names
    heartbeat = (names.heartbeat_key(deps.region),)
    written = [call.keys for call in rds.call_log.mutating()]
    assert len(outcome["evaluations"]) == rds.config.detection.evaluations_per_invocation
    assert [keys for keys in written if keys != heartbeat] == [
        (names.trigger_key(deps.region, evaluation["event_id"]),) for evaluation in outcome["evaluations"]
    ]
    assert written[0] == heartbeat  # an evaluation writes the heartbeat first


def test_monitor_in_manual_mode_notifies_once_and_starts_nothing(aurora: Controller) -> None:
    # GIVEN prod (manual mode) whose primary fails with quorum
    primary, standby = aurora.config.regions.pair
    aurora.alarm_everything(primary)
    probe = StaticProbe(healthy=False)
    deps = route53_sees(aurora.deps(standby, probe=probe), probe, {primary: True})

    # WHEN the monitor evaluates long enough to decide
    outcomes = aurora.evaluate(deps, 6)

    # THEN it notified exactly once and never started a runbook
    assert [outcome["notified"] for outcome in outcomes].count(True) == 1
    assert all(outcome["started_execution"] is None for outcome in outcomes)
    assert [call.operation for call in aurora.call_log.mutating() if call.service == "sns"] == ["Publish"]


def test_reconciler_in_a_fenced_old_primary_scales_itself_down(
    rds: Controller, lambda_context: FakeLambdaContext
) -> None:
    # GIVEN the old primary's replica received a newer epoch that fences it
    primary, standby = rds.config.regions.pair
    deps = rds.deps(primary)
    flipped = DesiredState(
        active_region=standby, epoch=1, fenced_region=primary, updated_by="run-1", reason="failover", updated_at=NOW
    )
    deps.state.write_desired(primary, flipped)

    # WHEN the old primary's reconciler runs
    result = reconciler.handler(SCHEDULED_EVENT, lambda_context, deps=deps)

    # THEN it went from the primary's size to the warm minimum
    assert (result["before"], result["after"]) == (
        rds.config.capacity.primary_desired,
        rds.config.capacity.standby_warm_min,
    )


# -- the Lambda environment ------------------------------------------------------------------
def test_a_handler_builds_its_deps_from_the_lambda_environment(
    rds: Controller, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment variables every Switchyard Lambda gets, and no injected deps
    monkeypatch.setenv("SWITCHYARD_CONFIG", rds.config.model_dump_json())
    monkeypatch.setenv("AWS_REGION", rds.config.regions.standby)

    # WHEN the validate handler runs
    try:
        result = runbook.validate(_document(rds.config), lambda_context)
    finally:
        forget_cached_deps()

    # THEN it read the standby's state table through its own clients
    assert result["status"] == StepStatus.NOOP
    assert result["observed"]["runs_in"] == rds.config.regions.standby


def test_a_missing_configuration_is_a_clear_error(
    lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, dev_config: Any
) -> None:
    # GIVEN no SWITCHYARD_CONFIG in the environment
    monkeypatch.delenv("SWITCHYARD_CONFIG", raising=False)

    # WHEN a step handler runs without deps THEN the error names the variable
    with pytest.raises(ConfigError, match="SWITCHYARD_CONFIG is not set"):
        runbook.lock(_document(dev_config), lambda_context)
