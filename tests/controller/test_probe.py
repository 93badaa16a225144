"""GIVEN the endpoint the load balancer serves (HTTPS on the deep health path, a certificate for
the record name), served by a real local socket, WHEN the controller's probe requests the
contract's URL THEN it tells healthy from answered-unhealthy from unreachable, within its
time budget. No test reaches past 127.0.0.1: name resolution is stubbed to fail for
anything else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchyard.adapters.health import HttpProbe
from switchyard.config import PLACEHOLDER_DEEP_HEALTH_PATH as DEEP_PATH
from switchyard.config import Detection, EnvironmentConfig, Regions, load_environment
from switchyard.contract import Names
from switchyard.decision import (
    GLOBAL_OBSERVER,
    DesiredView,
    MonitorMemory,
    ProbeOutcome,
    ProbeResult,
    Signal,
    SignalSource,
    decide,
    heartbeat_signal,
    probe_signal,
)
from switchyard.model import Decision
from tests.controller.local_https import (
    LOOPBACK,
    LocalHttpsEndpoint,
    LocalPki,
    issue_test_pki,
    local_https_endpoint,
    refusing_port,
    resolve_loopback_only,
    silent_port,
)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_loopback_only(monkeypatch)


@pytest.fixture(scope="module")
def record_pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPki:
    """A certificate for dev's record name, as ACM issues for the HTTPS listener."""
    return issue_test_pki(tmp_path_factory.mktemp("pki"), load_environment("dev").dns.record_name)


@pytest.fixture
def endpoint(record_pki: LocalPki) -> Iterator[LocalHttpsEndpoint]:
    with local_https_endpoint(record_pki) as running:
        yield running


@pytest.fixture
def probe_url(dev_config: EnvironmentConfig) -> str:
    return Names(dev_config).probe_url


# -- answered -------------------------------------------------------------------------------
def test_the_probe_finds_a_healthy_endpoint_of_the_deployed_shape_healthy(
    endpoint: LocalHttpsEndpoint, record_pki: LocalPki, probe_url: str
) -> None:
    # GIVEN the contract's URL and an endpoint serving it with a certificate for the record
    assert probe_url == f"https://{record_pki.hostname}{DEEP_PATH}"

    # WHEN the probe requests it, trusting the certificate's CA
    result = endpoint.probe(record_pki.client_context())(probe_url)

    # THEN the endpoint answered 200: healthy
    assert (result.outcome, result.detail) == (ProbeOutcome.HEALTHY, "HTTP 200")


def test_the_probe_sends_the_record_name_as_sni_and_host_and_asks_for_the_health_path(
    endpoint: LocalHttpsEndpoint, record_pki: LocalPki, probe_url: str
) -> None:
    # GIVEN the endpoint WHEN the probe requests the contract's URL
    endpoint.probe(record_pki.client_context())(probe_url)

    # THEN one handshake named the record (SNI) and one GET of the health path carried it as Host
    assert endpoint.server_names == [record_pki.hostname]
    assert [(seen.path, seen.host) for seen in endpoint.requests] == [(DEEP_PATH, record_pki.hostname)]


