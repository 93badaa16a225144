"""Health signals about one region, gathered from independent sources:

- Route 53's verdict on that region's load balancer (its checkers are worldwide, so it is
  observed from outside every region), read two ways, both ROUTE53 signals observed from
  ``GLOBAL_OBSERVER`` (the decision says how they combine: any fresh healthy one vetoes a
  failover, failing needs a fresh failing one):

  * the API: ``GetHealthCheckStatus`` of the check whose ``Name`` tag is
    ``Names.health_check(region, "load-balancer")``. Route 53's control plane is hosted
    in us-east-1, so with us-east-1 dark this read is missing data. The traffic-switch and
    calculated checks are not signals: they follow the controller's own switch, which
    would make the decision circular;
  * the sentinel (``route53_verdict_signal``): the name ``Names.verdict_record(region)``
    is a pair of failover A records (``stacks/components/route53_verdict.py``): PRIMARY
    answers ``VERDICT_HEALTHY_ADDRESS`` and carries the load balancer's check, SECONDARY
    answers ``VERDICT_UNHEALTHY_ADDRESS`` with no check, which Route 53 answers whenever
    the PRIMARY's check is unhealthy (Route 53 API Reference, ``ResourceRecordSet.Failover``:
    "If you omit the HealthCheckId element for the secondary resource record set, and if
    the primary resource record set is unhealthy, Route 53 always responds to DNS queries
    with the applicable value from the secondary"; a non-alias record's check need not
    check the record's value: ``ResourceRecordSet.HealthCheckId``, "Route 53 doesn't check
    the health of the endpoint specified in the resource record set"). Resolving it is a
    DNS query, answered by Route 53's data plane, which does not need us-east-1 (AWS
    whitepaper "AWS Fault Isolation Boundaries", Appendix B: "During a control plane
    impairment, CRUDL-type operations for Route 53 may not work, but DNS resolution and
    health checks, and updates to routing resulting from changes in health checks, will
    continue to work"). Staleness: a resolver may cache the answer for the records' TTL
    (``VERDICT_TTL_SECONDS``, 5 s), so the verdict is at most that much older than
    Route 53's, far below ``detection.max_data_age_seconds``; the signal is stamped with
    the time of the lookup. An unresolvable name, a timeout or an unexpected answer is
    missing data, never failing;
- the CloudWatch alarms of ``HEALTH_SIGNAL_ALARMS`` in that region (inside it);
- the controller's own HTTPS probe of the application's record (``Names.probe_url``, the
  endpoint the load balancer serves) from the observer's region. It tells "answered
  unhealthy" from "unreachable" (``ProbeOutcome``); the decision documents how each counts.

``observe`` gathers all of them for the watched region; ``target_signals`` only the
target's own (Route 53's verdict and its alarms: the probe follows the application's
record, which points at the active region, not the target).

Every read is best-effort with short timeouts: an unreadable source is *missing*
(``failing=None``), never an outage. The decision (switchyard.decision) weighs them.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import (
    HEALTH_CHECK_PURPOSES,
    SIGNAL_HEALTH_CHECK,
    VERDICT_HEALTHY_ADDRESS,
    VERDICT_UNHEALTHY_ADDRESS,
    Names,
)
from switchyard.decision import GLOBAL_OBSERVER, ProbeOutcome, ProbeResult, Signal, SignalSource, probe_signal
from switchyard.retry import ClientFactory

Clock = Callable[[], datetime]
ROUTE53_REGION = "us-east-1"
PROBE_TIMEOUT_SECONDS = 3.0
PROBE_USER_AGENT = "switchyard-probe"
VERDICT_LOOKUP_TIMEOUT_SECONDS = 2.0


class Probe(Protocol):
    def __call__(self, url: str) -> ProbeResult | None:
        """What one request to ``url`` saw; None when the probe could not run (missing data)."""
        ...


class HttpProbe:
    """One HTTPS GET of ``url``, the whole exchange within ``timeout_seconds``.

    Healthy is 2xx or 3xx, as Route 53's HTTPS check counts it; a redirect is not
    followed (the load balancer redirects HTTP to HTTPS, never HTTPS to elsewhere).
    4xx/5xx is answered-unhealthy. No HTTP answer (DNS, refused or reset, timeout, TLS
    failure) is unreachable. The certificate is verified against ``ssl_context``
    (default: the system trust store) for the URL's host, sent as SNI and Host.
    ``resolve`` maps a host to the (address, port) to connect to instead of DNS (tests:
    a local server standing in for the record).
    """

    def __init__(
        self,
        timeout_seconds: float = PROBE_TIMEOUT_SECONDS,
        *,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._ssl_context = ssl_context
        self._resolve = dict(resolve or {})

    def __call__(self, url: str) -> ProbeResult:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"probe URL must be https://<host>/..., got {url!r}")
        host, port = parts.hostname, parts.port or 443
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        deadline = time.monotonic() + self._timeout
        try:
            status = self._get(host, port, path, deadline)
        except ssl.SSLError as exc:  # includes certificate verification failures
            why = getattr(exc, "verify_message", None) or exc.reason or str(exc)
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"TLS failed: {why}")
        except socket.gaierror as exc:
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"DNS failed for {host}: {exc.strerror or exc}")
        except TimeoutError:
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"timed out after {self._timeout:g}s")
        except OSError as exc:  # refused, reset, unreachable network (RemoteDisconnected is a reset)
            return ProbeResult(ProbeOutcome.UNREACHABLE, f"connection failed: {exc.strerror or repr(exc)}")
        except http.client.HTTPException as exc:
            return ProbeResult(ProbeOutcome.ANSWERED_UNHEALTHY, f"not an HTTP answer: {exc!r}")
        outcome = ProbeOutcome.HEALTHY if 200 <= status < 400 else ProbeOutcome.ANSWERED_UNHEALTHY
        return ProbeResult(outcome, f"HTTP {status}")

    def _get(self, host: str, port: int, path: str, deadline: float) -> int:
        """The response's status; each phase gets what is left of the time budget."""
        address = self._resolve.get(host, (host, port))
        with socket.create_connection(address, timeout=_remaining(deadline)) as raw:
            raw.settimeout(_remaining(deadline))
            with self._context().wrap_socket(raw, server_hostname=host) as tls:
                tls.settimeout(_remaining(deadline))
                # the Host header comes from (host, port); the socket is ours, already verified
                connection = http.client.HTTPSConnection(host, port, context=self._context())
                connection.sock = tls
                try:
                    connection.request("GET", path, headers={"User-Agent": PROBE_USER_AGENT, "Connection": "close"})
                    response = connection.getresponse()
                    response.close()
                    return int(response.status)
                finally:
                    connection.sock = None

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # created on first use: loading the trust store costs ~10 ms
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("probe time budget spent")
    return left


