"""The drill's side of the controller's interfaces: what moto cannot do, modelled.

Everything the controller does in the drill goes through its own adapters against a
moto server; these classes add only what moto lacks, each named for what it models:

- ``FaultInjectingClientFactory``: the controller's ClientFactory, but a call into a
  dark region fails the way it would in AWS (a connection error, after the retry
  policy), and scripted throttling can be put in front of chosen operations. Route 53's
  control plane (health-check status, record edits) lives in us-east-1 and goes dark
  with it.
- ``DrillDatabase``: the controller's Database over moto's metadata (the controller's
  own modelled promotion) that also promotes the drill's data-plane stand-in, so lost
  writes are counted at the moment the real promote call happens; the replica's lag is
  the stand-in's (moto has no engine to publish ReplicaLag).
- ``DrillHealthSignals``: the controller's AwsHealthSignals, reading alarms from moto for
  real, with Route 53's health-checker verdicts (moto always says "Success") and the
  controller's HTTP probe answered by the drill's fault model.
- ``AlarmEvaluator``: sets the health alarms' states in moto as CloudWatch would
  evaluate them for the current faults (moto never evaluates alarms).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from drill.dataplane import ReplicatedDatabase
from drill.emulation import ModelledStrongConsistency
from drill.rebuild import ModelledRebuild
from drill.workload import RequestCounts, Workload
from drill.world import Faults, Route53FailoverModel
from switchyard.adapters.database import (
    AURORA_SWITCHOVER,
    RDS_SNAPSHOT,
    AuroraGlobalDatabase,
    Database,
    DatabaseStatus,
    FenceOutcome,
    FenceResult,
    RejoinPhase,
    RejoinProgress,
    SnapshotNotReadyError,
)
from switchyard.adapters.health import ROUTE53_REGION, AwsHealthSignals
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import VERDICT_HEALTHY_ADDRESS, VERDICT_UNHEALTHY_ADDRESS, Names
from switchyard.decision import ProbeOutcome, ProbeResult, Signal, probe_signal
from switchyard.retry import ApiCall, ApiCallLog, ClientFactory, RetryingClient, RetryPolicy

CONTROL_PLANE_REGIONS = {"route53": ROUTE53_REGION, "iam": "us-east-1"}


class TimedApiCallLog(ApiCallLog):
    """The controller's call log, plus when each call was made (monotonic seconds), for
    the benchmark's controller-overhead numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.timed: list[tuple[float, ApiCall]] = []
        self._timing = threading.Lock()

    def append(self, call: ApiCall) -> None:
        with self._timing:
            super().append(call)
            self.timed.append((time.monotonic(), call))


class ThrottleScript:
    """Refuse the next ``count`` calls of ``operation`` (e.g. PromoteReadReplica) with
    ``code``: throttling by default, or another transient answer such as MRSC's
    ``ReplicatedWriteConflictException`` on a state-table write."""

    def __init__(self) -> None:
        self._remaining: dict[str, tuple[int, str]] = {}
        self.throttled: dict[str, int] = {}
        self._lock = threading.Lock()

    def throttle(self, operation: str, count: int, code: str = "Throttling") -> None:
        with self._lock:
            self._remaining[operation] = (count, code)

    def take(self, operation: str) -> str | None:
        """The error code to refuse this call of ``operation`` with, or None to let it through."""
        with self._lock:
            left, code = self._remaining.get(operation, (0, ""))
            if left <= 0:
                return None
            self._remaining[operation] = (left - 1, code)
            self.throttled[operation] = self.throttled.get(operation, 0) + 1
            return code


