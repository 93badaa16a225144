"""Image readiness on moto: the image the target region's launch template launches must
exist there and be ``available`` (AMIs are regional). Preflight blocks on it, the readiness
check reports it, the reconciler reports it without changing anything.

moto keeps launch templates, SSM parameters and images as stored state: a launch template
may name any id, so "absent" is a template version whose ImageId moto has no image for.
The drill registers its application image (APP_IMAGE_NAME) in each region and launches it.
Every image moto registers is ``available`` at once: an image still being copied is set
``pending`` by hand in moto's backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from drill.provision import APP_IMAGE_NAME
from switchyard.config import EnvironmentConfig
from switchyard.handlers import reconciler
from switchyard.model import Severity, StepStatus
from switchyard.reconciler import IMAGE_UNAVAILABLE_METRIC, reconcile_region
from switchyard.steps import STEPS
from switchyard.steps.readiness import target_readiness
from tests.controller.conftest import SCHEDULED_EVENT, Controller, FakeLambdaContext, _controller, failover_state

ABSENT_IMAGE = "ami-0123456789abcdef0"
IMAGE_PARAMETER = "/orders/app/ami"


def _launch(controller: Controller, region: str, image_id: str) -> None:
    """A new latest version of the region's launch template that launches ``image_id``."""
    controller.aws("ec2", region).create_launch_template_version(
        LaunchTemplateName=controller.topology.names.launch_template(region),
        SourceVersion="$Latest",
        LaunchTemplateData={"ImageId": image_id},
    )


def _registered_image(controller: Controller, region: str) -> str:
    """The drill's application image in ``region``."""
    images = controller.aws("ec2", region).describe_images(Filters=[{"Name": "name", "Values": [APP_IMAGE_NAME]}])
    image_id: str = images["Images"][0]["ImageId"]
    return image_id


def _preflight(controller: Controller) -> tuple[StepStatus, dict[str, str]]:
    controller.publish_lag(1.0)
    with controller.call_log.step("preflight"):
        result = STEPS["preflight"](failover_state(controller.config), controller.deps())
    blockers = {finding.check: finding.message for finding in result.findings if finding.severity == Severity.BLOCKER}
    return result.status, blockers


def test_the_standby_launches_an_available_image(rds: Controller) -> None:
    # GIVEN the provisioned standby (its launch template launches one of moto's images)
    standby = rds.config.regions.standby
    # WHEN the compute adapter reads the image its launch template launches
    with rds.call_log.step("preflight"):
        image = rds.deps().compute.image(standby)
    # THEN it is the standby's own copy of the image, available there
    assert (image.image_id, image.state, image.available) == (_registered_image(rds, standby), "available", True)
    assert image.launch_template == rds.topology.names.launch_template(standby)


def test_preflight_passes_the_image_when_the_standby_has_it(rds: Controller) -> None:
    # GIVEN the standby's image exists  WHEN preflight runs
    status, blockers = _preflight(rds)
    # THEN no image blocker, and preflight is ready
    assert "target-image" not in blockers
    assert status is StepStatus.NOOP


def test_preflight_blocks_a_failover_to_a_region_without_the_image(rds: Controller) -> None:
    # GIVEN the standby's launch template now launches an image the standby does not have
    standby = rds.config.regions.standby
    _launch(rds, standby, ABSENT_IMAGE)
    # WHEN preflight runs for a failover to the standby
    status, blockers = _preflight(rds)
    # THEN it stops for a human with a blocker naming the image and the region
    assert status is StepStatus.NEEDS_HUMAN
    assert list(blockers) == ["target-image"]
    assert ABSENT_IMAGE in blockers["target-image"]
    assert standby in blockers["target-image"]


def test_preflight_blocks_when_the_image_is_not_yet_available(rds: Controller) -> None:
    # GIVEN the standby launches a copied image still being copied (moto: state set by hand)
    standby = rds.config.regions.standby
    copied = rds.aws("ec2", standby).register_image(Name="app-copy", RootDeviceName="/dev/xvda")["ImageId"]
    _set_image_state(rds.config.account, standby, copied, "pending")
    _launch(rds, standby, copied)
    # WHEN preflight runs
    _, blockers = _preflight(rds)
    # THEN the image blocks, with its state
    assert "pending" in blockers["target-image"]


def _set_image_state(account: str, region: str, image_id: str, state: str) -> None:
    """moto registers every image ``available``; a copy in progress is modelled by hand."""
    from moto.backends import get_backend  # noqa: PLC0415 - moto internals, only here

    get_backend("ec2")[account][region].amis[image_id].state = state


