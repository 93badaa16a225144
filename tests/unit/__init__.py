"""Switchyard tests."""
