"""What the emulation cannot show by itself: faults, endpoint health and how Route 53
would answer.

moto stores Route 53 records and health checks but reports every health check as
"Success" and never resolves a name, so the drill models the resolution explicitly
(``Route53FailoverModel``): a failover record answers when its health check is healthy,
the PRIMARY first; when both are unhealthy Route 53 fails open and answers PRIMARY. A
region's calculated health check is healthy when its load balancer answers and its
traffic switch (the real ``traffic_switch`` handler reading that region's replica of the
desired state) says on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from switchyard.config import EnvironmentConfig


@dataclass
class RegionFaults:
    dark: bool = False  # endpoint, alarms, AWS APIs and database unreachable
    database_down: bool = False  # only the database stops answering
    monitoring_blind: bool = False  # metrics, alarms and health-check status unavailable


@dataclass
class Faults:
    """The fault state of each region, changed by the scenario while the drill runs."""

    regions: dict[str, RegionFaults] = field(default_factory=dict)
    cut_links: set[frozenset[str]] = field(default_factory=set)  # region pairs that cannot reach each other
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def of(self, region: str) -> RegionFaults:
        with self._lock:
            return self.regions.setdefault(region, RegionFaults())

    def set(self, region: str, **changes: bool) -> None:
        with self._lock:
            faults = self.regions.setdefault(region, RegionFaults())
            for name, value in changes.items():
                if not hasattr(faults, name):
                    raise AttributeError(f"no fault {name!r}")
                setattr(faults, name, value)

    def api_reachable(self, region: str) -> bool:
        return not self.of(region).dark

    def cut_link(self, first: str, second: str, *, cut: bool = True) -> None:
        """Partition (or, with ``cut=False``, heal) the network between ``first`` and
        ``second`` only; each stays reachable from everywhere else (Route 53's checkers, the
        witness region, users)."""
        if first == second:
            raise ValueError(f"a region cannot be cut from itself ({first})")
        with self._lock:
            if cut:
                self.cut_links.add(frozenset((first, second)))
            else:
                self.cut_links.discard(frozenset((first, second)))

    @property
    def link_cut(self) -> bool:
        """Whether any link is cut (a partition is in progress)."""
        with self._lock:
            return bool(self.cut_links)

    def link_up(self, from_region: str, to_region: str) -> bool:
        """Whether a call from ``from_region`` can reach ``to_region`` over the network: a
        region always reaches itself, and any other region unless that link is cut. Global
        services (Route 53's checkers and DNS) and the witness region are reached from both
        sides of a cut pair; Route 53's control plane lives in us-east-1 and is not global."""
        with self._lock:
            return from_region == to_region or frozenset((from_region, to_region)) not in self.cut_links

    def database_reachable(self, region: str) -> bool:
        faults = self.of(region)
        return not faults.dark and not faults.database_down

    def instances_healthy(self, region: str) -> bool:
        """The shallow check: the instances' processes answer (the load balancer's target
        health). A dependency failure does not fail it; only a dark region does."""
        return not self.of(region).dark

    def endpoint_healthy(self, region: str) -> bool:
        """The deep check: the application answers 200 on its deep health path through its
        load balancer, which it does only while its database does (what Route 53's check and
        the probe request, and whether a client's request succeeds)."""
        faults = self.of(region)
        return not faults.dark and not faults.database_down


class Route53FailoverModel:
    """Resolves the service name the way Route 53 failover routing would."""

    def __init__(
        self,
        config: EnvironmentConfig,
        faults: Faults,
        switch_on: Callable[[str], bool],
    ) -> None:
        self._config = config
        self._faults = faults
        self._switch_on = switch_on

    def healthy(self, region: str) -> bool:
        """The region's calculated health check: endpoint healthy AND switch on."""
        if not self._faults.endpoint_healthy(region):
            return False
        return self._switch_on(region)

    def resolve(self) -> str:
        primary, standby = self._config.regions.pair
        if self.healthy(primary):
            return primary
        if self.healthy(standby):
            return standby
        return primary  # both unhealthy: Route 53 fails open to the PRIMARY record
