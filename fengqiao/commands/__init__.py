"""Verbs of the `fengqiao` command."""
