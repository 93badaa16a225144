"""Health signals about one region, gathered from independent sources:

- the Route 53 health check of that region's load balancer (observed by Route 53
  checkers worldwide, so from outside the region), found by its ``Name`` tag
  ``Names.health_check(region, "load-balancer")``. The traffic-switch and calculated
  checks are not signals: they follow the controller's own switch, which would make
  the decision circular;
- the CloudWatch alarms of ``HEALTH_SIGNAL_ALARMS`` in that region (inside it);
- the controller's own HTTP probe of the public endpoint from the observer's region.

Every read is best-effort with short timeouts: an unreadable source is *missing*
(``failing=None``), never an outage. The decision (switchyard.decision) weighs them.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import HEALTH_CHECK_PURPOSES, SIGNAL_HEALTH_CHECK, Names
from switchyard.decision import GLOBAL_OBSERVER, Signal, SignalSource
from switchyard.retry import ClientFactory

Clock = Callable[[], datetime]
ROUTE53_REGION = "us-east-1"
PROBE_TIMEOUT_SECONDS = 3.0


class Probe(Protocol):
    def __call__(self, url: str) -> bool | None:
        """True when the endpoint answers healthily, False when it fails, None unknown."""
        ...


class HttpProbe:
    """GET an https URL with a short timeout: 2xx-4xx is up, 5xx/timeout/refused is down."""

    def __init__(self, timeout_seconds: float = PROBE_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds

    def __call__(self, url: str) -> bool | None:
        if not url.startswith("https://"):
            raise ValueError(f"probe URL must be https, got {url!r}")
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:  # noqa: S310 - https only, checked above
                return int(response.status) < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except (urllib.error.URLError, TimeoutError, OSError):
            return False


class HealthSignals(Protocol):
    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]: ...

    def health_checks(self, watched_region: str) -> dict[str, str]:
        """The Route 53 health checks of ``watched_region`` by purpose -> id (best-effort read)."""
        ...


class AwsHealthSignals:
    def __init__(self, config: EnvironmentConfig, clients: ClientFactory, probe: Probe, clock: Clock) -> None:
        self._config = config
        self._names = Names(config)
        self._clients = clients
        self._probe = probe
        self._clock = clock
        self._checks: dict[str, dict[str, str]] = {}  # ids are stable: found once per container

    def observe(self, watched_region: str, *, observer_region: str) -> list[Signal]:
        return [
            *self.route53_signals(watched_region),
            *self.alarm_signals(watched_region),
            self.probe_signal(observer_region),
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
        url = self._names.probe_url
        healthy = self._probe(url)
        failing = None if healthy is None else not healthy
        return Signal("probe", SignalSource.PROBE, observer_region, failing, self._clock())
