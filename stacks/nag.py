"""cdk-nag at synth: the rule packs Switchyard is checked against, and the rule that every
acknowledgement must still match a finding.

An acknowledgement (``stacks.shared.policy.acknowledge``) silences one rule on one construct
and everything under it. Once the code it excused changes, it can keep silencing a finding
nobody reviewed; so synth fails on any acknowledgement that matched nothing.
CDK records each acknowledgement as construct metadata (``aws:cdk:acknowledged-rules``) and
the validation report lists the findings each one suppressed, at the same construct path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"
REPORT = "validation-report.json"
# The packs' names, as they prefix an acknowledgement ("AwsSolutions::AwsSolutions-IAM5[...]").
# Only these acknowledgements are Switchyard's: the CDK's own constructs acknowledge some
# CloudFormation validation rules that a given template may not trigger.
RULE_PACKS = ("AwsSolutions", "Serverless")


def attach_rule_packs(scope: IConstruct) -> None:
    """Check everything under ``scope`` with AwsSolutions and the Serverless pack at synth."""
    cdk.Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), ServerlessChecks(scope))


@dataclass(frozen=True, order=True)
class Acknowledgement:
    path: str  # the construct it was given on
    rule: str  # "<pack>::<rule>[<finding>]"


def acknowledgements(root: IConstruct) -> set[Acknowledgement]:
    """Every acknowledgement of a Switchyard rule pack given anywhere under ``root``."""
    return {
        Acknowledgement(construct.node.path, rule)
        for construct in root.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACKNOWLEDGED_RULES and entry.data
        for rule in entry.data
        if rule.split("::", 1)[0] in RULE_PACKS
    }


def used_acknowledgements(report: dict) -> set[Acknowledgement]:
    """The acknowledgements that suppressed at least one finding in a validation report."""
    return {
        Acknowledgement(violation["acknowledgedAt"], violation["acknowledgedId"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
    }


class StaleAcknowledgementError(RuntimeError):
    """An acknowledgement matched no finding."""


def check_acknowledgements(root: IConstruct, outdir: str | Path) -> None:
    """Raise naming every acknowledgement under ``root`` that no finding in the synthesized
    report at ``outdir`` used."""
    report = json.loads((Path(outdir) / REPORT).read_text(encoding="utf-8"))
    stale = sorted(acknowledgements(root) - used_acknowledgements(report))
    if stale:
        listing = "\n".join(f"  {ack.rule} on {ack.path}" for ack in stale)
        raise StaleAcknowledgementError(
            f"{len(stale)} cdk-nag acknowledgement(s) match no finding; remove them or fix what they name:\n{listing}"
        )
