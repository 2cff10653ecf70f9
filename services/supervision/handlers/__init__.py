"""Supervision's use cases: the clock tracker (events of the log, firings, calendar reloads:
`tracker`) and the reads of the views (`views`), each from the request to the domain to the
adapters."""

from services.supervision.handlers.tracker import ClockRecords, ClockTracker, Publisher
from services.supervision.handlers.views import MAX_ROWS, ClockViews

__all__ = ["MAX_ROWS", "ClockRecords", "ClockTracker", "ClockViews", "Publisher"]