class FaultInjectingClientFactory(ClientFactory):
    """The controller's ClientFactory with the drill's faults in front of every call:

    - a call to a dark region fails with a connection error, and so does a call from
      ``caller_region`` to the other region of the pair while the link between them is cut
      (a partition; the witness region and global endpoints stay reachable);
    - scripted refusals (``ThrottleScript``);
    - every call to the state table is answered by the MRSC model
      (``drill.emulation.ModelledStrongConsistency``), when one is given.
    """

    def __init__(
        self,
        *,
        faults: Faults,
        throttles: ThrottleScript,
        endpoint_url: str,
        call_log: ApiCallLog | None,
        retry_policy: RetryPolicy | None = None,
        caller_region: str | None = None,
        account: str | None = None,
        strong_consistency: ModelledStrongConsistency | None = None,
    ) -> None:
        super().__init__(
            call_log=call_log,
            endpoint_url=endpoint_url,
            retry_policy=retry_policy,
            caller_region=caller_region,
            account=account,
        )
        self._faults = faults
        self._throttles = throttles
        self._strong_consistency = strong_consistency

    def _create(self, service: str, region: str, *, best_effort: bool) -> RetryingClient:
        client = super()._create(service, region, best_effort=best_effort)
        served_from = CONTROL_PLANE_REGIONS.get(service, region)
        faults, throttles, caller = self._faults, self._throttles, self.caller_region
        mrsc = self._strong_consistency if service == "dynamodb" else None

        def inject(model: Any, params: Any, **_: Any) -> Any:
            if not faults.api_reachable(served_from):
                raise EndpointConnectionError(endpoint_url=f"https://{service}.{served_from}.amazonaws.com")
            if caller is not None and not faults.link_up(caller, served_from):
                raise EndpointConnectionError(endpoint_url=f"https://{service}.{served_from}.amazonaws.com")
            code = throttles.take(model.name)
            if code:
                raise ClientError({"Error": {"Code": code, "Message": f"{code} (drill)"}}, model.name)
            if mrsc is not None and mrsc.governs(params):
                return mrsc.answer(served_from, model.name, params)
            return None

        client.raw.meta.events.register(f"before-call.{client.raw.meta.service_model.service_name}.*", inject)
        return client


class DrillDatabase:
    """The controller's Database for the drill: moto metadata plus the data-plane stand-in,
    and the old primary's rebuild on the drill clock (``drill.rebuild.ModelledRebuild``)."""

    def __init__(
        self, inner: Database, data: ReplicatedDatabase, faults: Faults, rebuild: ModelledRebuild | None = None
    ) -> None:
        self._inner = inner
        self._data = data
        self._faults = faults
        self._rebuild = rebuild or ModelledRebuild(time.monotonic, {})

    def describe(self, region: str, *, best_effort: bool = False) -> DatabaseStatus:
        status = self._inner.describe(region, best_effort=best_effort)
        if status.exists and not status.writable:
            # the replica's lag, as the engine would report it: measured from the stand-in;
            # with the writer dark, the last lag measured before contact was lost
            lag = self._data.lag_seconds()
            status = replace(status, replication_lag_seconds=self._data.last_known_lag_seconds if lag is None else lag)
        if self._faults.of(region).database_down:
            return replace(status, available=False, status="unreachable")
        job = self._rebuild.running(region)
        if job is not None and job.operation != RDS_SNAPSHOT:
            return replace(status, available=False, status=self._rebuild.status_while(job))
        return status

    def promote(self, region: str, *, primary_reachable: bool) -> str:
        operation = self._inner.promote(region, primary_reachable=primary_reachable)
        if operation == AURORA_SWITCHOVER:
            self._data.switch_over(region)  # Aurora demotes and synchronizes the old writer itself
        else:
            self._data.promote(region)
            self._rebuild.replication_broken(next(other for other in self._data.stores if other != region))
        return operation

    def rejoin_as_replica(self, region: str, *, writer_region: str, snapshot: str) -> RejoinProgress:
        """The controller's rebuild over moto, each operation lasting its modelled time
        (``ModelledRebuild``); once the old primary reads rejoined, the data plane replicates
        to it again (an Aurora secondary after a failover resynchronizes first)."""
        job = self._rebuild.running(region)
        if job is not None:
            left = job.until - self._rebuild.clock()
            detail = f"{job.operation} of {job.identifier} in progress ({left:.0f} s left, modelled)"
            return RejoinProgress(region, job.identifier, RejoinPhase.REBUILDING, detail, snapshot=snapshot)
        progress = self._inner.rejoin_as_replica(region, writer_region=writer_region, snapshot=snapshot)
        for operation in progress.operations:
            self._rebuild.start(region, operation, progress.identifier)
        if progress.phase is not RejoinPhase.REJOINED:
            return progress
        aurora = isinstance(self._inner, AuroraGlobalDatabase)
        if aurora and self._rebuild.resync_first(region, progress.identifier):
            detail = f"{progress.identifier} rejoined; resynchronizing with the writer (modelled)"
            return replace(progress, phase=RejoinPhase.REBUILDING, detail=detail)
        if self._rebuild.rejoined(region):
            self._data.rejoin_as_replica(region)
        return progress

    def fence_writer(self, region: str, *, best_effort: bool = False) -> FenceResult:
        """The controller's fence over moto, applied to the data plane: a database the fence
        found or left stopped/demoted rejects writes from then on. A database the fault
        model took down is not ``available``, and RDS stops only an available instance:
        pending (modelled; moto's status stays "available")."""
        if self._faults.of(region).database_down and not self._faults.of(region).dark:
            identifier = self._inner.describe(region, best_effort=best_effort).identifier
            return FenceResult(region, identifier, FenceOutcome.PENDING, "status unreachable, cannot stop yet (drill)")
        result = self._inner.fence_writer(region, best_effort=best_effort)
        if result.fenced:
            self._data.stop(region)
        return result

    def snapshot(self, region: str, name: str, *, best_effort: bool = False) -> str:
        """The controller's snapshot in moto, and a copy of the store's applied writes under
        the same name (``ReplicatedDatabase.snapshots``), so a drill counts what it preserved.
        A database the fault model took down cannot be snapshotted (modelled)."""
        if self._faults.of(region).database_down and not self._faults.of(region).dark:
            raise SnapshotNotReadyError(f"{region}: the database is not available (drill)")
        snapshot = self._inner.snapshot(region, name, best_effort=best_effort)
        self._data.snapshot(region, snapshot)
        return snapshot


