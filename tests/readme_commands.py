"""The shell commands README.md shows, as a reader would copy them: every line of a
```sh block, every inline code span that starts with a command, and every inline span
that is an option of the command before it (``--json``). tests/test_readme_commands.py
says how each one runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
README = REPOSITORY_ROOT / "README.md"

SHELL_FENCES = frozenset({"sh", "bash", "shell", "console", "zsh"})
COMMAND_WORDS = frozenset(
    {"make", "cdk", "npx", "npm", "node", "python", "python3", "pip", "pytest", "ruff", "mypy", "switchyard",
     "aws", "git", "bash", "sh", "docker", "curl"}
)  # fmt: skip
COMMAND_PREFIXES = (".venv/bin/", "bin/", "node_modules/.bin/", "./", ".ci/")
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
TRAILING_COMMENT = re.compile(r"\s+#.*$")

Kind = Literal["block", "inline", "option"]


@dataclass(frozen=True)
class ShownCommand:
    """One command as the README shows it; ``line`` is where it first appears (1-based)."""

    text: str
    line: int
    kind: Kind


def is_command(span: str) -> bool:
    """Does an inline code span start with something a shell runs?"""
    first = span.split(maxsplit=1)[0]
    return first in COMMAND_WORDS or first.startswith(COMMAND_PREFIXES)


def is_option(span: str) -> bool:
    """An option shown on its own (``--json``): it belongs to the command before it."""
    return re.match(r"^--?[A-Za-z]", span) is not None


def shown_commands(markdown: str) -> list[ShownCommand]:
    """Every command the README shows, first appearance only, in reading order."""
    found: dict[str, ShownCommand] = {}
    fence: str | None = None
    fence_language = ""
    for number, line in enumerate(markdown.splitlines(), start=1):
        if opening := FENCE.match(line):
            if fence is None:
                fence, fence_language = opening.group(1), opening.group(2).lower()
            elif opening.group(1).startswith(fence) and not opening.group(2):
                fence = None
            continue
        if fence is not None:
            if fence_language in SHELL_FENCES:
                text = TRAILING_COMMENT.sub("", line.removeprefix("$ ")).strip()
                if text and not text.startswith("#"):
                    found.setdefault(text, ShownCommand(text, number, "block"))
            continue
        for span in INLINE_CODE.findall(line):
            text = span.replace("\\|", "|").strip()  # a table cell escapes "|" even in code; it renders as "|"
            if not text:
                continue
            if is_command(text):
                found.setdefault(text, ShownCommand(text, number, "inline"))
            elif is_option(text):
                found.setdefault(text, ShownCommand(text, number, "option"))
    return list(found.values())


def readme_commands(path: Path = README) -> list[ShownCommand]:
    return shown_commands(path.read_text(encoding="utf-8"))
