"""Reporting's outside world: the MongoDB store of the issue facts."""
