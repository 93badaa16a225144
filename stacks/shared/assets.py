"""Where the Lambda code lives, and the runtime and Powertools layer it runs on.

Paths resolve from this module, so synth works from any working directory.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

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


def lambda_code() -> lambda_.Code:
    """The controller package (``lambdas/``) as a code asset. Each function binds its own;
    the CDK stages one copy per content hash, so every function deploys the same object."""
    return lambda_.Code.from_asset(str(LAMBDA_SOURCE_DIR), exclude=list(LAMBDA_ASSET_EXCLUDES))


def powertools_layer(scope: Construct, region: str) -> lambda_.ILayerVersion:
    """A reference (no resource) to the managed Powertools layer of ``region``."""
    return lambda_.LayerVersion.from_layer_version_arn(scope, "Powertools", powertools_layer_arn(region))
