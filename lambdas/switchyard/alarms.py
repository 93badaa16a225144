"""The catalogue of alarms the stacks create in each region.

One list, read by the stacks (to create each alarm and link its runbook page), by the
health monitor (which alarms are health signals) and by the runbook tests (every alarm
has a page, every page names a real alarm). Alarm names come from
``Names.alarm(region, key)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmSpec:
    key: str
    summary: str
    health_signal: bool  # True: an input of the failover decision for the region it watches

    @property
    def runbook_page(self) -> str:
        return f"runbooks/alarms/{self.key}.md"

    @property
    def description(self) -> str:
        """The alarm's description in CloudWatch: its summary and its runbook page."""
        return f"{self.summary}. Runbook: {self.runbook_page}"


ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec("alb-5xx", "The region's load balancer returns server errors above threshold", health_signal=True),
    AlarmSpec("unhealthy-hosts", "The region's application has no healthy targets behind its load balancer", True),
    AlarmSpec("database-unavailable", "The region's database stopped answering (no connections / status)", True),
    AlarmSpec(
        "steady-state",
        "The share of the application's requests that succeed fell below its steady state",
        health_signal=True,
    ),
    AlarmSpec("replication-lag", "The standby database lags the primary by more than the RPO budget", False),
    AlarmSpec("runbook-failed", "A failover runbook execution failed or timed out and needs a human", False),
    AlarmSpec("controller-errors", "A Switchyard Lambda function is erroring", False),
    AlarmSpec(
        "desired-state-missing",
        "The region's controller cannot read the desired state; it changes nothing until it can",
        False,
    ),
    AlarmSpec(
        "database-not-fenced",
        "The region is fenced but its database may still take writes (not stopped, or still a writer)",
        False,
    ),
    # Never a health signal: the switch's URL is public, and a flood must not start a failover.
    AlarmSpec(
        "traffic-switch-throttled",
        "The region's traffic switch refused requests at its reserved concurrency (a flood of its public URL?)",
        health_signal=False,
    ),
)

HEALTH_SIGNAL_ALARMS: tuple[AlarmSpec, ...] = tuple(alarm for alarm in ALARMS if alarm.health_signal)


def alarm_spec(key: str) -> AlarmSpec:
    for alarm in ALARMS:
        if alarm.key == key:
            return alarm
    raise KeyError(f"no alarm {key!r} in the catalogue")
