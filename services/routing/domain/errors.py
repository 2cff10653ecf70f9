"""Routing's domain errors; `entrypoints.http.register_errors` maps them to statuses."""


class NotFound(LookupError):
    """Routing holds nothing under that name: a region, an office, an issue's routing."""
