"""What a handler learns from its Lambda environment, and the deps it builds from it.

``SWITCHYARD_CONFIG`` (the EnvironmentConfig as JSON) and ``AWS_REGION``. Deps are built
on first use and kept for the life of the container (clients are reused across
invocations); the drill and tests inject theirs with :func:`override_deps` or by
passing ``deps=`` to a handler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from switchyard.config import ConfigError, EnvironmentConfig, _describe
from switchyard.contract import CONFIG_VARIABLE, REGION_VARIABLE
from switchyard.deps import RunbookDeps, build_runbook_deps

ModelT = TypeVar("ModelT", bound=BaseModel)

_cache: dict[tuple[str, ...], RunbookDeps] = {}
_override: list[RunbookDeps] = []


def describe_validation_error(exc: ValidationError) -> str:
    """The same "field 'x': why" wording the configuration loader uses."""
    return _describe(exc)


def parse_event(model: type[ModelT], event: object, error: type[Exception], what: str) -> ModelT:
    """Validate ``event`` as ``model`` or raise ``error`` naming each bad field."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise error(f"not {what}: {describe_validation_error(exc)}") from exc


def environment_config() -> EnvironmentConfig:
    raw = os.environ.get(CONFIG_VARIABLE)
    if not raw:
        raise ConfigError(f"environment variable {CONFIG_VARIABLE} is not set (the EnvironmentConfig as JSON)")
    try:
        return EnvironmentConfig.model_validate_json(raw)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        raise ConfigError(f"{CONFIG_VARIABLE} is not a valid EnvironmentConfig: {problem}") from exc


def current_region() -> str:
    region = os.environ.get(REGION_VARIABLE)
    if not region:
        raise ConfigError(f"environment variable {REGION_VARIABLE} is not set")
    return region


def handler_deps(deps: RunbookDeps | None = None) -> RunbookDeps:
    """The deps passed in, else the overriding ones, else the container's own."""
    if deps is not None:
        return deps
    if _override:
        return _override[-1]
    key = (
        os.environ.get(CONFIG_VARIABLE, ""),
        os.environ.get(REGION_VARIABLE, ""),
        os.environ.get("AWS_ENDPOINT_URL", ""),
    )
    if key not in _cache:
        _cache.clear()
        _cache[key] = build_runbook_deps(environment_config(), current_region())
    return _cache[key]


def forget_cached_deps() -> None:
    """Drop the container's deps (tests and harnesses that change the environment)."""
    _cache.clear()


@contextmanager
def override_deps(deps: RunbookDeps) -> Iterator[RunbookDeps]:
    """Every handler invoked inside the block uses ``deps`` (drill, state machine harness)."""
    _override.append(deps)
    try:
        yield deps
    finally:
        _override.remove(deps)
