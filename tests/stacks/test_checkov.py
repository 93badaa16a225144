"""checkov over every synthesized template of both environments.

The checks the hardening had to close pass: reserved concurrency on the traffic switch, HTTPS
(TLS 1.2) on the load balancer, Lambda environment variables under a customer-managed key.
Every check that still fails is listed in the README's security section with its reason,
and the section lists nothing that no longer fails. (checkov has no CloudFormation check of
SSE-KMS on a bucket; tests/stacks/test_topology_encryption.py covers the buckets' keys.)

checkov runs from its own pinned venv (``.venv-checkov``, which ``make test`` installs from
requirements-checkov.txt): its dependencies would clash with the project's.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from stacks.synthesis import REPOSITORY_ROOT
from tests.stacks.topology import Topology

CHECKOV = REPOSITORY_ROOT / ".venv-checkov" / "bin" / "checkov"
README = REPOSITORY_ROOT / "README.md"
SECURITY_SECTION = "## Security"
# check id -> what passing it means; each must be evaluated (passed) on at least one resource
MUST_PASS = {
    "CKV_AWS_2": "the load balancer's listeners speak HTTPS (port 80 only redirects)",
    "CKV_AWS_103": "the load balancer's HTTPS listener requires TLS 1.2 or later",
    "CKV_AWS_173": "Lambda environment variables are encrypted with a customer-managed key",
}
RESERVED_CONCURRENCY = "CKV_AWS_115"
TRAFFIC_SWITCH = "TrafficSwitch"  # the switch function's logical id starts with its construct's


@functools.cache
def checkov_results(outdir: Path) -> Mapping[str, list[Mapping[str, str]]]:
    """checkov's passed and failed checks over the CloudFormation templates in ``outdir``."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make test` (it installs .venv-checkov)")
    scan = ["-d", str(outdir), "--framework", "cloudformation", "--skip-download", "--compact", "-o", "json"]
    completed = subprocess.run(
        [str(CHECKOV), *scan],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]  # 1: some check failed
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    results: dict[str, list[Mapping[str, str]]] = {"passed": [], "failed": []}
    for report in reports:
        results["passed"] += report["results"].get("passed_checks", [])
        results["failed"] += report["results"].get("failed_checks", [])
    assert results["passed"], "checkov evaluated nothing"
    return results


def accepted_in_readme() -> dict[str, str]:
    """The README security section's table: check id -> the reason it stays."""
    text = README.read_text(encoding="utf-8")
    assert SECURITY_SECTION in text, f"the README has no {SECURITY_SECTION!r} section"
    section = text.split(SECURITY_SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(CKV2?_AWS_\d+)` \|[^|]*\|([^|]+)\|$", section, flags=re.MULTILINE)
    return {check: reason.strip() for check, reason in rows}


def test_the_hardened_checks_pass(topology: Topology) -> None:
    # GIVEN checkov's results over the environment's templates
    results = checkov_results(topology.outdir)
    failed = {finding["check_id"] for finding in results["failed"]}
    passed = {finding["check_id"] for finding in results["passed"]}
    # THEN each hardened check was evaluated and fails nowhere
    for check, meaning in MUST_PASS.items():
        assert check in passed, f"{check} ({meaning}) was not evaluated"
        assert check not in failed, f"{check} fails: expected {meaning}"


def test_the_traffic_switch_has_reserved_concurrency(topology: Topology) -> None:
    results = checkov_results(topology.outdir)

    def switch(finding: Mapping[str, str]) -> bool:
        return finding["check_id"] == RESERVED_CONCURRENCY and f".{TRAFFIC_SWITCH}" in finding["resource"]

    # THEN the switch passes the reserved-concurrency check in both regions
    assert len([finding for finding in results["passed"] if switch(finding)]) == 2
    assert [finding["resource"] for finding in results["failed"] if switch(finding)] == []


def test_every_remaining_failure_is_in_the_readme_with_its_reason(topology: Topology) -> None:
    # GIVEN the checks that still fail, and the README's table of accepted failures
    failing = {finding["check_id"] for finding in checkov_results(topology.outdir)["failed"]}
    accepted = accepted_in_readme()
    # THEN each failing check is listed with a reason of a sentence or more
    assert sorted(failing - set(accepted)) == [], "checks that fail and are not in the README's security section"
    for check, reason in accepted.items():
        assert len(reason.split()) >= 8, f"{check}: give the reason, not a label"


def test_the_readme_lists_no_check_that_passes_everywhere(topology_dev: Topology, topology_prod: Topology) -> None:
    # GIVEN the failing checks of both environments
    failing = {
        finding["check_id"]
        for built in (topology_dev, topology_prod)
        for finding in checkov_results(built.outdir)["failed"]
    }
    # THEN the README's table holds only checks that still fail somewhere
    assert sorted(set(accepted_in_readme()) - failing) == []