def test_a_503_on_the_health_path_is_answered_unhealthy(record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the load balancer answers 503 (no healthy target)
    with local_https_endpoint(record_pki, respond=lambda _path: 503) as endpoint:
        # WHEN the probe requests the health path
        result = endpoint.probe(record_pki.client_context())(probe_url)

    # THEN the endpoint answered, unhealthy
    assert (result.outcome, result.detail) == (ProbeOutcome.ANSWERED_UNHEALTHY, "HTTP 503")


def test_a_path_the_endpoint_does_not_serve_is_answered_unhealthy(
    endpoint: LocalHttpsEndpoint, record_pki: LocalPki
) -> None:
    # GIVEN a probe URL whose path is not the listener's health path
    wrong_path = f"https://{record_pki.hostname}/"

    # WHEN the probe requests it THEN the endpoint's 503 makes it answered-unhealthy
    result = endpoint.probe(record_pki.client_context())(wrong_path)
    assert (result.outcome, result.detail) == (ProbeOutcome.ANSWERED_UNHEALTHY, "HTTP 503")


def test_a_4xx_is_answered_unhealthy_as_route53_counts_it(record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the endpoint answers 404 on the health path (a broken deployment, not an outage of the network)
    with local_https_endpoint(record_pki, respond=lambda _path: 404) as endpoint:
        result = endpoint.probe(record_pki.client_context())(probe_url)

    # THEN it is answered-unhealthy: Route 53's HTTPS check also counts only 2xx/3xx healthy
    assert result.outcome is ProbeOutcome.ANSWERED_UNHEALTHY


def test_a_redirect_counts_healthy_and_is_not_followed(record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the endpoint redirects the health path (to the same path, as a listener rule might)
    with local_https_endpoint(record_pki, respond=lambda path: 301 if path == DEEP_PATH else 200) as endpoint:
        # WHEN the probe requests it
        result = endpoint.probe(record_pki.client_context())(probe_url)

    # THEN a 3xx is healthy, as Route 53 counts it, and the probe made exactly one request
    assert (result.outcome, result.detail) == (ProbeOutcome.HEALTHY, "HTTP 301")
    assert len(endpoint.requests) == 1


# -- unreachable ------------------------------------------------------------------------------
def test_a_refused_connection_is_unreachable(record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the record resolves to a port where nothing listens
    with refusing_port() as port:
        probe = HttpProbe(2.0, ssl_context=record_pki.client_context(), resolve={record_pki.hostname: (LOOPBACK, port)})

        # WHEN the probe requests the URL
        result = probe(probe_url)

    # THEN no answer: unreachable, not unhealthy
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "connection failed" in result.detail


def test_a_certificate_the_probe_does_not_trust_is_unreachable_not_healthy(
    endpoint: LocalHttpsEndpoint, probe_url: str
) -> None:
    # GIVEN the endpoint's certificate is issued by a CA the system trust store does not hold
    # WHEN the probe requests the URL with its default trust store
    result = endpoint.probe(None)(probe_url)

    # THEN the TLS handshake fails: unreachable, and the endpoint never saw a request
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "TLS failed" in result.detail
    assert endpoint.requests == []


def test_a_certificate_for_another_name_is_unreachable(tmp_path: Path, record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the endpoint serves a trusted certificate, but for another name than the record
    other = issue_test_pki(tmp_path, "other.dev.example.com")
    with local_https_endpoint(other) as endpoint:
        probe = HttpProbe(
            2.0, ssl_context=other.client_context(), resolve={record_pki.hostname: (LOOPBACK, endpoint.port)}
        )

        # WHEN the probe requests the record's URL
        result = probe(probe_url)

    # THEN the name does not match: unreachable, with the reason
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "Hostname mismatch" in result.detail


def test_a_name_that_does_not_resolve_is_unreachable(record_pki: LocalPki, probe_url: str) -> None:
    # GIVEN the probe resolves the record with DNS (here: stubbed to fail, see loopback_only)
    probe = HttpProbe(2.0, ssl_context=record_pki.client_context())

    # WHEN it requests the URL THEN unreachable, naming DNS
    result = probe(probe_url)
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert result.detail.startswith(f"DNS failed for {record_pki.hostname}")


@contextmanager
def stalled_endpoint(stall: str, pki: LocalPki, seconds: float) -> Iterator[int]:
    """A port that accepts and then stalls for ``seconds``: in the TLS handshake, or after
    the request (the handler answers too late)."""
    if stall == "tls-handshake":
        with silent_port() as port:
            yield port
        return

    def late(_path: str) -> int:
        time.sleep(seconds)
        return 200

    with local_https_endpoint(pki, respond=late) as endpoint:
        yield endpoint.port


@pytest.mark.parametrize("stall", ["tls-handshake", "http-response"])
def test_a_stalled_endpoint_is_unreachable_within_the_probes_time_budget(
    stall: str, record_pki: LocalPki, probe_url: str
) -> None:
    # GIVEN an endpoint that accepts the connection, then stalls four times the probe's budget
    budget = 0.5
    with stalled_endpoint(stall, record_pki, budget * 4) as port:
        probe = HttpProbe(
            budget, ssl_context=record_pki.client_context(), resolve={record_pki.hostname: (LOOPBACK, port)}
        )

        # WHEN the probe requests the URL
        started = time.monotonic()
        result = probe(probe_url)
        elapsed = time.monotonic() - started

    # THEN it gives up within its one budget for the whole exchange and says unreachable
    assert (result.outcome, result.detail) == (ProbeOutcome.UNREACHABLE, f"timed out after {budget:g}s")
    assert budget * 0.9 <= elapsed < budget + 0.25


# -- into the decision ----------------------------------------------------------------------------
def test_answered_unhealthy_and_unreachable_both_fail_and_stay_distinguishable(
    record_pki: LocalPki, probe_url: str
) -> None:
    # GIVEN one answered-unhealthy and one unreachable probe result
    with local_https_endpoint(record_pki, respond=lambda _path: 503) as endpoint:
        answered = endpoint.probe(record_pki.client_context())(probe_url)
    with refusing_port() as port:
        unreachable = HttpProbe(
            2.0, ssl_context=record_pki.client_context(), resolve={record_pki.hostname: (LOOPBACK, port)}
        )(probe_url)

    # WHEN each becomes the signal the decision sees
    now = datetime.now(UTC)
    signals = [probe_signal(result, now=now, observer_region="us-west-2") for result in (answered, unreachable)]

    # THEN both fail, from the observer's region, and each keeps its outcome
    assert [(s.source, s.failing, s.observed_from) for s in signals] == [(SignalSource.PROBE, True, "us-west-2")] * 2
    assert [s.probe.outcome for s in signals if s.probe] == [ProbeOutcome.ANSWERED_UNHEALTHY, ProbeOutcome.UNREACHABLE]


def test_a_probe_that_did_not_run_is_missing_data() -> None:
    # GIVEN no probe result WHEN it becomes a signal THEN it is neither failing nor healthy
    signal = probe_signal(None, now=datetime.now(UTC), observer_region="us-west-2")
    assert (signal.failing, signal.observed_at, signal.probe) == (None, None, None)


@pytest.mark.parametrize(("route53_dns_verdict", "fails_over"), [(True, True), (None, False)])
def test_an_unreachable_probe_and_a_stale_heartbeat_fail_a_dark_region_over_only_with_route53s_verdict(
    route53_dns_verdict: bool | None, fails_over: bool
) -> None:
    # GIVEN a dark primary: its alarms and Route 53's API unreadable (missing), the standby's
    # probe unreachable and the primary's replicated heartbeat ten minutes old; Route 53's
    # verdict through DNS (the sentinel) failing, or unresolvable (a partition cannot be told
    # from a dark region by the probe and the heartbeat alone)
    detection, regions = Detection(), Regions(primary="us-east-1", standby="us-west-2", witness="us-east-2")
    desired = DesiredView(active_region="us-east-1", epoch=0, fenced_region=None, last_change_at=None)
    start, memory = datetime(2026, 11, 24, 12, 0, tzinfo=UTC), MonitorMemory()
    unreachable = ProbeResult(ProbeOutcome.UNREACHABLE, "timed out after 3s")

    # WHEN the standby's monitor decides once a minute past the thresholds
    evaluations = []
    for minute in range(detection.fail_after_evaluations + detection.dwell_seconds // 60):
        now = start + timedelta(minutes=minute)
        signals = [
            Signal("route53", SignalSource.ROUTE53, GLOBAL_OBSERVER, None, None),
            Signal(
                "route53-dns",
                SignalSource.ROUTE53,
                GLOBAL_OBSERVER,
                route53_dns_verdict,
                now if route53_dns_verdict is not None else None,
            ),
            Signal("alarm:alb-5xx", SignalSource.ALARMS, "us-east-1", None, None),
            probe_signal(unreachable, now=now, observer_region="us-west-2"),
            heartbeat_signal(now - timedelta(minutes=10), now=now, detection=detection, observer_region="us-west-2"),
        ]
        evaluation = decide(
            detection=detection, regions=regions, desired=desired, signals=signals, memory=memory, now=now
        )
        memory = evaluation.memory
        evaluations.append(evaluation)

    # THEN it fails over to the standby only with Route 53's failing verdict, and the
    # reasons say the probe could not connect
    expected = (Decision.FAIL_OVER, "us-west-2") if fails_over else (Decision.DEGRADED, None)
    assert (evaluations[-1].decision, evaluations[-1].target_region) == expected
    assert "probe from us-west-2 unreachable: timed out after 3s" in evaluations[-1].reasons
