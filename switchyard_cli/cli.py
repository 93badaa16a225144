"""The operator CLI: thin wrappers over the Step Functions and state-table calls an
operator would otherwise type by hand (runbooks/README.md shows the plain AWS CLI).

Every command validates its input locally before the first AWS call, actions start the
region's runbook with a deterministic execution name (``<action>-<incident>``, so a
repeated command cannot start a second run), follow it step by step and end with a
summary and an exit code a script can act on (:class:`ExitCode`). Who asks and who
approves is the caller's AWS identity (``sts:GetCallerIdentity``), never a flag; an approval
the runbook would refuse (switchyard.runbook_state.approval_problems) is refused here first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from switchyard.adapters.state import DynamoStateStore
from switchyard.config import ConfigError, EnvironmentConfig, load_environment
from switchyard.contract import Names
from switchyard.model import Action, RunbookInput, Severity, bounded, check_execution_name
from switchyard.retry import ClientFactory
from switchyard.runbook_state import Approval, approval_problems
from switchyard_cli.executions import REJECTION_ERROR, execution_history, pending_approval

ACTION_COMMANDS = {action.value: action for action in Action}
ACKNOWLEDGE_LOST_WRITES = "acknowledge-lost-writes"
OK_STATUSES = frozenset({"done", "noop", "skipped"})
PROGRESS_KINDS = frozenset({"Task", "Parallel", "Fail"})
PRIMARY_ACTIONS = frozenset({Action.FAILBACK, Action.PREPARE_FAILBACK})  # always target the configured primary


class ExitCode(IntEnum):
    OK = 0
    RUNBOOK_FAILED = 1  # the execution failed, timed out or was aborted: read its cause
    USAGE = 2  # bad arguments or input rejected locally; nothing was called
    NOT_READY = 3  # readiness / dry run found blockers
    AWS_ERROR = 4  # an AWS call failed (credentials, endpoint, missing resource)
    STILL_RUNNING = 5  # stopped following; the execution goes on
    DECLINED = 6  # the operator did not confirm


class CliError(Exception):
    """Ends the command with a message and an exit code."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Session:
    """What a command needs: the environment, AWS access and where to talk to the operator."""

    config: EnvironmentConfig
    endpoint_url: str | None
    out: TextIO
    ask: Callable[[str], str]
    poll_seconds: float

    @property
    def names(self) -> Names:
        return Names(self.config)

    def client(self, service: str, region: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def state_store(self) -> DynamoStateStore:
        return DynamoStateStore(self.config, ClientFactory(endpoint_url=self.endpoint_url))

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    def execution_arn(self, region: str, name: str) -> str:
        """``name`` in ``region``'s runbook; an execution ARN is returned as it is."""
        return name if name.startswith("arn:") else self.names.execution_arn(region, name)


# -- parsing ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env", required=True, help="environment name (config/<env>.toml)")
    common.add_argument("--endpoint-url", help="AWS endpoint override (a local moto server in drills/tests)")
    common.add_argument("--poll-seconds", type=float, default=2.0, help=argparse.SUPPRESS)

    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--requested-by", help=argparse.SUPPRESS)  # refused: identity comes from STS only
    run.add_argument("--yes", action="store_true", help="do not ask for confirmation (non-interactive)")
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds to follow the execution (default 3600)")

    parser = argparse.ArgumentParser(prog="switchyard", description="Operate the Switchyard failover runbook.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    status = commands.add_parser("status", parents=[common], help="desired state, lock and recent executions")
    status.add_argument("--region", help="only this region (default: both)")

    readiness = commands.add_parser("readiness", parents=[common, run], help="dry run: can --region take over now?")
    readiness.add_argument("--region", help="the region that would take over (default: the configured standby)")
    readiness.add_argument("--reason", default="readiness check")
    readiness.add_argument("--incident", help="incident id (default: readiness-<UTC time>)")

    for action in Action:
        sub = commands.add_parser(action.value, parents=[common, run], help=_ACTION_HELP[action])
        sub.add_argument("--region", required=action not in PRIMARY_ACTIONS, help="the region to make active")
        sub.add_argument("--reason", required=True, help="why, in words the audit record keeps")
        sub.add_argument("--incident", required=True, help="incident id: letters, digits, '-' and '_'")
        sub.add_argument("--attempt", type=int, default=1, help="re-run after a failed execution (2, 3, ...)")

    approve = commands.add_parser("approve", parents=[common], help="answer a runbook waiting for approval")
    approve.add_argument("--region", required=True, help="the region whose runbook waits")
    approve.add_argument("--execution", required=True, help="execution name, e.g. failover-INC-42")
    approve.add_argument("--reason", required=True, help="the note kept with the decision (state the lag)")
    approve.add_argument("--reject", action="store_true", help="reject: the runbook stops, nothing changes")
    approve.add_argument(
        "--accept-lag",
        type=float,
        metavar="SECONDS",
        help="the largest replication lag you accept losing (default: the lag the runbook measured); "
        "promote refuses the approval if it then measures more",
    )
    approve.add_argument("--requested-by", help=argparse.SUPPRESS)  # refused: identity comes from STS only
    approve.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    unlock = commands.add_parser("unlock", parents=[common], help="release a lock kept by a failed execution")
    unlock.add_argument("--region", required=True, help="the region whose table replica to write")
    unlock.add_argument(
        "--execution",
        required=True,
        help="the failed execution that holds the lock: its name in --region's runbook, or its ARN (status shows it)",
    )
    unlock.add_argument("--reason", required=True, help="why it is safe to release")
    unlock.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    acknowledge = commands.add_parser(
        ACKNOWLEDGE_LOST_WRITES,
        parents=[common],
        help="acknowledge the writes a data-losing failover may have lost (failback waits for it)",
    )
    acknowledge.add_argument(
        "--epoch", required=True, type=int, help="the failover's epoch (validate's finding names it)"
    )
    acknowledge.add_argument("--note", required=True, help="what was done with the lost writes, kept in the record")
    acknowledge.add_argument("--region", help="the table replica to write (default: the configured standby)")
    acknowledge.add_argument(
        "--without-snapshot",
        action="store_true",
        help="acknowledge although the old primary was never snapshotted (its writes are then lost for good)",
    )
    acknowledge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


_ACTION_HELP = {
    Action.FAILOVER: "unplanned: make --region active now (may need an approval for lag)",
    Action.SWITCHOVER: "planned: primary healthy, waits for replication (RPO 0)",
    Action.FAILBACK: "planned return to the configured primary once it is a replica again",
    Action.PREPARE_FAILBACK: "rebuild the configured primary as a replica of the active region and wait for "
    "its catch-up; moves no traffic (then: failback)",
    Action.DRY_RUN: "every check of the runbook, zero changes",
}


def local_request(args: argparse.Namespace, config: EnvironmentConfig, *, requested_by: str) -> RunbookInput:
    """The runbook input, checked with the same model and rules the Validate state uses,
    minus the live check (is the target already active?) which the execution makes."""
    action = ACTION_COMMANDS.get(args.command, Action.DRY_RUN)
    target = args.region or (config.regions.primary if action in PRIMARY_ACTIONS else config.regions.standby)
    try:
        request = RunbookInput(
            action=action,
            target_region=target,
            reason=args.reason,
            incident_id=args.incident,
            requested_by=requested_by,
        )
        request.validate_for(config, active_region=config.regions.other(target))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        raise CliError(ExitCode.USAGE, bounded(f"invalid input, nothing was started: {problems}")) from exc
    except ValueError as exc:
        raise CliError(ExitCode.USAGE, bounded(f"invalid input, nothing was started: {exc}")) from exc
    return request


def check_region(config: EnvironmentConfig, region: str) -> str:
    """``region`` when it is one of the environment's pair; a usage error otherwise."""
    try:
        config.regions.other(region)
    except ValueError as exc:
        raise CliError(ExitCode.USAGE, str(exc)) from exc
    return region


def execution_name(request: RunbookInput, attempt: int = 1) -> str:
    """Deterministic: the same action for the same incident is the same execution."""
    if attempt < 1:
        raise CliError(ExitCode.USAGE, f"--attempt must be 1 or more, not {attempt}")
    base = f"{request.action.value}-{request.incident_id}"
    try:
        return check_execution_name(base if attempt == 1 else f"{base}-attempt{attempt}")
    except ValueError as exc:
        raise CliError(ExitCode.USAGE, f"{exc}; nothing was started") from exc


def caller_identity(session: Session, region: str) -> str:
    """Who is calling, from their credentials (sts:GetCallerIdentity), never from a flag:
    ``assumed-role/<role>/<session>`` or ``user/<name>`` (the ARN after the account)."""
    arn = str(session.client("sts", region).get_caller_identity()["Arn"])
    return arn.split(":", 5)[-1][:128]


def refuse_identity_flag(args: argparse.Namespace) -> None:
    """``--requested-by`` is gone: a name typed on the command line proves nothing."""
    if getattr(args, "requested_by", None) is not None:
        raise CliError(
            ExitCode.USAGE,
            "--requested-by is no longer accepted: who asks and who approves comes from your AWS credentials "
            "(sts:GetCallerIdentity); nothing was called",
        )


# -- commands --------------------------------------------------------------------------
def run_action(args: argparse.Namespace, session: Session) -> ExitCode:
    """failover / switchover / failback / dry-run / readiness: start, follow, summarize."""
    refuse_identity_flag(args)
    if args.command == "readiness" and args.incident is None:
        args.incident = datetime.now(UTC).strftime("readiness-%Y%m%dT%H%M%SZ")
    request = local_request(args, session.config, requested_by="pending-caller-identity")
    name = execution_name(request, getattr(args, "attempt", 1))
    region = request.target_region
    try:  # validated, not copied in: the identity goes into the input like any other field
        request = RunbookInput.model_validate(
            {**request.model_dump(), "requested_by": caller_identity(session, region)}
        )
    except ValidationError as exc:
        raise CliError(
            ExitCode.USAGE, bounded(f"your AWS identity cannot request a runbook: {exc.errors()[0]['msg']}")
        ) from exc
    if request.action.mutates:
        show_current_state(session, region)
        confirm(session, args, f"{request.action.value} to {region} ({name})", expected=region)
    sfn = session.client("stepfunctions", region)
    machine = session.names.state_machine_arn(region)
    try:
        started = sfn.start_execution(stateMachineArn=machine, name=name, input=request.model_dump_json())
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            raise CliError(
                ExitCode.USAGE,
                f"execution {name} already exists with a different input or has ended; "
                f"see 'switchyard status --env {session.config.name} --region {region}', "
                f"re-run with --attempt {getattr(args, 'attempt', 1) + 1}",
            ) from exc
        raise
    session.say(f"started {name} on {machine}")
    described = follow(session, sfn, started["executionArn"], timeout=args.timeout)
    return summarize(session, request, described)


def show_current_state(session: Session, region: str) -> None:
    try:
        desired = session.state_store().read_desired(region)
    except (ClientError, BotoCoreError) as exc:
        session.say(f"could not read the desired state in {region}: {exc}")
        return
    if desired is None:
        session.say(f"no desired state recorded yet; the configured primary is {session.config.regions.primary}")
    else:
        session.say(f"now active: {desired.active_region} at epoch {desired.epoch} (set by {desired.updated_by})")


def confirm(session: Session, args: argparse.Namespace, what: str, *, expected: str) -> None:
    if args.yes:
        return
    try:
        answer = session.ask(f"About to {what} in {session.config.name}. Type '{expected}' to confirm: ")
    except EOFError:
        answer = ""
    if answer.strip() != expected:
        raise CliError(ExitCode.DECLINED, "not confirmed; nothing was started (pass --yes to skip the prompt)")


def follow(session: Session, sfn: Any, execution_arn: str, *, timeout: float) -> dict[str, Any]:
    """Print each step as it happens until the execution ends; CliError(STILL_RUNNING) after ``timeout``."""
    deadline = time.monotonic() + timeout
    printed_events = 0
    printed_results: set[str] = set()
    approval_hinted = False
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        events = execution_history(sfn, execution_arn)
        for event in events[printed_events:]:
            for line in progress_lines(event, printed_results):
                session.say(line)
        printed_events = len(events)
        if described["status"] != "RUNNING":
            return dict(described)
        if not approval_hinted and (waiting := pending_approval(events)):
            approval_hinted = True
            session.say(approval_hint(session, described, waiting.request))
        if time.monotonic() > deadline:
            raise CliError(ExitCode.STILL_RUNNING, f"{described['name']} is still running; follow it with status")
        time.sleep(session.poll_seconds)


def progress_lines(event: dict[str, Any], printed_results: set[str]) -> list[str]:
    """What one history event means to an operator (most events mean nothing new)."""
    at = event["timestamp"].strftime("%H:%M:%S")
    lines: list[str] = []
    if (entered := event.get("stateEnteredEventDetails")) and event["type"].removesuffix("StateEntered") in (
        PROGRESS_KINDS
    ):
        lines.append(f"{at}  -> {entered['name']}")
    elif failed := event.get("taskFailedEventDetails"):
        lines.append(f"{at}     ! {failed.get('error')}: {str(failed.get('cause', ''))[:300]}")
    elif (exited := event.get("stateExitedEventDetails")) and exited.get("output"):
        results = _json_object(exited["output"]).get("results") or {}
        for step, result in results.items():
            if step not in printed_results and isinstance(result, dict):
                printed_results.add(step)
                lines.append(f"{at}     {step}: {result.get('status')} - {result.get('message')}")
    return lines


def approval_hint(session: Session, described: dict[str, Any], request: dict[str, Any]) -> str:
    observed = (request.get("preflight") or {}).get("observed") or {}
    region = described["executionArn"].split(":")[3]
    requester = (request.get("request") or {}).get("requested_by", "unknown")
    return (
        f"WAITING FOR APPROVAL: {observed.get('approval_reason', 'approval required')} "
        f"(replication lag: {observed.get('replication_lag_seconds', 'unknown')} s, "
        f"RPO budget: {session.config.rpo_budget_seconds} s). Decide with runbooks/approval-decisions.md, then:\n"
        f"  switchyard approve --env {session.config.name} --region {region} "
        f"--execution {described['name']} --reason '<what you accept>'   (add --reject to stop)\n"
        f"A failover or failback is approved by someone other than its requester ({requester})."
    )


def summarize(session: Session, request: RunbookInput, described: dict[str, Any]) -> ExitCode:
    status = described["status"]
    output = _json_object(described.get("output") or "{}")
    if status != "SUCCEEDED":
        session.say(f"RUNBOOK {status}: {described.get('error', '')}")
        session.say(str(described.get("cause", "")))
        return ExitCode.RUNBOOK_FAILED
    if request.action is Action.DRY_RUN:
        preflight = output.get("preflight") or {}
        blockers = [f for f in preflight.get("findings", []) if f.get("severity") == Severity.BLOCKER]
        session.say(f"dry run for {request.target_region}: preflight {preflight.get('status')}")
        for finding in preflight.get("findings", []):
            session.say(f"  [{finding.get('severity')}] {finding.get('check')}: {finding.get('message')}")
        ready = not blockers and preflight.get("status") in OK_STATUSES
        session.say("READY: nothing blocks a runbook to this region" if ready else "NOT READY: see the blockers above")
        return ExitCode.OK if ready else ExitCode.NOT_READY
    if request.action is Action.PREPARE_FAILBACK:
        rejoin = (output.get("results") or {}).get("rejoin") or {}
        session.say(f"READY FOR FAILBACK: {rejoin.get('message', request.target_region)}")
        return ExitCode.OK
    session.say(f"RUNBOOK SUCCEEDED: {request.target_region} is active at epoch {output.get('epoch')}")
    for step, result in (output.get("results") or {}).items():
        session.say(f"  {step:<10} {result.get('status'):<11} {result.get('message')}")
    return ExitCode.OK


def run_status(args: argparse.Namespace, session: Session) -> ExitCode:
    config = session.config
    regions = [args.region] if args.region else list(config.regions.pair)
    for region in regions:
        check_region(config, region)
    session.say(
        f"{config.name} ({config.application}): primary {config.regions.primary}, standby {config.regions.standby}, "
        f"mode {config.mode}, RPO budget {config.rpo_budget_seconds} s"
    )
    code = ExitCode.OK
    store = session.state_store()
    for region in regions:
        session.say(f"[{region}]")
        try:
            desired = store.read_desired(region)
            lock = store.read_lock(region)
            executions = session.client("stepfunctions", region).list_executions(
                stateMachineArn=session.names.state_machine_arn(region), maxResults=5
            )["executions"]
        except (ClientError, BotoCoreError) as exc:
            session.say(f"  unreachable or incomplete: {exc}")
            code = ExitCode.AWS_ERROR
            continue
        if desired is None:
            session.say("  desired: none recorded")
        else:
            fenced = desired.fenced_region or "-"
            session.say(
                f"  desired: active {desired.active_region}, epoch {desired.epoch}, fenced {fenced}, "
                f"by {desired.updated_by} at {desired.updated_at} ({desired.reason})"
            )
        if lock is None:
            session.say("  lock: never taken")
        else:
            state = "HELD" if lock.held else "free"
            session.say(f"  lock: {state}, last holder {lock.holder}, epoch {lock.epoch}, since {lock.acquired_at}")
        for execution in executions:
            session.say(
                f"  run: {execution['name']:<40} {execution['status']:<10} {execution['startDate']:%Y-%m-%d %H:%M}"
            )
    return code


def run_approve(args: argparse.Namespace, session: Session) -> ExitCode:
    """Answer a waiting runbook as the caller's AWS identity; an approval that promote would
    refuse (approver = requester, less lag than measured) is refused here, before sending."""
    config = session.config
    refuse_identity_flag(args)
    check_region(config, args.region)
    note = args.reason
    if len(note.strip()) < 3:
        raise CliError(ExitCode.USAGE, "--reason must say what you accept or why you reject (3+ characters)")
    if args.accept_lag is not None and not 0 <= args.accept_lag < float("inf"):
        raise CliError(ExitCode.USAGE, f"--accept-lag must be a number of seconds >= 0, not {args.accept_lag}")
    sfn = session.client("stepfunctions", args.region)
    arn = session.execution_arn(args.region, args.execution)
    waiting = pending_approval(execution_history(sfn, arn))
    if waiting is None:
        raise CliError(ExitCode.USAGE, f"execution {args.execution} is not waiting for an approval")
    decided_by = caller_identity(session, args.region)
    observed = (waiting.request.get("preflight") or {}).get("observed") or {}
    session.say(
        f"{args.execution}: {observed.get('approval_reason', 'approval required')}; replication lag "
        f"{observed.get('replication_lag_seconds', 'unknown')} s (RPO budget {config.rpo_budget_seconds} s)"
    )
    verb = "reject" if args.reject else "approve"
    confirm(session, args, f"{verb} {args.execution}", expected=verb)
    if args.reject:
        sfn.send_task_failure(taskToken=waiting.task_token, error=REJECTION_ERROR, cause=f"{decided_by}: {note}")
        session.say(f"rejected {args.execution}; it stops without changing anything")
        return ExitCode.OK
    measured = observed.get("replication_lag_seconds")
    accepted = args.accept_lag if args.accept_lag is not None else measured
    try:
        approval = Approval(
            approved_by=decided_by, approved_at=datetime.now(UTC), note=note, accepted_lag_seconds=accepted
        )
        request = RunbookInput.model_validate(waiting.request.get("request"))
    except ValidationError as exc:
        raise CliError(ExitCode.USAGE, bounded(f"invalid approval: {exc.errors()[0]['msg']}")) from exc
    # The rule promote enforces. Whether promote will find the old primary reachable (an Aurora
    # switchover loses nothing) is unknown here, so every failover counts as data-losing.
    problems = approval_problems(
        approval,
        request,
        data_losing=request.action is Action.FAILOVER,
        measured_lag_seconds=measured,
        now=approval.approved_at,
        max_age_seconds=config.approvals.max_age_seconds,
    )
    if problems:
        raise CliError(ExitCode.USAGE, f"approval refused, nothing was sent: {'; '.join(problems)}")
    sfn.send_task_success(taskToken=waiting.task_token, output=approval.model_dump_json())
    lag = "an unknown lag" if accepted is None else f"a lag up to {accepted} s"
    session.say(f"approved {args.execution} as {decided_by}, accepting {lag}; it continues")
    return ExitCode.OK


def run_unlock(args: argparse.Namespace, session: Session) -> ExitCode:
    check_region(session.config, args.region)
    store = session.state_store()
    lock = store.read_lock(args.region)
    if lock is None or not lock.held:
        session.say("the lock is not held; nothing to do")
        return ExitCode.OK
    # The holder is an execution ARN (unique across regions): a name means --region's runbook.
    holder = session.execution_arn(args.region, args.execution)
    if lock.holder != holder:
        raise CliError(ExitCode.USAGE, f"the lock is held by {lock.holder!r}, not {holder!r}")
    sfn = session.client("stepfunctions", holder.split(":")[3])  # the region the execution runs in
    status = sfn.describe_execution(executionArn=holder)["status"]
    if status == "RUNNING":
        raise CliError(ExitCode.USAGE, f"{args.execution} is still running; it releases its own lock")
    confirm(session, args, f"release the lock of {args.execution} ({status}, epoch {lock.epoch})", expected="unlock")
    released = store.release_lock(args.region, holder=holder, now=datetime.now(UTC).isoformat())
    session.say(f"released the lock at epoch {lock.epoch}: {args.reason}" if released else "the lock changed; retry")
    return ExitCode.OK if released else ExitCode.AWS_ERROR


def run_acknowledge_lost_writes(args: argparse.Namespace, session: Session) -> ExitCode:
    """Record, as the caller's AWS identity, that the writes a data-losing failover may have
    lost (the old primary's snapshot) were dealt with: the one thing failback waits for.
    A conditional write: an epoch with no record, or one acknowledged already, is refused."""
    config = session.config
    region = check_region(config, args.region or config.regions.standby)
    if args.epoch < 1:
        raise CliError(ExitCode.USAGE, f"--epoch must be 1 or more, not {args.epoch}")
    if len(args.note.strip()) < 3:
        raise CliError(ExitCode.USAGE, "--note must say what was done with the lost writes (3+ characters)")
    store = session.state_store()
    record = store.read_lost_writes_record(region, epoch=args.epoch)
    if record is None:
        raise CliError(
            ExitCode.USAGE,
            f"nothing to acknowledge: no failover at epoch {args.epoch} in {config.name} recorded lost writes",
        )
    if record.get("acknowledged_by"):
        raise CliError(
            ExitCode.USAGE,
            f"nothing to acknowledge: epoch {args.epoch}'s lost writes were acknowledged by "
            f"{record['acknowledged_by']} at {record.get('acknowledged_at')}",
        )
    snapshot = record.get("snapshot")
    if not snapshot and not args.without_snapshot:
        raise CliError(
            ExitCode.USAGE,
            f"{record.get('old_primary')}'s database has not been snapshotted yet (its reconciler does it once the "
            "region is back); acknowledge after that, or pass --without-snapshot if it is gone for good",
        )
    by = caller_identity(session, region)
    session.say(
        f"epoch {args.epoch}: {record.get('old_primary')} -> {record.get('new_writer')} ({record.get('why')}); "
        f"snapshot {snapshot or 'none'}"
    )
    confirm(session, args, f"acknowledge the lost writes of epoch {args.epoch}", expected="acknowledge")
    if not store.acknowledge_lost_writes(
        region, epoch=args.epoch, by=by, at=datetime.now(UTC).isoformat(), note=args.note
    ):
        raise CliError(ExitCode.USAGE, f"epoch {args.epoch}'s record changed meanwhile (acknowledged by someone else?)")
    session.say(f"acknowledged the lost writes of epoch {args.epoch} as {by}")
    return ExitCode.OK


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


COMMANDS: dict[str, Callable[[argparse.Namespace, Session], ExitCode]] = {
    "status": run_status,
    "readiness": run_action,
    "approve": run_approve,
    "unlock": run_unlock,
    ACKNOWLEDGE_LOST_WRITES: run_acknowledge_lost_writes,
    **{action.value: run_action for action in Action},
}


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: Callable[[str], str] = input,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        config = load_environment(args.env)
        session = Session(config, args.endpoint_url, out, ask, args.poll_seconds)
        return int(COMMANDS[args.command](args, session))
    except ConfigError as exc:
        print(f"switchyard: {exc}", file=err)
        return ExitCode.USAGE
    except CliError as exc:
        print(f"switchyard: {exc}", file=err)
        return exc.code
    except (ClientError, BotoCoreError) as exc:
        print(f"switchyard: AWS call failed: {exc}", file=err)
        return ExitCode.AWS_ERROR
