"""ControllerFunctions: the monitor, the reconciler and one function per runbook step,
each with exactly the permissions of the calls its handler makes.

Read a function's row in :meth:`ControllerFunctions.permissions` next to its handler
(``switchyard.contract.handler_path``): that is all it may do, besides writing its own log
group and tracing. The step functions run in the region they promote ("target"); the
other region ("source") is reached only best-effort.
"""

from __future__ import annotations

from types import MappingProxyType

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.function import SwitchyardFunction
from stacks.shared.grants import (
    LOCK_RELEASE_ATTRIBUTES,
    LOST_WRITES_SNAPSHOT_ATTRIBUTES,
    UPDATE_ITEM,
    Grants,
)
from stacks.shared.policy import Permission, acknowledge
from stacks.shared.scope import RegionScope
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.contract import (
    AUDIT_ITEM,
    CONTROLLER_PURPOSES,
    DESIRED_STATE_ITEM,
    LOCK_ITEM,
    LOST_WRITES_ITEM,
    MONITOR,
    MONITOR_ITEM,
    MONITOR_TIMEOUT_SECONDS,
    PROMOTION_ITEM,
    RECONCILER,
    STEP_NAMES,
    TRIGGER_ITEM,
    ReadinessPolling,
)

READINESS_POLLING = ReadinessPolling()  # promote's catch-up polling inside one invocation (planned switchover)

# One critical-path AWS call with its bounded retries takes up to ~30 s when every attempt
# times out (switchyard.retry: 4 attempts x (2 s connect + 5 s read) + backoff). Each
# function gets room for its calls, and stays below its state machine task's
# TimeoutSeconds, so a slow step fails as a Lambda error the runbook can retry or catch
# rather than as a task timeout.
FUNCTION_TIMEOUTS = MappingProxyType(
    {
        # invoked once a minute, runs 60 / interval evaluations in it (the last at 60 - interval s)
        # and stops early before this runs out: a minute plus one evaluation's reserve
        "monitor": Duration.seconds(MONITOR_TIMEOUT_SECONDS),
        "reconciler": Duration.seconds(60),
        "validate": Duration.seconds(25),
        "lock": Duration.seconds(25),
        "preflight": Duration.seconds(100),
        "fence": Duration.seconds(100),  # best-effort calls into the failed region, each with short timeouts
        # a planned switchover's catch-up polling, then the promotion request; never waits for the promotion
        "promote": Duration.seconds(int(READINESS_POLLING.attempts * READINESS_POLLING.interval_seconds) + 250),
        "scale_up": Duration.seconds(100),
        # ONE readiness check (database, ASG, the promotion record); the state machine's Wait loop does the waiting
        "wait_ready": Duration.seconds(100),
        "flip": Duration.seconds(50),
        "verify": Duration.seconds(100),
        "release": Duration.seconds(25),
        "record": Duration.seconds(50),
        # ONE pass of the rebuild (a few RDS calls) or of the catch-up check; the state machine's Wait loop waits
        "rejoin": Duration.seconds(100),
    }
)


