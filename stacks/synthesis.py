"""Synthesize the whole app in-process, exactly as the CDK CLI runs app.py, once per process.

The stack tests, the calls-against-policy check and the drill-world check all read the
same synthesized templates; synthesizing an environment takes seconds, so each process
does it once per configuration and keeps the cloud assembly until it exits.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api

from stacks.app_builder import SwitchyardApp, compose_app
from stacks.nag import check_acknowledgements
from switchyard.config import EnvironmentConfig

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def cli_context() -> dict[str, Any]:
    """The context the CDK CLI passes: cdk.json's feature flags plus cdk.context.json."""
    context: dict[str, Any] = json.loads((REPOSITORY_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    context.update(json.loads((REPOSITORY_ROOT / "cdk.context.json").read_text(encoding="utf-8")))
    return context


@dataclass(frozen=True)
class Synthesized:
    """One environment's app, synthesized: the stack objects and the cloud assembly."""

    config: EnvironmentConfig
    app: SwitchyardApp
    assembly: cx_api.CloudAssembly
    outdir: Path


def synthesize(config: EnvironmentConfig, outdir: Path) -> Synthesized:
    """Compose and synthesize ``config``'s app into ``outdir``; cdk-nag and CloudFormation
    validation run during synth, which raises if either reports an unacknowledged error, or
    if an acknowledgement matches no finding (``stacks.nag``)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # as the Makefile does
    app = cdk.App(context=cli_context(), outdir=str(outdir))
    composed = compose_app(app, config)
    assembly = app.synth()
    check_acknowledgements(app, assembly.directory)
    return Synthesized(config=config, app=composed, assembly=assembly, outdir=outdir)


@functools.cache
def _synthesized(config_json: str) -> Synthesized:
    config = EnvironmentConfig.model_validate_json(config_json)
    outdir = Path(tempfile.mkdtemp(prefix=f"switchyard-cdk-{config.name}-"))
    atexit.register(shutil.rmtree, outdir, ignore_errors=True)
    return synthesize(config, outdir)


def synthesized(config: EnvironmentConfig) -> Synthesized:
    """``config``'s app, synthesized once per process and configuration."""
    return _synthesized(config.model_dump_json())
