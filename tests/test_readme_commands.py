"""Every command README.md shows works exactly as written (issue 8).

tests/readme_commands.py extracts the commands (```sh lines, inline spans that start with a
command, and options shown on their own). Each one has an entry in COMMANDS below; a
command without one fails the first test, naming it, so a new command in the README comes
with a way to run it. Placeholders (``<name>``) and lone options (``--json``) become runnable
only through the explicit NORMALISED table.

An entry either runs the README's command as written (subprocess, cwd = repository root,
a timeout, fake AWS credentials, nothing beyond 127.0.0.1 on purpose) and checks what it
printed and wrote, or, when the command cannot run here, says why (``instead``) and runs
the closest honest check.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import boto3
import pytest

from drill.scenarios import SCENARIOS
from switchyard.config import load_environment
from switchyard.contract import Names
from tests.operator_world import operator_world
from tests.readme_commands import README, REPOSITORY_ROOT, ShownCommand, readme_commands, shown_commands

QUICK_SECONDS = 60.0
UNIT_TIER_SECONDS = 180.0  # the tier takes seconds; 2 shared cores under the whole suite can make it more
SYNTH_SECONDS = 300.0
CHECKOV_SECONDS = 600.0  # two synths and two scans: about 35 s alone, more on 2 shared cores
DRILL_SECONDS = 600.0  # measured 18-41 s per drill; 2 shared cores can make it several times that
CLI_FOLLOW_SECONDS = 300.0
REPORTS = REPOSITORY_ROOT / "reports"
PINNED_CDK = "node_modules/.bin/cdk"
STACKS_PER_REGION = 3  # storage, regional, controller (README "How it works")

# README text -> the command this test runs for it: placeholders filled, a lone option
# completed with the command it belongs to ({tmp} is the test's temporary directory).
NORMALISED = {
    "make drill SCENARIO=<name> ENV=<env>": "make drill SCENARIO=switchover ENV=prod",
    "make synth ENV=<name>": "make synth ENV=dev",
    "npx cdk deploy --all -c env=<name>": "npx cdk deploy --all -c env=dev",
    "--json": ".venv/bin/python -m drill --json --env prod --scenario switchover --reports {tmp}",
    "--scenario all": ".venv/bin/python -m drill --scenario all",
}
PLACEHOLDER = re.compile(r"<[a-z][a-z-]*>")


# -- running commands ----------------------------------------------------------------------
def command_environment(tmp: Path, **extra: str) -> dict[str, str]:
    """This process's environment without AWS, CDK, moto or path settings, plus fake
    credentials: nothing can reach an AWS account, and the project must import without PYTHONPATH."""
    dropped = ("AWS_", "CDK_", "MOTO_", "SWITCHYARD_", "PYTHONPATH", "VIRTUAL_ENV")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(dropped)}
    missing = str(tmp / "no-aws-config")
    environment.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=missing,
        AWS_SHARED_CREDENTIALS_FILE=missing,
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    environment.update(extra)  # may replace the fake credentials (a second operator)
    return environment


def run(
    command: str, tmp: Path, *, timeout: float = QUICK_SECONDS, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` through the shell; on timeout end it and everything it started, and fail."""
    with subprocess.Popen(
        command,
        shell=True,
        cwd=REPOSITORY_ROOT,
        env=command_environment(tmp, **(extra or {})),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # make -> python -> moto: a timeout ends the whole group
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"{command!r} still running after {timeout} s:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def assert_succeeded(command: str, result: subprocess.CompletedProcess[str]) -> None:
    output = f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"{command!r} exited {result.returncode}\n{output}"


class Follower:
    """A command running in the background whose output is read as it comes."""

    def __init__(self, command: str, tmp: Path, *, stdin: str, **extra: str) -> None:
        self.command = command
        self.process = subprocess.Popen(
            command,
            shell=True,
            cwd=REPOSITORY_ROOT,
            env=command_environment(tmp, **extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so a timeout ends the shell and the CLI it started
        )
        assert self.process.stdin is not None
        self.process.stdin.write(stdin)
        self.process.stdin.close()
        self._chunks: list[str] = []
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._chunks.append(line)

    @property
    def output(self) -> str:
        return "".join(self._chunks)

    def wait(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            pytest.fail(f"{self.command!r} still running after {timeout} s:\n{self.output[-4000:]}")
        self._reader.join(timeout=10)
        return code


@dataclass
class Workspace:
    """What a check may use: its own temporary directory and one pinned synth shared by the checks."""

    tmp: Path
    shared: Path

    def pinned_synth(self) -> Path:
        """``node_modules/.bin/cdk synth --all -c env=dev --quiet`` into a shared directory (once)."""
        out = self.shared / "cdk.out"
        if not (out / "manifest.json").exists():
            command = f"{PINNED_CDK} synth --all -c env=dev --quiet -o {out}"
            assert_succeeded(command, run(command, self.tmp, timeout=SYNTH_SECONDS))
        return out


def assert_dev_templates(out: Path, *, written_after: float = 0.0) -> None:
    names = Names(load_environment("dev"))
    regions = load_environment("dev").regions.pair
    templates = sorted(path.name for path in out.glob(f"{names.prefix}-*.template.json"))
    fresh = [name for name in templates if (out / name).stat().st_mtime >= written_after]
    assert len(fresh) == STACKS_PER_REGION * len(regions), f"templates in {out}: {templates}"
    assert all(name.removesuffix(".template.json").endswith(regions) for name in fresh), fresh


# -- the checks ----------------------------------------------------------------------------
def check_drill_via_make(command: str, ws: Workspace) -> None:
    """Runs: the drill prints its summary, writes reports/<env>-<scenario>.json and exits 0."""
    variables = dict(re.findall(r"(\w+)=(\S+)", command))
    env, scenario = variables.get("ENV", "dev"), variables.get("SCENARIO", "region-outage")
    report = REPORTS / f"{env}-{scenario}.json"
    started = time.time()
    result = run(command, ws.tmp, timeout=DRILL_SECONDS)
    assert_succeeded(command, result)
    assert f"Drill {scenario} on {env} " in result.stdout
    assert "[FAIL]" not in result.stdout
    assert f"reports/{env}-{scenario}.json" in result.stdout
    assert report.stat().st_mtime >= started - 1, f"{report} was not written by {command!r}"
    written = json.loads(report.read_text(encoding="utf-8"))
    assert (written["environment"], written["scenario"], written["passed"]) == (env, scenario, True)


def check_make_test(command: str, ws: Workspace) -> None:
    """Check what `make test` would run (lint, format, types, the suite) and that CI runs it."""
    dry = run(f"make -n {command.removeprefix('make ')}", ws.tmp)
    assert_succeeded("make -n test", dry)
    for step in (".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy", ".venv/bin/pytest"):
        assert step in dry.stdout, f"make test no longer runs {step!r}:\n{dry.stdout}"
    ci = (REPOSITORY_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(command)}$", ci, re.MULTILINE), ".ci/run does not run `make test`"


def check_make_unit(command: str, ws: Workspace) -> None:
    """Runs the fast tier: it passes, and its guard against moto, CDK and drill imports is on."""
    dry = run(f"make -n {command.removeprefix('make ')}", ws.tmp)
    assert "SWITCHYARD_UNIT_TIER=1" in dry.stdout, dry.stdout
    assert "tests/unit" in dry.stdout, dry.stdout
    result = run(command, ws.tmp, timeout=UNIT_TIER_SECONDS)
    assert_succeeded(command, result)
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


def check_scenario_list(command: str, ws: Workspace) -> None:
    """Runs: one line per scenario of drill.scenarios, each starting with its name."""
    result = run(command, ws.tmp)
    assert_succeeded(command, result)
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == list(SCENARIOS)


def check_every_scenario(command: str, ws: Workspace) -> None:
    """Check the option is offered and accepted (tests/drill/test_scenarios.py runs each
    scenario): --help lists it, and with an unknown environment the run stops at the
    environment, after parsing and before any drill starts."""
    helped = run(".venv/bin/python -m drill --help", ws.tmp)
    assert_succeeded(".venv/bin/python -m drill --help", helped)
    choices = re.search(r"--scenario \{([^}]*)\}", helped.stdout)
    assert choices is not None, helped.stdout
    assert re.sub(r"\s+", "", choices.group(1)).split(",") == [*SCENARIOS, "all"]  # help may wrap the list
    refused = run(f"{command} --env no-such-env", ws.tmp)
    assert refused.returncode == 2, refused.stderr
    assert "'no-such-env': unknown environment" in refused.stderr
    assert "invalid choice" not in refused.stderr


def check_json_report(command: str, ws: Workspace) -> None:
    """Runs: stdout is the JSON report alone (progress goes to stderr), valid against
    drill/report.schema.json and equal to the report file the same run wrote."""
    import jsonschema  # noqa: PLC0415 - a test dependency (requirements-dev.txt)

    command = command.format(tmp=ws.tmp)
    result = run(command, ws.tmp, timeout=DRILL_SECONDS)
    assert_succeeded(command, result)
    printed = json.loads(result.stdout)
    schema = json.loads((REPOSITORY_ROOT / "drill" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(printed, schema)
    assert (printed["environment"], printed["scenario"], printed["passed"]) == ("prod", "switchover", True)
    assert printed == json.loads((ws.tmp / "prod-switchover.json").read_text(encoding="utf-8"))


def check_cli_path(command: str, ws: Workspace) -> None:
    """Check the CLI the README names is executable and answers --help."""
    assert (REPOSITORY_ROOT / command).stat().st_mode & stat.S_IXUSR
    result = run(f"{command} --help", ws.tmp)
    assert_succeeded(f"{command} --help", result)
    assert result.stdout.startswith("usage: switchyard")


def check_cli_synopsis(command: str, ws: Workspace) -> None:
    """Check bin/switchyard offers every subcommand the synopsis names."""
    result = run("bin/switchyard --help", ws.tmp)
    assert_succeeded("bin/switchyard --help", result)
    offered = set(re.findall(r"^ {4}(\S+)\s", result.stdout, re.MULTILINE))
    named = command.split(maxsplit=1)[1].split("|")
    assert set(named) <= offered, f"the README names {sorted(set(named) - offered)}; --help offers {sorted(offered)}"


def operator_credentials(endpoint_url: str, *, role: str, person: str) -> dict[str, str]:
    """Environment variables for a session of ``role`` assumed as ``person`` on the moto
    server, which then answers GetCallerIdentity with ``assumed-role/<role>/<person>``."""
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    account = sts.get_caller_identity()["Account"]
    arn = f"arn:aws:iam::{account}:role/{role}"
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName=person)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def check_cli_failover(command: str, ws: Workspace) -> None:
    """Runs, against a moto server on 127.0.0.1 (tests/operator_world.py, found through
    AWS_ENDPOINT_URL) with the environment provisioned and the real runbook deployed: the
    operator types the region to confirm, prod is in manual mode so the runbook asks for an
    approval, a second operator gives it with the command the CLI prints, and the CLI
    follows the run to the end and exits 0 with the region active."""
    config = load_environment("prod")
    target = config.regions.standby
    assert f"--region {target} " in command, "the README fails over to prod's configured standby"
    with operator_world(config) as world:
        endpoint = {"AWS_ENDPOINT_URL": world.endpoint_url}
        role = Names(config).operator_role(target)
        second_operator = {**endpoint, **operator_credentials(world.endpoint_url, role=role, person="second-operator")}
        follower = Follower(command, ws.tmp, stdin=f"{target}\n", **endpoint)
        deadline = time.monotonic() + CLI_FOLLOW_SECONDS
        approval: subprocess.CompletedProcess[str] | None = None
        while follower.process.poll() is None and time.monotonic() < deadline:
            if approval is None and "WAITING FOR APPROVAL" in follower.output:
                approve = (
                    f"bin/switchyard approve --env prod --region {target} --execution failover-INC-42 "
                    '--reason "lag accepted by the README test" --yes'
                )
                approval = run(approve, ws.tmp, extra=second_operator)  # not the requester: four eyes
                assert_succeeded(approve, approval)
            time.sleep(0.2)
        code = follower.wait(timeout=max(deadline - time.monotonic(), 1.0))
        output = follower.output
        assert code == 0, f"{command!r} exited {code}:\n{output[-4000:]}"
        assert f"Type '{target}' to confirm" in output
        assert "started failover-INC-42 on arn:aws:states:" in output
        assert f"RUNBOOK SUCCEEDED: {target} is active" in output
        assert re.search(r"^\d\d:\d\d:\d\d  -> ", output, re.MULTILINE), "no step was followed"
        desired = world.desired(target)
    assert desired is not None
    assert desired.active_region == target


def check_deploy(command: str, ws: Workspace) -> None:
    """`npx cdk` is the pinned CLI the README names; synthesize the app deploy would deploy,
    same context, offline, into a temporary directory (what deploy would upload)."""
    assert command.startswith("npx cdk deploy --all -c env=")
    version = run("npx --no-install cdk --version", ws.tmp)
    assert_succeeded("npx --no-install cdk --version", version)
    pinned = re.search(r"aws-cdk@([\d.]+)", README.read_text(encoding="utf-8"))
    assert pinned is not None
    assert version.stdout.split()[0] == pinned.group(1)
    assert_dev_templates(ws.pinned_synth())


def check_make_synth(command: str, ws: Workspace) -> None:
    """Runs: all six stacks of the environment synthesized into cdk.out."""
    started = time.time()
    result = run(command, ws.tmp, timeout=SYNTH_SECONDS)
    assert_succeeded(command, result)
    assert_dev_templates(REPOSITORY_ROOT / "cdk.out", written_after=started - 1)


def check_bench(command: str, ws: Workspace) -> None:
    """Check `make bench` runs `python -m bench`, that `reports/bench.json` (which it writes)
    has every scenario in both environments with the issue's keys and at least 200 runs, and
    that the README's RTO table is that file's table, figure for figure (the simulation is
    seeded, so the same commit reproduces it: tests/unit/test_sim_timeline.py)."""
    from bench import rto  # noqa: PLC0415 - bench's package sets env defaults on import

    dry = run(f"make -n {command.removeprefix('make ')}", ws.tmp)
    assert_succeeded("make -n bench", dry)
    assert ".venv/bin/python -m bench" in dry.stdout
    entries = json.loads((REPOSITORY_ROOT / rto.BENCH_JSON).read_text(encoding="utf-8"))
    required = {"env", "scenario", "runs", "p50_s", "p95_s", "max_s", "floor_s", "failed_runs"}
    expected = {
        (env, scenario + suffix)
        for env in rto.ENVIRONMENTS
        for scenario in rto.SIM_SCENARIOS
        for suffix in ("", rto.SLOW_SUFFIX)
    }
    assert {(entry["env"], entry["scenario"]) for entry in entries} == expected
    for entry in entries:
        assert required <= set(entry), f"{entry['env']}/{entry['scenario']}: missing {required - set(entry)}"
        assert entry["runs"] >= 200, f"{entry['env']}/{entry['scenario']}: {entry['runs']} runs"
    assert rto.table(entries) in README.read_text(encoding="utf-8"), "the README's RTO table is not bench.json's"


def check_checkov(command: str, ws: Workspace) -> None:
    """`make checkov` synthesizes both environments and prints checkov's counts; the README's
    security section quotes those counts, figure for figure."""
    result = run(command, ws.tmp, timeout=CHECKOV_SECONDS)
    assert_succeeded(command, result)
    readme = README.read_text(encoding="utf-8")
    for env in ("dev", "prod"):
        counts = re.search(rf"^{env}: Passed checks: (\d+), Failed checks: (\d+)", result.stdout, re.MULTILINE)
        assert counts, f"no counts for {env} in:\n{result.stdout}"
        quoted = f"{env}: {counts.group(1)} passed, {counts.group(2)} failed"
        assert quoted in readme, f"the README's security section does not say {quoted!r}"


def check_bench_direct(command: str, ws: Workspace) -> None:
    """Check the documented options exist as written."""
    result = run(f"{command.split(' --', maxsplit=1)[0]} --help", ws.tmp)
    assert_succeeded(".venv/bin/python -m bench --help", result)
    for option in re.findall(r"--[a-z-]+", command):
        assert option in result.stdout


@dataclass(frozen=True)
class Entry:
    """How one README command is checked; ``instead`` says why it cannot run here as written."""

    id: str
    check: Callable[[str, Workspace], None]
    instead: str | None = None
    marks: tuple[pytest.MarkDecorator, ...] = ()


RECURSES = "runs the whole suite, this test included (CI runs it: .ci/run)"
NEEDS_AWS = "needs an AWS account and credentials"
BENCH_MINUTES = "simulates 1,600 failovers plus timings: minutes, beyond this module's budget"
COMMANDS: dict[str, Entry] = {
    "make drill": Entry("make-drill", check_drill_via_make, marks=(pytest.mark.drill,)),
    "make test": Entry("make-test", check_make_test, instead=RECURSES),
    "make unit": Entry("make-unit", check_make_unit),
    "make drill SCENARIO=<name> ENV=<env>": Entry("make-drill-vars", check_drill_via_make, marks=(pytest.mark.drill,)),
    ".venv/bin/python -m drill --list": Entry("drill-list", check_scenario_list),
    "--scenario all": Entry(
        "drill-all", check_every_scenario, instead="runs every scenario in a row (minutes); make test runs each"
    ),
    "--json": Entry("drill-json", check_json_report, marks=(pytest.mark.drill,)),
    "bin/switchyard": Entry("cli-path", check_cli_path, instead="names the CLI; alone it exits 2 asking for a command"),
    (
        "switchyard status|readiness|failover|switchover|prepare-failback|failback|dry-run|approve|unlock"
        "|acknowledge-lost-writes"
    ): Entry("cli-synopsis", check_cli_synopsis, instead="a synopsis of the subcommands, not one command"),
    "npx cdk deploy --all -c env=<name>": Entry(
        "cdk-deploy", check_deploy, instead=NEEDS_AWS, marks=(pytest.mark.synth,)
    ),
    "make synth ENV=<name>": Entry("make-synth", check_make_synth, marks=(pytest.mark.synth,)),
    'bin/switchyard failover --env prod --region eu-central-1 --reason "..." --incident INC-42': Entry(
        "cli-failover", check_cli_failover, marks=(pytest.mark.drill,)
    ),
    "make bench": Entry("make-bench", check_bench, instead=BENCH_MINUTES),
    "make checkov": Entry("make-checkov", check_checkov, marks=(pytest.mark.synth,)),
    ".venv/bin/python -m bench --rto-only": Entry("bench-direct", check_bench_direct, instead=BENCH_MINUTES),
}


def normalised(text: str) -> str:
    return NORMALISED.get(text, text)


# -- the tests -----------------------------------------------------------------------------
def _shown() -> list[ShownCommand]:
    return readme_commands()


def test_extraction_finds_shell_lines_and_command_spans_only() -> None:
    # GIVEN markdown with a sh block, a diagram block, command spans, an option span and other code spans
    markdown = "\n".join(
        [
            "```sh",
            "make drill   # the main job",
            "```",
            "```mermaid",
            "flowchart LR",
            "```",
            "Run `make synth ENV=<name>` or `.venv/bin/python -m drill --list`; `--json` prints JSON.",
            "Role `switchyard-<env>-<region>-operator`, file `config/<env>.toml`; `make synth ENV=<name>` again.",
        ]
    )
    # WHEN the commands are extracted
    found = [(command.text, command.line, command.kind) for command in shown_commands(markdown)]
    # THEN the shell line loses its comment, spans keep their text, duplicates and non-commands are left out
    assert found == [
        ("make drill", 2, "block"),
        ("make synth ENV=<name>", 7, "inline"),
        (".venv/bin/python -m drill --list", 7, "inline"),
        ("--json", 7, "option"),
    ]


def test_every_command_the_readme_shows_has_a_way_to_run_here() -> None:
    # GIVEN the commands README.md shows  WHEN each is looked up in COMMANDS
    unknown = [f"README.md:{c.line}: `{c.text}` ({c.kind})" for c in _shown() if c.text not in COMMANDS]
    # THEN none is missing: a new command comes with an entry saying how it runs
    assert unknown == [], "README commands this test does not know how to run:\n" + "\n".join(unknown)


def test_every_entry_is_still_a_command_the_readme_shows() -> None:
    shown = {command.text for command in _shown()}
    stale = sorted(set(COMMANDS) - shown)
    assert stale == [], f"entries for commands the README no longer shows: {stale}"


def test_placeholders_and_lone_options_become_runnable_only_through_the_table() -> None:
    # GIVEN every README command with a placeholder or shown as a lone option
    needing = {c.text for c in _shown() if PLACEHOLDER.search(c.text) or c.kind == "option"}
    # THEN each has a normalised form, and that form has no placeholder left
    assert needing <= set(NORMALISED), f"no normalised form for {sorted(needing - set(NORMALISED))}"
    assert [text for text in NORMALISED.values() if PLACEHOLDER.search(text)] == []


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme-commands")


@pytest.mark.parametrize(
    "text", [pytest.param(text, id=entry.id, marks=entry.marks) for text, entry in COMMANDS.items()]
)
def test_the_readme_command_works(text: str, tmp_path: Path, shared_dir: Path) -> None:
    # GIVEN a command as the README shows it (placeholders filled through NORMALISED)
    entry = COMMANDS[text]
    # WHEN it runs (or, when it cannot run here, its closest honest check runs)
    # THEN it succeeds and printed or wrote what the README says
    entry.check(normalised(text), Workspace(tmp_path, shared_dir))
