"""Intake's use cases: a request or an event → the rules in `domain` → the store and the log."""