class VerdictResolver(Protocol):
    def __call__(self, name: str) -> frozenset[str] | None:
        """The IPv4 addresses ``name`` resolves to; None when it does not resolve in time."""
        ...


class DnsVerdictResolver:
    """The system resolver (``socket.getaddrinfo``, A records only) within a time budget.

    ``getaddrinfo`` takes no timeout, so the lookup runs on a worker thread and is
    abandoned (left to finish on its own) after ``timeout_seconds``."""

    _workers = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="switchyard-verdict")

    def __init__(self, timeout_seconds: float = VERDICT_LOOKUP_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds

    def __call__(self, name: str) -> frozenset[str] | None:
        lookup = self._workers.submit(socket.getaddrinfo, name, None, socket.AF_INET, socket.SOCK_STREAM)
        try:
            answers = lookup.result(timeout=self._timeout)
        except (concurrent.futures.TimeoutError, OSError):  # gaierror is an OSError
            return None
        return frozenset(str(answer[4][0]) for answer in answers)


def verdict_from_addresses(addresses: frozenset[str] | None) -> bool | None:
    """The sentinel's answer as ``failing``: healthy address -> False, unhealthy -> True,
    anything else (no answer, both, a stranger) -> None, missing data."""
    if addresses == {VERDICT_HEALTHY_ADDRESS}:
        return False
    if addresses == {VERDICT_UNHEALTHY_ADDRESS}:
        return True
    return None


class HealthSignals(Protocol):
    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]: ...

    def target_signals(self, target_region: str) -> list[Signal]:
        """The target region's own health: Route 53's verdict on it and its alarms."""
        ...

    def health_checks(self, watched_region: str) -> dict[str, str]:
        """The Route 53 health checks of ``watched_region`` by purpose -> id (best-effort read)."""
        ...


