"""Build the whole Switchyard app in-process, exactly as app.py does, and read it back.

Each environment is built and synthesized once per process (``stacks.synthesis``, shared
with the calls-against-policy check and the drill-world check); tests read templates from
the cloud assembly instead of re-synthesizing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from stacks.app_builder import SwitchyardApp
from stacks.shared.scope import RegionScope
from stacks.synthesis import cli_context, synthesized
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

STACK_KINDS = ("controller", "storage", "regional")


def new_app(outdir: Path) -> cdk.App:
    return cdk.App(context=cli_context(), outdir=str(outdir))


@dataclass(frozen=True)
class Topology:
    """One environment's synthesized app."""

    config: EnvironmentConfig
    stacks: SwitchyardApp
    assembly: cx_api.CloudAssembly
    outdir: Path

    @property
    def names(self) -> Names:
        return Names(self.config)

    def stack_name(self, kind: str, role: str) -> str:
        region = self.config.regions.primary if role == "primary" else self.config.regions.standby
        return self.names.stack(kind, region)

    def template_json(self, kind: str, role: str) -> dict[str, Any]:
        template: dict[str, Any] = self.assembly.get_stack_by_name(self.stack_name(kind, role)).template
        return template

    def template(self, kind: str, role: str) -> Template:
        return Template.from_json(self.template_json(kind, role))

    @cached_property
    def all_templates(self) -> dict[str, dict[str, Any]]:
        return {stack.stack_name: stack.template for stack in self.assembly.stacks}

    @cached_property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text(encoding="utf-8"))
        return report


def topology_of(config: EnvironmentConfig) -> Topology:
    """``config``'s app as synthesized once in this process; cdk-nag and CloudFormation
    validation ran during synth, which raises if either reports an unacknowledged error."""
    built = synthesized(config)
    return Topology(config=config, stacks=built.app, assembly=built.assembly, outdir=built.outdir)


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only_resource(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The properties of the single resource of ``resource_type`` (fails if not exactly one)."""
    found = resources_of(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    properties: dict[str, Any] = next(iter(found.values())).get("Properties", {})
    return properties


def bare_stack(config: EnvironmentConfig, region: str, outdir: Path) -> cdk.Stack:
    """An empty stack in ``region`` of ``config``'s account, to test one construct alone."""
    return cdk.Stack(new_app(outdir), "Bare", env=cdk.Environment(account=config.account, region=region))


def bare_region_scope(config: EnvironmentConfig, region: str, outdir: Path) -> RegionScope:
    """The scope a construct receives, in a bare stack: a key, and the region's topic imported by name."""
    stack = bare_stack(config, region, outdir)
    return RegionScope(
        config=config,
        region=region,
        key=kms.Key(stack, "Key", enable_key_rotation=True),
        topic=sns.Topic.from_topic_arn(stack, "Topic", Names(config).topic_arn(region)),
    )
