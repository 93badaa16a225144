"""Where the controller's code and runbook definition live, and the runtime they run on.

Paths resolve from this module, so synth works from any working directory.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SOURCE_DIR = REPOSITORY_ROOT / "lambdas"

LAMBDA_ASSET_EXCLUDES = (
    "**/__pycache__",
    "**/*.pyc",
    "**/.mypy_cache",
    "**/.pytest_cache",
    "**/.ruff_cache",
    "**/tests",
    "**/*.egg-info",
)

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64  # the architecture of every Switchyard function

# The AWS-managed "Powertools for AWS Lambda (Python)" v3 layer. Its name encodes the
# runtime and architecture above; bump the version when the managed layer moves on.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27


def powertools_layer_arn(region: str) -> str:
    """The managed Powertools v3 layer for RUNTIME/ARCHITECTURE in ``region``."""
    python = RUNTIME.name.replace(".", "")  # python3.12 -> python312; x86_64 is its own name
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-{ARCHITECTURE.name}:{POWERTOOLS_LAYER_VERSION}"
    )