class AwsHealthSignals:
    def __init__(
        self,
        config: EnvironmentConfig,
        clients: ClientFactory,
        probe: Probe,
        clock: Clock,
        *,
        resolve: VerdictResolver | None = None,
    ) -> None:
        self._config = config
        self._names = Names(config)
        self._clients = clients
        self._probe = probe
        self._clock = clock
        self._resolve: VerdictResolver = resolve or DnsVerdictResolver()
        self._checks: dict[str, dict[str, str]] = {}  # ids are stable: found once per container

    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]:
        return [
            *self.route53_signals(watched_region),
            self.route53_verdict_signal(watched_region),
            *self.alarm_signals(watched_region),
            self.probe_signal(observer_region),
        ]

    def target_signals(self, target_region: str) -> list[Signal]:
        return [
            *self.route53_signals(target_region),
            self.route53_verdict_signal(target_region),
            *self.alarm_signals(target_region),
        ]

    def health_checks(self, watched_region: str) -> dict[str, str]:
        """Found by ``Name`` tag (Route 53's API allows 5 requests a second per account, so
        a complete answer is kept for the container's life)."""
        if watched_region in self._checks:
            return self._checks[watched_region]
        route53 = self._clients.client("route53", ROUTE53_REGION, best_effort=True)
        wanted = {self._names.health_check(watched_region, purpose): purpose for purpose in HEALTH_CHECK_PURPOSES}
        ids: list[str] = []
        page: dict[str, Any] = {"IsTruncated": True}
        while page.get("IsTruncated"):
            marker = {"Marker": page["NextMarker"]} if page.get("NextMarker") else {}
            page = route53.list_health_checks(**marker)
            ids.extend(check["Id"] for check in page.get("HealthChecks", []))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 10):
            response = route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids[start : start + 10])
            for tag_set in response.get("ResourceTagSets", []):
                name = {tag["Key"]: tag["Value"] for tag in tag_set.get("Tags", [])}.get("Name")
                if name in wanted:
                    found[wanted[name]] = tag_set["ResourceId"]
        if len(found) == len(HEALTH_CHECK_PURPOSES):
            self._checks[watched_region] = found
        return found

    def health_check_ids(self, watched_region: str) -> list[str]:
        """IDs of the region's checks that are health signals (the load balancer's)."""
        check_id = self.health_checks(watched_region).get(SIGNAL_HEALTH_CHECK)
        return [check_id] if check_id else []

    def route53_signals(self, watched_region: str) -> list[Signal]:
        """The load balancer's check: failing when most Route 53 checkers report failure."""
        missing = [Signal("route53", SignalSource.ROUTE53, GLOBAL_OBSERVER, None, None)]
        try:
            check_ids = self.health_check_ids(watched_region)
            if not check_ids:
                return missing
            check_id = check_ids[0]
            route53 = self._clients.client("route53", ROUTE53_REGION, best_effort=True)
            observations = route53.get_health_check_status(HealthCheckId=check_id).get("HealthCheckObservations", [])
        except Exception:  # noqa: BLE001 - an unreadable source is missing data, not an outage
            return missing
        reports = [str(item.get("StatusReport", {}).get("Status", "")) for item in observations]
        if not reports:
            return missing
        failing = sum(report.startswith("Failure") for report in reports) * 2 > len(reports)
        return [Signal(f"route53:{check_id}", SignalSource.ROUTE53, GLOBAL_OBSERVER, failing, self._clock())]

    def route53_verdict_signal(self, watched_region: str) -> Signal:
        """Route 53's verdict on the region's load balancer, read through DNS (the sentinel)."""
        record = self._names.verdict_record(watched_region)
        try:
            failing = verdict_from_addresses(self._resolve(record))
        except Exception:  # noqa: BLE001 - an unreadable source is missing data, not an outage
            failing = None
        observed_at = self._clock() if failing is not None else None
        return Signal(f"route53-dns:{record}", SignalSource.ROUTE53, GLOBAL_OBSERVER, failing, observed_at)

    def alarm_signals(self, watched_region: str) -> list[Signal]:
        now = self._clock()
        names = {self._names.alarm(watched_region, spec.key): spec.key for spec in HEALTH_SIGNAL_ALARMS}
        try:
            cloudwatch = self._clients.client("cloudwatch", watched_region, best_effort=True)
            alarms = cloudwatch.describe_alarms(AlarmNames=sorted(names)).get("MetricAlarms", [])
        except Exception:  # noqa: BLE001 - an unreadable source is missing data, not an outage
            return [Signal(f"alarm:{key}", SignalSource.ALARMS, watched_region, None, None) for key in names.values()]
        states = {alarm["AlarmName"]: alarm.get("StateValue") for alarm in alarms}
        signals = []
        for name, key in sorted(names.items()):
            state = states.get(name)
            failing = {"ALARM": True, "OK": False}.get(str(state))
            signals.append(Signal(f"alarm:{key}", SignalSource.ALARMS, watched_region, failing, now if state else None))
        return signals

    def probe_signal(self, observer_region: str) -> Signal:
        """The probe of the contract's URL, seen from ``observer_region``."""
        result = self._probe(self._names.probe_url)
        return probe_signal(result, now=self._clock(), observer_region=observer_region)
