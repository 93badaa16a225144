"""Constructs, one per concern, that the Switchyard stacks compose."""
