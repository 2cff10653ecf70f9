"""Routing's outside world: its MongoDB store and the city's configuration files."""
