"""Reporting's subscription to the event log: a batch of events is counted at once
(handlers.py)."""

from services.reporting.handlers import ReportingHandlers
from services.runtime.service import Runtime


def subscribe(runtime: Runtime, handlers: ReportingHandlers) -> None:
    runtime.consume_batch(handlers.handle_batch)
