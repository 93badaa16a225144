"""The runbook steps, one module per name in ``switchyard.contract.STEP_NAMES``.

Each step is a plain function ``(state: RunbookState, deps: RunbookDeps) -> StepResult``
that observes first and is a no-op when its work is already done. Every safe stop is a
``needs_human`` result. A step raises :class:`RetryableStepError` itself only for "not
ready yet"; AWS errors it does not handle propagate as they are, and the step handler
(``switchyard.handlers.runbook``) is the one place that names them for the state machine.
"""

from __future__ import annotations

from collections.abc import Callable

from switchyard.model import StepResult
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import RetryableStepError
from switchyard.steps.fence import fence_old_primary
from switchyard.steps.flip import flip_traffic
from switchyard.steps.lock import take_runbook_lock
from switchyard.steps.preflight import preflight_checks
from switchyard.steps.promote import promote_standby_database
from switchyard.steps.record import record_and_notify
from switchyard.steps.rejoin import rejoin_old_primary
from switchyard.steps.release import release_runbook_lock
from switchyard.steps.scale_up import scale_up_standby
from switchyard.steps.validate import validate_request
from switchyard.steps.verify import verify_failover
from switchyard.steps.wait_ready import wait_until_ready

# The deps type is RunbookDeps; Callable[..., StepResult] keeps this import-cycle free.
STEPS: dict[str, Callable[..., StepResult]] = {
    "validate": validate_request,
    "lock": take_runbook_lock,
    "preflight": preflight_checks,
    "fence": fence_old_primary,
    "promote": promote_standby_database,
    "scale_up": scale_up_standby,
    "wait_ready": wait_until_ready,
    "flip": flip_traffic,
    "verify": verify_failover,
    "release": release_runbook_lock,
    "record": record_and_notify,
    "rejoin": rejoin_old_primary,
}

__all__ = ["STEPS", "RetryableStepError", "RunbookState"]
