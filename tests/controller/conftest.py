"""Fixtures for controller tests: a provisioned moto topology per engine, deps wired to
it with the modelled database promotions, a call log and a controllable clock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from drill.policy_check import check_calls
from drill.provision import ProvisionedTopology, provision, publish_replication_lag, set_alarm_state
from switchyard.adapters.database import ReplicationLagReader, modelled_database
from switchyard.adapters.health import AwsHealthSignals, Probe
from switchyard.adapters.protection import modelled_protection
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.decision import ProbeOutcome, ProbeResult
from switchyard.deps import ReadinessPolling, RunbookDeps, build_runbook_deps
from switchyard.handlers import monitor
from switchyard.model import Action, DesiredState, RunbookInput
from switchyard.retry import ApiCallLog, ClientFactory, EventHook, RetryPolicy
from switchyard.runbook_state import Approval, RunbookState
from switchyard.steps import STEPS

SHARED_SESSION = boto3.session.Session()  # service models load once for the whole suite
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # faster moto resets; no AMI is looked up


@dataclass
class SteppingClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "switchyard-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:111111111111:function:switchyard-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


SCHEDULED_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111111111111",
    "time": "2026-11-24T21:00:00Z",
    "region": "us-west-2",
    "resources": ["arn:aws:events:us-west-2:111111111111:rule/switchyard-dev-monitor"],
    "detail": {},
}


@dataclass
class StaticProbe:
    """The controller's HTTP probe, answering what the test says (no network in tests)."""

    healthy: bool | None

    def __call__(self, url: str) -> ProbeResult | None:
        if self.healthy is None:
            return None
        return ProbeResult(ProbeOutcome.HEALTHY if self.healthy else ProbeOutcome.ANSWERED_UNHEALTHY, "static")


@dataclass
class Outage:
    """A regional outage as the controller's clients see it: connections fail."""

    region: str
    active: bool = True

    def refuse(self, **_: Any) -> None:
        if self.active:
            raise EndpointConnectionError(endpoint_url=f"https://rds.{self.region}.amazonaws.com")

    def end(self) -> None:
        self.active = False


@dataclass
class Controller:
    """Everything a test needs to run steps against one provisioned environment."""

    config: EnvironmentConfig
    topology: ProvisionedTopology
    call_log: ApiCallLog
    clock: SteppingClock
    sleeps: list[float]
    hooks: list[EventHook]
    published_lag: float | None = None  # the replica lag publish_lag last published

    def deps(
        self,
        region: str | None = None,
        *,
        probe: Probe | None = None,
        promotion_seconds: float = 0.0,
        **overrides: Any,
    ) -> RunbookDeps:
        region = region or self.config.regions.standby
        clients = ClientFactory(
            session=SHARED_SESSION,
            call_log=self.call_log,
            retry_policy=RetryPolicy(sleep=self.sleeps.append, random=lambda: 0.5),
            event_hooks=self.hooks,
            caller_region=region,  # these deps are the functions deployed in ``region``
            account=self.config.account,
        )
        bookkeeping = ClientFactory(session=SHARED_SESSION)
        lag = ReplicationLagReader(clients, self.clock)
        database = modelled_database(self.config, clients, lag, bookkeeping, promotion_seconds=promotion_seconds)
        options: dict[str, Any] = {
            "database": database,
            "health": AwsHealthSignals(
                self.config, clients, probe or StaticProbe(healthy=True), self.clock, resolve=_no_dns_answer
            ),
            "readiness": ReadinessPolling(attempts=3, interval_seconds=1.0),
            # moto has no AWS Backup recovery points: modelled (switchyard.adapters.protection)
            "protection": modelled_protection(self.config, clients, self.clock),
            **overrides,
        }
        return build_runbook_deps(
            self.config, region, clients=clients, clock=self.clock, sleep=self.sleeps.append, **options
        )

    def fail(
        self, service: str, operation: str, code: str, *, times: int | None = None, region: str | None = None
    ) -> list[int]:
        """Make ``operation`` raise ``code`` (the first ``times`` calls, or always); returns
        the list the hook appends one entry to per injected failure."""
        injected: list[int] = []

        def raise_error(**_: Any) -> None:
            if times is None or len(injected) < times:
                injected.append(1)
                raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)

        self.hooks.append(EventHook(f"before-call.{service}.{operation}", raise_error, region))
        return injected

    def outage(self, region: str) -> Outage:
        """From now until ``Outage.end()``, every call into ``region`` fails to connect."""
        outage = Outage(region)
        self.hooks.append(EventHook("before-call", outage.refuse, region))
        return outage

    def standby_active(self, *, epoch: int, reason: str = "failed over", by: str = "tests") -> DesiredState:
        """Write, in both regions' replicas, the desired state after a move to the standby at
        ``epoch``: the standby active, the configured primary fenced. Returns it."""
        primary, standby = self.config.regions.primary, self.config.regions.standby
        desired = DesiredState(
            active_region=standby,
            epoch=epoch,
            fenced_region=primary,
            updated_by=by,
            reason=reason,
            updated_at="2026-01-01T00:00:00Z",
        )
        for region in self.config.regions.pair:
            self.deps(region).state.write_desired(region, desired)
        return desired

    def aws(self, service: str, region: str) -> Any:
        """A plain client for arranging the world (not recorded, no injected faults)."""
        return SHARED_SESSION.client(service, region_name=region)

    def replicate_heartbeat(self, of_region: str, *, into: str) -> None:
        """Put ``of_region``'s heartbeat, stamped now, into ``into``'s replica, as
        global-table replication would (moto keeps each region's table apart)."""
        key = f"heartbeat#{self.config.application}#{of_region}"
        self.aws("dynamodb", into).put_item(
            TableName=self.topology.names.state_table,
            Item={"pk": {"S": key}, "at": {"S": self.clock().isoformat()}},
        )

    def approval(self, *, approved_by: str = "oncall", accepted_lag_seconds: float | None = None) -> Approval:
        """An operator's approval given now, as the CLI sends it: by someone other than the
        requester (``tests``), accepting the lag last published unless told otherwise."""
        accepted = self.published_lag if accepted_lag_seconds is None else accepted_lag_seconds
        return Approval(
            approved_by=approved_by, approved_at=self.clock(), note="accepted the lag", accepted_lag_seconds=accepted
        )

    def run_steps(self, state: RunbookState, deps: RunbookDeps, steps: list[str]) -> RunbookState:
        """Run ``steps`` in order (each must succeed), carrying results and the lock's epoch;
        each step's calls are labelled with it, as its handler does (checked at teardown).

        A unit of steps, to arrange the preconditions of the step under test; it is not the
        runbook. A test that needs the runbook's order, retries or failure paths runs the
        deployed ASL with tests.controller.runner.run_runbook."""
        for name in steps:
            with self.call_log.step(name):
                result = STEPS[name](state, deps)
            assert result.ok, result
            state = state.with_result(result)
            if name == "lock":
                state = state.model_copy(update={"epoch": result.observed["epoch"]})
        return state

    def state_machine(self, region: str) -> str:
        """A stand-in runbook state machine under the real name (the monitor starts it)."""
        names = self.topology.names
        return self.aws("stepfunctions", region).create_state_machine(
            name=names.state_machine(region),
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=f"arn:aws:iam::{self.config.account}:role/{names.prefix}-runbook",
        )["stateMachineArn"]

    def executions(self, state_machine_arn: str, region: str) -> list[dict[str, Any]]:
        return self.aws("stepfunctions", region).list_executions(stateMachineArn=state_machine_arn)["executions"]

    def alarm_everything(self, region: str, state: str = "ALARM") -> None:
        """Stand in for CloudWatch: every health-signal alarm of ``region`` in ``state``."""
        for spec in HEALTH_SIGNAL_ALARMS:
            set_alarm_state(self.config, region, spec.key, state)

    def evaluate(self, deps: RunbookDeps, times: int) -> list[dict[str, Any]]:
        """``times`` evaluations of the monitor, one a minute (one evaluation per call: the
        schedule's minute of sub-minute evaluations is tests/controller/test_monitor_cadence.py's)."""
        outcomes = []
        for _ in range(times):
            outcomes.append(monitor.single_evaluation(SCHEDULED_EVENT, FakeLambdaContext(), deps=deps))
            self.clock.advance(60)
        return outcomes

    def publish_lag(self, seconds: float) -> None:
        self.published_lag = seconds
        publish_replication_lag(self.config, seconds, at=self.clock() - timedelta(seconds=30))