def controller_permissions(region: RegionScope, purpose: str) -> tuple[Permission, ...]:
    """What the controller function serving ``purpose`` in ``region`` may do."""
    grants = Grants(region)
    table = grants.read_table()
    database = grants.describe_database
    # the old primary's snapshot recorded once into the lost-writes record (reconciler, fence, rejoin)
    lost_writes_snapshot = grants.write_items(
        LOST_WRITES_ITEM, actions=UPDATE_ITEM, attributes=LOST_WRITES_SNAPSHOT_ATTRIBUTES
    )
    rows: dict[str, tuple[Permission, ...]] = {
        # evaluates the other region's health; in automatic mode starts this region's runbook
        MONITOR: (
            table,
            grants.write_items(MONITOR_ITEM),
            # one record per event received; a duplicate delivery increments the first record's count
            grants.write_items(TRIGGER_ITEM, actions=("dynamodb:PutItem", "dynamodb:UpdateItem")),
            # its region's heartbeat at every evaluation (the sub-minute cadence the other region reads)
            grants.write_own_heartbeat(),
            # the watched region's alarms, and its own: the target's health, and self-watch after a failover
            grants.describe_alarms(HEALTH_SIGNAL_ALARMS, regions=region.pair),
            grants.health_check_status,
            grants.start_runbook(),
            grants.use_runbook_key(),  # the runbook is encrypted with the region's key
            *grants.publish,
        ),
        # constant work: its region's heartbeat, capacity for the desired state, warm step functions
        # its database when this region is fenced: lost writes snapshotted, then stopped/verified
        RECONCILER: (
            table,
            grants.write_own_heartbeat(),
            *grants.scale(region.region, below_minimum=True),
            grants.describe_compute,
            *grants.read_launch_image(),  # reported every run, never changed
            *database,
            *grants.snapshot_database(region.region),
            *grants.fence_database(region.region),
            lost_writes_snapshot,
            # every run, a warm-up of each runbook step function of this region (asynchronous invoke)
            grants.warm_step_functions(),
        ),
        "validate": (table,),
        # the lock in this region; a best-effort look at the other region's replica
        "lock": (grants.read_table(both_regions=True), grants.write_items(LOCK_ITEM)),
        "preflight": (
            table,
            *database,
            grants.describe_compute,
            *grants.read_launch_image(),
            grants.health_check_status,
            grants.read_replication_settings,
            # the newest recovery point in this (the target) region's vault; S3's replication
            # metrics come through describe_database's cloudwatch:GetMetricStatistics
            Permission(
                actions=("backup:ListRecoveryPointsByBackupVault",),
                resources=(region.names.backup_vault_arn(region.region),),
            ),
        ),
        # desired state here and (best-effort) in the old replica; the old region's tier to zero
        # and (best-effort) the old region's switch verdict over its replica, and its database
        "fence": (
            grants.read_table(both_regions=True),
            grants.write_items(DESIRED_STATE_ITEM, both_regions=True),
            *grants.scale(region.other_region, below_minimum=True),
            grants.describe_compute,
            *database,
            *grants.snapshot_database(region.other_region),
            *grants.fence_database(region.other_region),
            lost_writes_snapshot,
        ),
        # the promotion record of the epoch (claimed before the call, so it is sent at most once)
        # and the lost-writes record of a data-losing failover, written before the promotion
        "promote": (grants.promote_database, *database, table, grants.write_items(PROMOTION_ITEM, LOST_WRITES_ITEM)),
        "scale_up": (*grants.scale(region.region), grants.describe_compute),
        # the deadline counts from the promotion record's issued_at
        "wait_ready": (table, *database, grants.describe_compute, *grants.read_launch_image()),
        # the data-plane flip here and (best-effort) in the old replica; the record edit is the fallback
        "flip": (
            table,
            grants.write_items(DESIRED_STATE_ITEM, both_regions=True),
            *grants.edit_failover_record,
        ),
        "verify": (table, *database, grants.describe_compute, *grants.read_launch_image()),
        "release": (table, grants.write_items(LOCK_ITEM, actions=UPDATE_ITEM, attributes=LOCK_RELEASE_ATTRIBUTES)),
        "record": (table, grants.write_items(AUDIT_ITEM), *grants.publish),
        # prepare-failback: this region's old primary rebuilt as a replica of the other region's
        # writer (RDS) or checked rejoined (Aurora); the snapshot it took goes into the lost-writes record
        "rejoin": (
            table,
            *database,
            *grants.rebuild_database(),
            lost_writes_snapshot,
        ),
    }
    if purpose not in rows:
        raise KeyError(f"no permissions defined for controller function {purpose!r}")
    return rows[purpose]


class ControllerFunctions(Construct):
    """The monitor, the reconciler and one function per runbook step in one region."""

    def __init__(self, scope: Construct, construct_id: str, *, region: RegionScope) -> None:
        super().__init__(scope, construct_id)
        self.by_purpose: dict[str, lambda_.Function] = {}
        for purpose in CONTROLLER_PURPOSES:
            built = SwitchyardFunction(
                self,
                purpose.title().replace("_", ""),
                region=region,
                purpose=purpose,
                permissions=controller_permissions(region, purpose),
                timeout=FUNCTION_TIMEOUTS[purpose],
            )
            if purpose in STEP_NAMES:
                # Step Functions invokes a step synchronously; only the reconciler's warm-ups are
                # asynchronous: one that fails or waits behind a throttle is dropped, not retried
                built.function.configure_async_invoke(retry_attempts=0, max_event_age=Duration.seconds(60))
                acknowledge(
                    built.function,
                    "Serverless-LambdaAsyncFailureDestination",
                    "Only the reconciler's warm-up pings invoke a step asynchronously; a failed or throttled "
                    "warm-up is meant to be dropped (retry_attempts=0), there is nothing to deliver on failure.",
                )
            self.by_purpose[purpose] = built.function

    @property
    def monitor(self) -> lambda_.Function:
        return self.by_purpose[MONITOR]

    @property
    def reconciler(self) -> lambda_.Function:
        return self.by_purpose[RECONCILER]

    @property
    def steps(self) -> dict[str, lambda_.Function]:
        """The runbook step functions, by step name (the ASL substitution order)."""
        return {step: self.by_purpose[step] for step in STEP_NAMES}
