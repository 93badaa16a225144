"""The JSONPath subset and the intrinsic functions of Amazon States Language (JSONPath query
language) that the runbook uses, compiled once so a definition that needs more fails on load.

Paths: ``$``, ``$.a.b``, ``$[0].a``, ``$.a[1]``, ``$['a b']`` and the context object
(``$$.Execution.Id`` ...). No wildcards, filters or slices. Intrinsics: ``States.Format``,
``States.JsonMerge``, ``States.MathAdd``, ``States.StringToJson``, ``States.JsonToString``,
``States.Array``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

RUNTIME = "States.Runtime"
INTRINSIC_FAILURE = "States.IntrinsicFailure"


class UnsupportedAsl(ValueError):  # noqa: N818 - the name the brief and callers use
    """The definition uses a state type, field, path or function this interpreter does not implement."""


class StatesError(Exception):
    """An ASL error with a name Retry/Catch match on (``States.Timeout``, a Lambda errorType...)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


_FIELD = re.compile(r"\.([^.\[\]'\s()]+)")
_INDEX = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"\['([^']*)'\]")


def _has(value: Any, step: str | int) -> bool:
    if isinstance(step, int):
        return isinstance(value, list) and 0 <= step < len(value)
    return isinstance(value, dict) and step in value


@dataclass(frozen=True)
class Path:
    """A compiled reference path: from the input (``$``) or the context object (``$$``)."""

    text: str
    context: bool
    steps: tuple[str | int, ...]

    def get(self, data: Any, context: Any) -> Any:
        """The value at this path; StatesError(States.Runtime) when it does not exist."""
        value = context if self.context else data
        for step in self.steps:
            if not _has(value, step):
                raise StatesError(RUNTIME, f"The JSONPath '{self.text}' could not be found in the input")
            value = value[step]
        return value

    def exists(self, data: Any, context: Any) -> bool:
        try:
            self.get(data, context)
        except StatesError:
            return False
        return True

    def put(self, data: Any, value: Any) -> Any:
        """A copy of ``data`` with ``value`` at this path (ResultPath), creating missing objects."""
        if not self.steps:
            return value
        result = copy.deepcopy(data)
        if not isinstance(result, dict):
            raise StatesError(RUNTIME, f"Unable to apply ResultPath '{self.text}' to a non-object input")
        node = result
        for step in self.steps[:-1]:
            assert isinstance(step, str)  # compile_path(result_path=True) allows fields only
            child = node.setdefault(step, {})
            if not isinstance(child, dict):
                raise StatesError(RUNTIME, f"Unable to apply ResultPath '{self.text}': '{step}' is not an object")
            node = child
        last = self.steps[-1]
        assert isinstance(last, str)
        node[last] = value
        return result


def compile_path(text: str, *, where: str, result_path: bool = False) -> Path:
    """Compile a reference path; UnsupportedAsl naming ``where`` for anything outside the subset."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise UnsupportedAsl(f"{where}: path {text!r}")
    context = text.startswith("$$")
    if context and result_path:
        raise UnsupportedAsl(f"{where}: path {text!r}")
    rest = text[2:] if context else text[1:]
    steps: list[str | int] = []
    while rest:
        for pattern, convert in ((_FIELD, str), (_QUOTED, str), (_INDEX, int)):
            match = pattern.match(rest)
            if match:
                steps.append(convert(match.group(1)))
                rest = rest[match.end() :]
                break
        else:
            raise UnsupportedAsl(f"{where}: path {text!r}")
    if result_path and any(isinstance(step, int) for step in steps):
        raise UnsupportedAsl(f"{where}: path {text!r}")
    return Path(text, context, tuple(steps))


# -- intrinsic functions ------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A literal argument; for a string, ``parts`` are the pieces between unescaped ``{}``."""

    value: Any
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Literal | Path | Call, ...]


def _format(args: list[Any], first: Literal | Path | Call) -> str:
    template, values = args[0], args[1:]
    if not isinstance(template, str):
        raise StatesError(INTRINSIC_FAILURE, "States.Format: the first argument must be a string")
    parts = list(first.parts) if isinstance(first, Literal) else template.split("{}")
    if len(parts) - 1 != len(values):
        raise StatesError(
            INTRINSIC_FAILURE, f"States.Format: {len(parts) - 1} placeholders for {len(values)} arguments"
        )
    out = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        out.extend((format_value(value), part))
    return "".join(out)


