"""A provisioned environment on a moto server in this process, for running the operator
CLI (``bin/switchyard``) as a separate process against it, exactly as an operator types it.

The wiring is the drill's own (drill.runner.run_scenario up to the fault): the same
provisioning, the standby's runbook deployed into moto with every Lambda task running the
real step handler in this process (drill/stepfunctions.py; the patch on moto's Lambda
``invoke`` only reaches a server in this process, which is why the server runs here and
the CLI elsewhere), the drill's deps (modelled database promotion, Route 53 and global-table
replication), and two steady-state controller minutes so the heartbeats exist. The CLI
finds the server through ``AWS_ENDPOINT_URL``, which boto3 honours for every client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from drill.clock import DrillClock
from drill.emulation import moto_server
from drill.provision import provision
from drill.runner import QUIET_ENVIRONMENT, STEADY_STATE_EVALUATIONS, Drill
from drill.scenarios import SCENARIOS
from drill.stepfunctions import local_runbook, scoped_environment
from switchyard.config import EnvironmentConfig
from switchyard.handlers.environment import override_deps
from switchyard.model import DesiredState


@dataclass
class OperatorWorld:
    """The endpoint to point the CLI at, and the drill that serves it."""

    endpoint_url: str
    drill: Drill

    def desired(self, region: str) -> DesiredState | None:
        """That region's replica of the desired state, after replicating what changed."""
        self.drill.background()
        return self.drill.world_state.read_desired(region)


@contextmanager
def operator_world(config: EnvironmentConfig) -> Iterator[OperatorWorld]:
    """Both regions provisioned, the standby's runbook deployed, controllers at steady state."""
    standby = config.regions.standby
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log, as the drill does
    with ExitStack() as stack:
        stack.enter_context(scoped_environment(QUIET_ENVIRONMENT))
        endpoint = stack.enter_context(moto_server())
        runbook = stack.enter_context(local_runbook(config, standby, endpoint_url=endpoint))
        # the CLI stamps approvals with the wall clock, as the handlers' clock is in AWS: this
        # drill's timeline starts now (the drill's own starts on a fixed date for its reports)
        drill = Drill(config, SCENARIOS["switchover"], endpoint, lambda _line: None, clock=DrillClock())
        provision(config, endpoint_url=endpoint)
        runbook.deploy()
        stack.enter_context(override_deps(drill.deps[standby]))
        drill.background()
        drill.workload.start(on_tick=drill.background, every=20)  # the global table replicates as in AWS
        stack.callback(drill.workload.stop)
        for _ in range(STEADY_STATE_EVALUATIONS):
            drill.clock.advance(config.detection.evaluation_interval_seconds)
            drill.evaluate_monitors()
        yield OperatorWorld(endpoint, drill)
