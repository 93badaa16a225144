#!/usr/bin/env python3
"""CDK entry point: ``cdk synth --all -c env=<name>``.

The only place that reads context; everything below receives the typed configuration.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.app_builder import compose_app
from stacks.nag import StaleAcknowledgementError, check_acknowledgements
from switchyard.config import ConfigError, available_environments, load_environment


def main() -> None:
    app = cdk.App()
    env_name = app.node.try_get_context("env")
    if not env_name:
        known = ", ".join(available_environments()) or "none"
        sys.exit(f"Switchyard: choose an environment with -c env=<name> (known: {known})")
    try:
        config = load_environment(str(env_name))
    except ConfigError as exc:
        sys.exit(f"Switchyard: {exc}")
    compose_app(app, config)
    assembly = app.synth()
    try:
        check_acknowledgements(app, assembly.directory)
    except StaleAcknowledgementError as exc:
        sys.exit(f"Switchyard: {exc}")


if __name__ == "__main__":
    main()