class DrillHealthSignals(AwsHealthSignals):
    """AwsHealthSignals with Route 53's checker verdicts, the sentinel's DNS answer and the
    probe from the fault model.

    Route 53's checkers see a region's endpoint (``faults.endpoint_healthy``) from outside
    every region; the sentinel's answer comes from Route 53's global DNS data plane, so
    neither a dark us-east-1 nor a cut link between the regions stops it (the API read
    still goes through the fault-injecting clients and goes dark with us-east-1). The probe
    from observer O to the region R the service name resolves to is unreachable when R is
    dark or the link from O to R is cut (``faults.link_up``)."""

    def __init__(
        self,
        config: EnvironmentConfig,
        clients: ClientFactory,
        clock: Callable[[], datetime],
        *,
        faults: Faults,
        dns: Route53FailoverModel,
        probe_broken: Callable[[], bool],
    ) -> None:
        def resolve(name: str) -> frozenset[str] | None:
            region = verdict_regions.get(name)
            if region is None:
                return None  # not a sentinel the stacks deploy: NXDOMAIN
            if faults.of(region).monitoring_blind:
                return None  # the blind-monitoring fault hides every health verdict, this one too
            healthy = faults.endpoint_healthy(region)
            return frozenset({VERDICT_HEALTHY_ADDRESS if healthy else VERDICT_UNHEALTHY_ADDRESS})

        names = Names(config)
        verdict_regions = {names.verdict_record(region): region for region in config.regions.pair}
        super().__init__(config, clients, self._unused_probe, clock, resolve=resolve)
        self._faults = faults
        self._dns = dns
        self._probe_broken = probe_broken

    @staticmethod
    def _unused_probe(url: str) -> ProbeResult | None:  # noqa: ARG004 - probe_signal is overridden
        return None

    def drill_probe(self, observer_region: str) -> ProbeResult:
        """What the probe from ``observer_region`` would see of the service name's region."""
        if self._probe_broken():  # the observer's own path to the endpoint is broken
            return ProbeResult(ProbeOutcome.UNREACHABLE, "drill: the probe's network path is broken")
        region = self._dns.resolve()
        if self._faults.of(region).dark:
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"drill: {region} is dark, the connection times out")
        if not self._faults.link_up(observer_region, region):
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"drill: the link {observer_region}->{region} is cut")
        if not self._faults.endpoint_healthy(region):
            return ProbeResult(ProbeOutcome.ANSWERED_UNHEALTHY, f"drill: {region}'s load balancer answers 503")
        return ProbeResult(ProbeOutcome.HEALTHY, f"drill: {region} answers 200")

    def probe_signal(self, observer_region: str) -> Signal:
        return probe_signal(self.drill_probe(observer_region), now=self._clock(), observer_region=observer_region)

    def route53_signals(self, watched_region: str) -> list[Signal]:
        """The controller's own read (Route 53's API in us-east-1, through the drill's
        faults); only the verdict is the drill's, because moto reports every check healthy."""
        signals = super().route53_signals(watched_region)
        if self._faults.of(watched_region).monitoring_blind:
            return [replace(signal, failing=None, observed_at=None) for signal in signals]
        failing = not self._faults.endpoint_healthy(watched_region)
        return [signal if signal.failing is None else replace(signal, failing=failing) for signal in signals]