def test_the_readiness_check_reports_a_missing_image(rds: Controller) -> None:
    # GIVEN the standby launches an absent image
    standby = rds.config.regions.standby
    _launch(rds, standby, ABSENT_IMAGE)
    # WHEN the target's readiness is read (wait_ready and verify use it)
    with rds.call_log.step("wait_ready"):
        readiness = target_readiness(rds.deps(), standby)
    # THEN it is not ready, saying which image is missing where
    assert readiness.ready is False
    assert any(ABSENT_IMAGE in line and standby in line for line in readiness.missing), readiness.missing
    assert readiness.observed["image"]["image_id"] == ABSENT_IMAGE


def test_the_reconciler_reports_a_missing_image_and_changes_nothing(rds: Controller) -> None:
    # GIVEN the standby launches an absent image
    standby = rds.config.regions.standby
    _launch(rds, standby, ABSENT_IMAGE)
    # WHEN the standby's reconciler runs its constant work
    with rds.call_log.step("reconciler"):
        convergence = reconcile_region(rds.deps(standby))
    # THEN its result reports the image, and the capacity stayed where it was
    assert convergence.image_unavailable is True
    assert convergence.as_dict()["image"]["image_id"] == ABSENT_IMAGE
    assert convergence.before == convergence.after


def test_the_reconciler_handler_logs_and_counts_the_missing_image(
    rds: Controller,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the standby launches an absent image, and the reconciler's metrics are on
    standby = rds.config.regions.standby
    _launch(rds, standby, ABSENT_IMAGE)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    reconciler.metrics.clear_metrics()  # what earlier invocations left unflushed (metrics were off)
    errors: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(reconciler.logger, "error", lambda message, extra: errors.append((message, extra)))
    # WHEN the standby's reconciler function runs
    result = reconciler.handler(SCHEDULED_EVENT, lambda_context, deps=rds.deps(standby))
    # THEN it succeeds, returns the image, logs an error naming it and counts it
    assert result["image"]["image_id"] == ABSENT_IMAGE
    assert [(message, extra["image"]["image_id"]) for message, extra in errors] == [
        ("launch image not available", ABSENT_IMAGE)
    ]
    counts = [json.loads(line) for line in capfd.readouterr().out.splitlines() if IMAGE_UNAVAILABLE_METRIC in line]
    assert [count[IMAGE_UNAVAILABLE_METRIC] for count in counts] == [[1.0]]


def test_the_reconciler_reports_an_available_image_as_such(rds: Controller) -> None:
    # GIVEN the provisioned standby  WHEN its reconciler runs
    with rds.call_log.step("reconciler"):
        convergence = reconcile_region(rds.deps(rds.config.regions.standby))
    # THEN the image is read and available
    assert convergence.image is not None
    assert convergence.image_unavailable is False


# -- an image named by an SSM parameter (resolved by EC2 at launch) ----------------------------
@pytest.fixture
def ssm_images(dev_config: EnvironmentConfig) -> Iterator[Controller]:
    """dev whose workload names its image by an SSM parameter (synthesized with that grant)."""
    workload = dev_config.workload.model_copy(update={"image_parameter": IMAGE_PARAMETER})
    yield from _controller(dev_config.model_copy(update={"workload": workload}))


def test_preflight_resolves_the_image_parameter_in_the_target_region(ssm_images: Controller) -> None:
    # GIVEN the standby's template resolves the parameter, which holds an image the standby has
    standby = ssm_images.config.regions.standby
    _launch(ssm_images, standby, f"resolve:ssm:{IMAGE_PARAMETER}")
    image_id = _registered_image(ssm_images, standby)
    ssm_images.aws("ssm", standby).put_parameter(Name=IMAGE_PARAMETER, Value=image_id, Type="String")
    # WHEN preflight runs
    status, blockers = _preflight(ssm_images)
    # THEN the image passes (the parameter was read in the standby, with the function's grant)
    assert "target-image" not in blockers
    assert status is StepStatus.NOOP


def test_preflight_blocks_when_the_image_parameter_is_missing_in_the_target(ssm_images: Controller) -> None:
    # GIVEN the standby's template resolves a parameter that exists only in the primary
    standby = ssm_images.config.regions.standby
    _launch(ssm_images, standby, f"resolve:ssm:{IMAGE_PARAMETER}")
    primary = ssm_images.config.regions.primary
    ssm_images.aws("ssm", primary).put_parameter(
        Name=IMAGE_PARAMETER, Value=_registered_image(ssm_images, primary), Type="String"
    )
    # WHEN preflight runs
    _, blockers = _preflight(ssm_images)
    # THEN it blocks, naming the parameter and the region
    assert IMAGE_PARAMETER in blockers["target-image"]
    assert standby in blockers["target-image"]
