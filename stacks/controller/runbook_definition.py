"""Where the runbook's definition lives: ``runbook.asl.json`` beside the construct that
deploys it. A plain module (no CDK import), so the drill reads the same file."""

from __future__ import annotations

from pathlib import Path

RUNBOOK_DEFINITION = Path(__file__).resolve().parent / "runbook.asl.json"
