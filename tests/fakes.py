"""The unit tier's fakes of every port: the in-memory implementations in
``switchyard_sim.memory`` (no moto, no CDK, no drill), under the name the tests import; and
two small shapes several test tiers share (a Lambda context on a test clock, a step result)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchyard_sim.memory import *  # noqa: F403


@dataclass
class LambdaContextOnTheClock:
    """The Lambda context Powertools reads, whose remaining time runs on a test's clock."""

    deadline: datetime
    clock: Callable[[], datetime]
    function_name: str = "switchyard-monitor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:111111111111:function:switchyard-monitor"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.clock()).total_seconds() * 1000)


def step_result(step: str, status: str = "done", **observed: Any) -> dict[str, Any]:
    """A StepResult as the handlers return it (switchyard.model.StepResult)."""
    return {
        "step": step,
        "status": status,
        "message": f"{step} {status}",
        "observed": observed,
        "actions": [],
        "findings": [],
        "duration_ms": 5,
    }
