"""The subscription: every event of the issue log, to `NotifyHandlers.handle`."""

from services.notify.handlers import NotifyHandlers
from services.runtime.consumer import IssueLogConsumer
from services.runtime.service import Runtime


def subscribe(
    runtime: Runtime, handlers: NotifyHandlers, group_id: str | None = None
) -> IssueLogConsumer:
    return runtime.consume(handlers.handle, group_id=group_id)
