"""Compose the whole Switchyard app for one environment.

Used by app.py (the CDK CLI) and by the tests, so both synthesize the same app. Stack
order is expressed with ``add_dependency`` only; values cross stacks and regions by
deterministic names, never by references (no exports, no cross-region references).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk

from stacks.controller_stack import ControllerStack
from stacks.nag import attach_rule_packs
from stacks.regional_stack import RegionalStack
from stacks.storage_stack import StorageStack
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

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


def compose_app(app: cdk.App, config: EnvironmentConfig) -> SwitchyardApp:
    """Add every stack of ``config`` to ``app``, order them, tag them and attach cdk-nag."""
    by_region = {region: _region_stacks(app, config, region) for region in config.regions.pair}
    composed = SwitchyardApp(
        config=config, primary=by_region[config.regions.primary], standby=by_region[config.regions.standby]
    )
    _order(composed)
    cdk.Tags.of(app).add("Project", PROJECT_TAG)
    cdk.Tags.of(app).add("Environment", config.name)
    attach_rule_packs(app)
    return composed


def _region_stacks(app: cdk.App, config: EnvironmentConfig, region: str) -> RegionStacks:
    """The three stacks of ``region``, named by ``Names.stack`` and bound to its account/region."""
    names = Names(config)
    role = config.role_of(region)
    common: dict[str, Any] = {
        "config": config,
        "region": region,
        "env": cdk.Environment(account=config.account, region=region),
    }

    def describe(what: str) -> str:
        return f"Switchyard {config.name}: {what} of the {role} region {region}"

    return RegionStacks(
        controller=ControllerStack(
            app,
            names.stack("controller", region),
            description=describe("controller (key, topic, state table, functions, runbook)"),
            **common,
        ),
        storage=StorageStack(app, names.stack("storage", region), description=describe("data bucket"), **common),
        regional=RegionalStack(
            app,
            names.stack("regional", region),
            description=describe("network, application tier, database and failover record"),
            **common,
        ),
    )


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