def format_value(value: Any) -> str:
    """How States.Format prints an argument (as moto/LocalStack record it from AWS): strings as is,
    other scalars as JSON, objects as ``{k=v, ...}`` and arrays as ``[a, b]``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={format_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _json_merge(args: list[Any]) -> Any:
    if len(args) != 3 or not all(isinstance(a, dict) for a in args[:2]) or args[2] is not False:
        raise StatesError(INTRINSIC_FAILURE, "States.JsonMerge takes two objects and false (shallow merge)")
    return {**args[0], **args[1]}


def _math_add(args: list[Any]) -> Any:
    if len(args) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        raise StatesError(INTRINSIC_FAILURE, "States.MathAdd takes two integers")
    return args[0] + args[1]


def _string_to_json(args: list[Any]) -> Any:
    if len(args) != 1 or not isinstance(args[0], str):
        raise StatesError(INTRINSIC_FAILURE, "States.StringToJson takes one string")
    try:
        return json.loads(args[0])
    except ValueError as exc:
        raise StatesError(INTRINSIC_FAILURE, f"States.StringToJson: {exc}") from exc


def _json_to_string(args: list[Any]) -> Any:
    if len(args) != 1:
        raise StatesError(INTRINSIC_FAILURE, "States.JsonToString takes one argument")
    return json.dumps(args[0], separators=(",", ":"))


INTRINSICS: dict[str, Callable[[list[Any]], Any]] = {
    "States.JsonMerge": _json_merge,
    "States.MathAdd": _math_add,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": list,
}


def evaluate(expression: Literal | Path | Call, data: Any, context: Any) -> Any:
    """The value of a compiled path or intrinsic call against ``data`` and the context object."""
    if isinstance(expression, Literal):
        return copy.deepcopy(expression.value)
    if isinstance(expression, Path):
        return copy.deepcopy(expression.get(data, context))
    args = [evaluate(arg, data, context) for arg in expression.args]
    if expression.name == "States.Format":
        if not expression.args:
            raise StatesError(INTRINSIC_FAILURE, "States.Format needs a template")
        return _format(args, expression.args[0])
    return INTRINSICS[expression.name](args)


class _Parser:
    """Recursive descent over ``States.Name(arg, ...)``; string literals in single quotes, with
    ``\\'``, ``\\{``, ``\\}`` and ``\\\\`` as the escapes AWS defines."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.pos = 0

    def fail(self) -> UnsupportedAsl:
        return UnsupportedAsl(f"{self.where}: intrinsic {self.text!r}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> Call:
        match = re.compile(r"States\.[A-Za-z]+").match(self.text, self.pos)
        if not match:
            raise self.fail()
        name = match.group(0)
        if name != "States.Format" and name not in INTRINSICS:
            raise UnsupportedAsl(f"{self.where}: {name}")
        self.pos = match.end()
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.fail()
        self.pos += 1
        args: list[Literal | Path | Call] = []
        self.skip_spaces()
        if self.text[self.pos : self.pos + 1] == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            self.skip_spaces()
            args.append(self.argument())
            self.skip_spaces()
            separator = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if separator == ")":
                return Call(name, tuple(args))
            if separator != ",":
                raise self.fail()

    def argument(self) -> Literal | Path | Call:
        head = self.text[self.pos : self.pos + 1]
        if head == "'":
            return self.string()
        if self.text.startswith("States.", self.pos):
            return self.call()
        match = re.compile(r"[^,()\s]+").match(self.text, self.pos)
        if not match:
            raise self.fail()
        token = match.group(0)
        self.pos = match.end()
        if token.startswith("$"):
            return compile_path(token, where=self.where)
        try:
            return Literal(json.loads(token))
        except ValueError as exc:
            raise self.fail() from exc

    def string(self) -> Literal:
        self.pos += 1
        parts: list[str] = []
        current: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in {"'", "{", "}", "\\"}:
                    raise self.fail()
                current.append(escaped)
                self.pos += 2
            elif char == "'":
                self.pos += 1
                parts.append("".join(current))
                return Literal("{}".join(parts), tuple(parts))
            elif self.text.startswith("{}", self.pos):
                parts.append("".join(current))
                current = []
                self.pos += 2
            else:
                current.append(char)
                self.pos += 1
        raise self.fail()


def compile_expression(text: str, *, where: str) -> Path | Call:
    """A ``.$`` value: a path or an intrinsic call."""
    if text.startswith("$"):
        return compile_path(text, where=where)
    parser = _Parser(text, where)
    call = parser.call()
    if parser.text[parser.pos :].strip():
        raise parser.fail()
    return call


# -- payload templates (Parameters, ResultSelector) -------------------------------------------


@dataclass(frozen=True)
class Template:
    """A compiled Parameters/ResultSelector object: ``key.$`` values are evaluated, others copied."""

    fields: tuple[tuple[str, Any], ...]

    def render(self, data: Any, context: Any) -> dict[str, Any]:
        return {key: _render(value, data, context) for key, value in self.fields}


def _render(value: Any, data: Any, context: Any) -> Any:
    if isinstance(value, Template):
        return value.render(data, context)
    if isinstance(value, Path | Call):
        return evaluate(value, data, context)
    if isinstance(value, list):
        return [_render(item, data, context) for item in value]
    return copy.deepcopy(value)


def compile_template(value: Any, *, where: str) -> Any:
    """Compile a payload template recursively (objects in arrays stay literal, as in AWS)."""
    if isinstance(value, Mapping):
        fields: list[tuple[str, Any]] = []
        for key, item in value.items():
            if key.endswith(".$"):
                if not isinstance(item, str):
                    raise UnsupportedAsl(f"{where}: {key}")
                fields.append((key[:-2], compile_expression(item, where=f"{where}: {key}")))
            else:
                fields.append((key, compile_template(item, where=where)))
        return Template(tuple(fields))
    return value
