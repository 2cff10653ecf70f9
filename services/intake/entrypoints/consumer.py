"""Intake keeps its status view by reading the whole log, a consumer batch at a time."""

from services.intake.handlers.issues import IntakeHandlers
from services.runtime.service import Runtime


def subscribe(runtime: Runtime, intake: IntakeHandlers) -> None:
    runtime.consume_batch(intake.handle_batch)
