"""Thin Powertools handlers: parse the event, build or take the deps, call the logic,
return JSON. Handler paths are the contract with the stacks (docs/architecture.md)."""