class AlarmEvaluator:
    """Sets each health alarm's state in moto as CloudWatch would once the current faults
    have lasted the alarm's evaluation periods (moto never evaluates an alarm; how long that
    takes in production is the production timeline's to say):

    - ``unhealthy-hosts`` follows the shallow check (the instances answer: only a dark region
      fails it), so a database outage never makes the load balancer drop its targets;
    - ``alb-5xx`` follows the deep check (the application answers 5xx without its database);
    - ``database-unavailable`` follows the database;
    - ``steady-state`` is computed, not assumed: the success rate of the requests the drill's
      workload sent to the region just after the faults changed (``Workload`` counts them as
      the application would publish them), against ``workload.steady_state``.
    """

    # the longest real wait for the workload's requests after the faults changed (the
    # workload sends one every 5 ms; a workload that is not running sends none)
    STEADY_STATE_SAMPLE_TIMEOUT_SECONDS = 2.0

    def __init__(
        self, config: EnvironmentConfig, faults: Faults, endpoint_url: str, requests: Workload | None = None
    ) -> None:
        self._names = Names(config)
        self._config = config
        self._faults = faults
        self._endpoint_url = endpoint_url
        self._requests = requests

    def _steady_state(self) -> dict[str, str]:
        """Each region's steady-state alarm state from the requests sent after this moment."""
        steady = self._config.workload.steady_state
        counts: dict[str, RequestCounts] = {}
        if self._requests is not None:
            self._requests.take_request_counts()  # requests before the faults changed do not count
            self._requests.wait_for_requests(
                steady.min_requests_per_minute, timeout_seconds=self.STEADY_STATE_SAMPLE_TIMEOUT_SECONDS
            )
            counts = self._requests.take_request_counts()
        states = {}
        for region in self._config.regions.pair:
            served = counts.get(region, RequestCounts())
            breaching = served.total >= steady.min_requests_per_minute and (
                served.success_percent < steady.min_success_percent
            )
            states[region] = "ALARM" if breaching else "OK"  # too few requests: not breaching
        return states

    def evaluate(self) -> None:
        steady_state = self._steady_state()
        for region in self._config.regions.pair:
            faults = self._faults.of(region)
            if faults.dark:
                continue  # nobody can read them; they stay as they were
            cloudwatch = boto3.client("cloudwatch", region_name=region, endpoint_url=self._endpoint_url)
            for spec in HEALTH_SIGNAL_ALARMS:
                if faults.monitoring_blind:
                    state = "INSUFFICIENT_DATA"
                elif spec.key == "database-unavailable":
                    state = "ALARM" if faults.database_down else "OK"
                elif spec.key == "unhealthy-hosts":
                    state = "OK" if self._faults.instances_healthy(region) else "ALARM"
                elif spec.key == "steady-state":
                    state = steady_state[region]
                else:
                    state = "OK" if self._faults.endpoint_healthy(region) else "ALARM"
                cloudwatch.set_alarm_state(
                    AlarmName=self._names.alarm(region, spec.key),
                    StateValue=state,
                    StateReason="drill: modelled evaluation of the injected fault",
                )
