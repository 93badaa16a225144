"""The RPO gate shared by preflight (to ask for approval) and promote (to refuse)."""

from __future__ import annotations


def data_loss_gate(lag_seconds: float | None, budget_seconds: int) -> str | None:
    """Why a data-losing promotion needs a human, or None when the lag is within budget."""
    if lag_seconds is None:
        return f"replication lag is unknown (RPO budget {budget_seconds}s)"
    if lag_seconds > budget_seconds:
        return f"replication lag {lag_seconds:.1f}s is above the RPO budget of {budget_seconds}s"
    return None
