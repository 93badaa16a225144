"""How long the old primary's rebuild takes, which moto does not model.

moto completes every step of a failback preparation at once: ``create_db_snapshot`` is
``available`` in the same call, ``delete_db_instance`` frees the identifier at once, and
``create_db_instance_read_replica`` answers an ``available`` replica. In AWS each takes
minutes to an hour. :class:`ModelledRebuild` is the drill's model of those durations, on the
drill's clock (production time: the runbook's Wait states advance it): each mutating call
the controller's ``rejoin_as_replica`` sends starts a job lasting the latency model's typical
figure for it (``drill/latency_model.toml``: assumptions, marked as such there). While a
region's job runs, ``DrillDatabase.rejoin_as_replica`` answers ``rebuilding`` without asking
moto (AWS would show the snapshot ``creating``, the instance ``deleting``, the replica
``creating``), and ``describe`` shows the replica ``creating``.

The data plane follows: a promotion that broke replication towards a region (an RDS
promotion, an Aurora failover) is remembered; once that region reads ``rejoined``, an Aurora
secondary first resynchronizes (``aurora_secondary_rejoin``: the worse case, AWS documents
no figure), then the data-plane stand-in copies the writer and replicates to it again
(``ReplicatedDatabase.rejoin_as_replica``). Shared by the DrillDatabase of both regions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from switchyard.adapters.database import RDS_CREATE_REPLICA, RDS_DELETE, RDS_SNAPSHOT
from switchyard_sim.latency import LatencyModel

AURORA_RESYNC = "aurora-secondary-resync"  # the modelled job of an Aurora secondary rejoining after a failover
# which latency-model entry each modelled job's duration comes from
LATENCY_OF = {
    RDS_SNAPSHOT: "rds_snapshot",
    RDS_DELETE: "rds_instance_delete",
    RDS_CREATE_REPLICA: "rds_cross_region_replica",
    AURORA_RESYNC: "aurora_secondary_rejoin",
}
# what AWS shows of the old primary while a job runs (DescribeDBInstances / the cluster)
STATUS_WHILE = {RDS_DELETE: "deleting", RDS_CREATE_REPLICA: "creating", AURORA_RESYNC: "available"}


@dataclass(frozen=True)
class RebuildJob:
    operation: str
    identifier: str
    started: float
    until: float


@dataclass(frozen=True)
class RebuildEvent:
    at: float  # drill clock, seconds
    event: str
    detail: str


@dataclass
class ModelledRebuild:
    """Durations of the rebuild's operations on the drill clock, and the data plane's rejoin."""

    clock: Callable[[], float]
    seconds: Mapping[str, float]  # operation -> modelled duration
    jobs: dict[str, RebuildJob] = field(default_factory=dict)  # region -> the job running there
    broken: set[str] = field(default_factory=set)  # regions a promotion cut off from replication
    resyncing: set[str] = field(default_factory=set)  # Aurora secondaries resynchronizing after a failover
    events: list[RebuildEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def typical(cls, clock: Callable[[], float], model: LatencyModel) -> ModelledRebuild:
        """Each operation takes the latency model's typical (median) figure: one fixed run."""
        return cls(clock, {operation: model.typical(entry) for operation, entry in LATENCY_OF.items()})

    def running(self, region: str) -> RebuildJob | None:
        """The job still running in ``region``; a finished one is logged and cleared."""
        with self._lock:
            job = self.jobs.get(region)
            if job is None:
                return None
            if self.clock() < job.until:
                return job
            del self.jobs[region]
            self.events.append(RebuildEvent(job.until, f"{job.operation} finished (modelled)", job.identifier))
            return None

    def start(self, region: str, operation: str, identifier: str) -> None:
        """``operation`` was sent for ``region``'s database: it runs for its modelled time."""
        now = self.clock()
        seconds = self.seconds.get(operation, 0.0)
        with self._lock:
            lasts = f"modelled {seconds:.0f} s" if seconds > 0 else "takes effect at once"
            self.events.append(RebuildEvent(now, f"{operation} sent", f"{identifier}: {lasts}"))
            if seconds > 0:
                self.jobs[region] = RebuildJob(operation, identifier, now, now + seconds)

    def replication_broken(self, region: str) -> None:
        """A promotion left ``region``'s database outside replication (until it rejoins)."""
        with self._lock:
            self.broken.add(region)

    def resync_first(self, region: str, identifier: str) -> bool:
        """An Aurora secondary that rejoined after a failover resynchronizes before it replicates
        (the worse case): True when this starts that job, once per rejoin."""
        with self._lock:
            if region not in self.broken or region in self.resyncing or not self.seconds.get(AURORA_RESYNC):
                return False
            self.resyncing.add(region)
        self.start(region, AURORA_RESYNC, identifier)
        return True

    def rejoined(self, region: str) -> bool:
        """Whether ``region`` was cut off by a promotion and now rejoins: True once per rejoin."""
        with self._lock:
            if region not in self.broken:
                return False
            self.broken.discard(region)
            self.resyncing.discard(region)
            self.events.append(RebuildEvent(self.clock(), "replica caught up with the writer (data plane)", region))
            return True

    def status_while(self, job: RebuildJob) -> str:
        return STATUS_WHILE.get(job.operation, "available")
