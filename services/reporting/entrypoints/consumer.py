"""Reporting's subscription to the event log: every event is counted (handlers.py)."""

from services.reporting.handlers import ReportingHandlers
from services.runtime.service import Runtime


def subscribe(runtime: Runtime, handlers: ReportingHandlers) -> None:
    runtime.consume(handlers.handle)
