"""Route 53's verdicts as a test states them, behind the controller's own AwsHealthSignals.

Modelled, because moto does not do it: moto reports every health check "Success" (so the
API reading would always be a healthy verdict, which now vetoes every failover) and
resolves no DNS name (so the sentinel reading would always be missing). ``route53_sees``
keeps the controller's real calls (``GetHealthCheckStatus`` still goes to moto, through
the deps' clients, so the call log and the IAM check see it) and replaces only the
verdicts: per region, failing (True), healthy (False) or unknown (None: missing data, as
with us-east-1 dark or a name that does not resolve). A region not named keeps moto's
"Success" and an unresolvable sentinel.
"""

from __future__ import annotations

from dataclasses import replace

from switchyard.adapters.health import AwsHealthSignals, Probe
from switchyard.contract import VERDICT_HEALTHY_ADDRESS, VERDICT_UNHEALTHY_ADDRESS, Names
from switchyard.decision import Signal
from switchyard.deps import RunbookDeps


class ModelledRoute53Verdicts(AwsHealthSignals):
    """AwsHealthSignals whose Route 53 verdicts (API status and sentinel answer) are stated."""

    def __init__(self, deps: RunbookDeps, probe: Probe, verdicts: dict[str, bool | None]) -> None:
        names = Names(deps.config)
        sentinels = {names.verdict_record(region): failing for region, failing in verdicts.items()}

        def resolve(name: str) -> frozenset[str] | None:
            failing = sentinels.get(name)
            if failing is None:
                return None
            return frozenset({VERDICT_UNHEALTHY_ADDRESS if failing else VERDICT_HEALTHY_ADDRESS})

        super().__init__(deps.config, deps.clients, probe, deps.clock, resolve=resolve)
        self._verdicts = verdicts

    def route53_signals(self, watched_region: str) -> list[Signal]:
        signals = super().route53_signals(watched_region)
        if watched_region not in self._verdicts:
            return signals
        failing = self._verdicts[watched_region]
        if failing is None:
            return [replace(signal, failing=None, observed_at=None) for signal in signals]
        return [signal if signal.failing is None else replace(signal, failing=failing) for signal in signals]


def route53_sees(deps: RunbookDeps, probe: Probe, verdicts: dict[str, bool | None]) -> RunbookDeps:
    """``deps`` whose health signals carry Route 53's stated verdicts, by region
    (``route53_sees(deps, probe, {"us-east-1": True})``: Route 53 sees us-east-1 failing)."""
    return replace(deps, health=ModelledRoute53Verdicts(deps, probe, verdicts))