def active_region(deps: RunbookDeps, replica: str) -> str:
    """Which region ``replica``'s copy of the desired state says is active."""
    desired = deps.state.read_desired(replica)
    assert desired is not None
    return desired.active_region


def failover_state(config: EnvironmentConfig, **changes: Any) -> RunbookState:
    request = RunbookInput(
        action=changes.pop("action", Action.FAILOVER),
        target_region=changes.pop("target_region", config.regions.standby),
        reason="primary region failing",
        incident_id="INC-42",
        requested_by="tests",
    )
    # the execution ARN the state machine passes ($$.Execution.Id), in the target's runbook
    execution = changes.pop("execution", Names(config).execution_arn(request.target_region, "failover-test-1"))
    return RunbookState(request=request, execution=execution, **changes)


def _controller(config: EnvironmentConfig) -> Iterator[Controller]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("MOTO_ACCOUNT_ID", config.account)  # ARNs from Names carry the config's account
        clock = SteppingClock()
        topology = provision(config)
        controller = Controller(config, topology, ApiCallLog(), clock, [], [])
        yield controller
    assert_calls_allowed(controller)


def assert_calls_allowed(controller: Controller) -> None:
    """Teardown: every AWS call a Switchyard function made in the test is allowed by that
    function's synthesized IAM policy (drill.policy_check); moto enforces no IAM."""
    check = check_calls(controller.config, controller.call_log.snapshot())
    if not check.passed:
        pytest.fail(check.summary(), pytrace=False)


@pytest.fixture
def rds(dev_config: EnvironmentConfig) -> Iterator[Controller]:
    """dev: RDS PostgreSQL primary + cross-region replica, automatic mode."""
    yield from _controller(dev_config)


@pytest.fixture
def aurora(prod_config: EnvironmentConfig) -> Iterator[Controller]:
    """prod: Aurora PostgreSQL global database, manual mode."""
    yield from _controller(prod_config)


@pytest.fixture(params=["rds", "aurora"])
def controller(request: pytest.FixtureRequest) -> Controller:
    """Both engines."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def _no_dns_answer(name: str) -> None:
    """Tests stay offline: the Route 53 verdict sentinel never resolves (missing data); tests
    that need a verdict state it (tests/controller/route53_verdicts.py)."""
    return
