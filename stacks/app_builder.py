"""Compose the whole Switchyard app for one environment.

Used by app.py (the CDK CLI) and by the tests, so both synthesize the same app. Stack
order is expressed with ``add_dependency`` only; values cross stacks and regions by
deterministic names, never by references (no exports, no cross-region references).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.controller_stack import ControllerStack
from stacks.regional_stack import RegionalStack
from stacks.storage_stack import StorageStack
from switchyard.config import EnvironmentConfig
from switchyard.naming import Names

PROJECT_TAG = "switchyard"


@dataclass(frozen=True)
class RegionStacks:
    controller: ControllerStack
    storage: StorageStack
    regional: RegionalStack


@dataclass(frozen=True)
class SwitchyardApp:
    """The stacks of one environment, by region."""

    config: EnvironmentConfig
    primary: RegionStacks
    standby: RegionStacks

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [stack for region in (self.primary, self.standby) for stack in _as_list(region)]


def _as_list(region: RegionStacks) -> list[cdk.Stack]:
    return [region.controller, region.storage, region.regional]


def compose_app(app: cdk.App, config: EnvironmentConfig) -> SwitchyardApp:
    """Add every stack of ``config`` to ``app``, order them, tag them and attach cdk-nag."""
    names = Names(config)
    by_region = {}
    for region in config.regions.pair:
        env = cdk.Environment(account=config.account, region=region)
        role = config.role_of(region)

        def describe(kind: str, region: str = region, role: str = role) -> str:
            return f"Switchyard {config.name}: {kind} of the {role} region {region}"

        by_region[region] = RegionStacks(
            controller=ControllerStack(
                app,
                names.stack("controller", region),
                config=config,
                region=region,
                env=env,
                description=describe("controller shared pieces (key, topic, state table)"),
            ),
            storage=StorageStack(
                app,
                names.stack("storage", region),
                config=config,
                region=region,
                env=env,
                description=describe("data bucket"),
            ),
            regional=RegionalStack(
                app,
                names.stack("regional", region),
                config=config,
                region=region,
                env=env,
                description=describe("network, application tier, database and failover record"),
            ),
        )
    composed = SwitchyardApp(
        config=config, primary=by_region[config.regions.primary], standby=by_region[config.regions.standby]
    )
    _order(composed)
    cdk.Tags.of(app).add("Project", PROJECT_TAG)
    cdk.Tags.of(app).add("Environment", config.name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return composed


def _order(app: SwitchyardApp) -> None:
    """Deploy order: a replication destination, a replica's source and a global table
    exist before whatever names them.

    - the standby's controller after the primary's (the global table's standby replica);
    - the primary's bucket after the standby's (replication destination);
    - each regional stack after its region's controller (notification topic) and storage,
      and after the primary's controller (its traffic switch reads the table replica);
    - the standby's regional stack after the primary's (database replica source).
    """
    primary, standby = app.primary, app.standby
    standby.controller.add_stack_dependency(primary.controller, "state table replica is created by the primary")
    primary.storage.add_stack_dependency(standby.storage, "replication destination bucket must exist")
    for region in (primary, standby):
        region.regional.add_stack_dependency(region.controller, "alarms and scaling notify the region's topic")
        region.regional.add_stack_dependency(region.storage, "the region's data bucket comes first")
    standby.regional.add_stack_dependency(primary.controller, "traffic switch reads the state table replica")
    standby.regional.add_stack_dependency(primary.regional, "the database replica needs its source")
