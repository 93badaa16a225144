"""The whole app: stacks, deploy order, no cross-stack references, tags, cdk-nag, cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.nag import RULE_PACKS, acknowledgements, used_acknowledgements
from tests.stacks.topology import STACK_KINDS, Topology

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_every_kind_of_stack_exists_once_per_region_with_its_deterministic_name(topology: Topology) -> None:
    # GIVEN an environment  WHEN its app is synthesized
    stacks = {stack.stack_name: stack.environment for stack in topology.assembly.stacks}
    # THEN each kind exists in both regions, named by Names.stack, deployed to the configured account
    expected = {
        topology.names.stack(kind, region): region for kind in STACK_KINDS for region in topology.config.regions.pair
    }
    assert {name: environment.region for name, environment in stacks.items()} == expected
    assert {environment.account for environment in stacks.values()} == {topology.config.account}


def _dependencies(topology: Topology, kind: str, role: str) -> set[str]:
    artifact = topology.assembly.get_stack_by_name(topology.stack_name(kind, role))
    return {dependency.id for dependency in artifact.dependencies}


def test_the_replication_destination_bucket_deploys_before_the_primary_bucket(topology: Topology) -> None:
    # GIVEN the app  WHEN ordering the storage stacks  THEN the primary's waits for the standby's
    assert topology.stack_name("storage", "standby") in _dependencies(topology, "storage", "primary")
    assert topology.stack_name("storage", "primary") not in _dependencies(topology, "storage", "standby")


def test_the_standby_database_deploys_after_its_source_in_the_primary(topology: Topology) -> None:
    # GIVEN the app  WHEN ordering the regional stacks  THEN the standby's waits for the primary's
    assert topology.stack_name("regional", "primary") in _dependencies(topology, "regional", "standby")
    assert topology.stack_name("regional", "standby") not in _dependencies(topology, "regional", "primary")


def test_the_standby_controller_deploys_after_the_global_table_exists(topology: Topology) -> None:
    # GIVEN the app  WHEN ordering the controller stacks  THEN the standby's waits for the primary's
    assert topology.stack_name("controller", "primary") in _dependencies(topology, "controller", "standby")


def test_no_template_imports_or_exports_values_across_stacks(topology: Topology) -> None:
    # GIVEN every synthesized template
    for name, template in topology.all_templates.items():
        text = json.dumps(template)
        # THEN none reads another stack's output and none exports one
        assert "Fn::ImportValue" not in text, name
        assert not any("Export" in output for output in template.get("Outputs", {}).values()), name


def test_every_taggable_resource_carries_project_and_environment_tags(topology: Topology) -> None:
    # GIVEN every resource whose template carries a list of tags
    expected = {"Project": "switchyard", "Environment": topology.config.name}
    checked = 0
    for name, template in topology.all_templates.items():
        for logical_id, resource in template["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if not isinstance(tags, list):
                continue
            checked += 1
            # THEN both project tags are there
            values = {tag["Key"]: tag["Value"] for tag in tags}
            assert expected.items() <= values.items(), f"{name}/{logical_id}: {values}"
    assert checked > 20


@pytest.mark.parametrize("pack", RULE_PACKS)
def test_cdk_nag_reports_no_unacknowledged_finding(topology: Topology, pack: str) -> None:
    # GIVEN the validation report written during synth  WHEN reading one rule pack
    reports = {report["pluginName"]: report for report in topology.validation_report["pluginReports"]}
    nag = reports[pack]
    # THEN it passed with no open violation (errors would have failed synth; warnings count too)
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []


@pytest.mark.parametrize("pack", RULE_PACKS)
def test_every_cdk_nag_acknowledgement_carries_a_specific_reason(topology: Topology, pack: str) -> None:
    # GIVEN the findings acknowledged during synth
    reports = {report["pluginName"]: report for report in topology.validation_report["pluginReports"]}
    acknowledged = reports[pack]["suppressedViolations"]
    assert acknowledged, "expected acknowledged findings (public ALB, replication wildcards, pinned runtime...)"
    # THEN each one says why, in more than a word or two
    for finding in acknowledged:
        assert len(finding.get("reason", "").split()) >= 6, finding["ruleName"]


def test_every_acknowledgement_of_the_app_matched_a_finding(topology: Topology) -> None:
    # GIVEN every acknowledgement given while composing the app, and the findings they suppressed
    given = acknowledgements(topology.stacks.primary.controller.node.root)
    used = used_acknowledgements(topology.validation_report)
    # THEN there are many, and each suppressed at least one finding (synth also refuses a stale one)
    assert len(given) > 100
    assert given - used == set()


def cfn_lint_errors(topology: Topology) -> list[str]:
    """cfn-lint's error-level findings over every template of ``topology`` (warnings, e.g.
    the AZ names CDK writes, are allowed)."""
    templates = sorted(str(path) for path in topology.outdir.glob("*.template.json"))
    assert len(templates) == len(STACK_KINDS) * 2
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", *templates], capture_output=True, text=True, check=False
    )
    findings = json.loads(result.stdout or "[]")
    return [f"{f['Filename']}: {f['Rule']['Id']} {f['Message']}" for f in findings if f["Level"] == "Error"]


def test_cfn_lint_finds_no_error_in_any_template(topology: Topology) -> None:
    # GIVEN every synthesized template  WHEN linted with cfn-lint  THEN nothing at error level
    assert cfn_lint_errors(topology) == []
