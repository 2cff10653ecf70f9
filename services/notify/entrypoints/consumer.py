"""The subscription: every event of the issue log, a consumer batch at a time, to
`NotifyHandlers.handle_batch`."""

from services.notify.handlers import NotifyHandlers
from services.runtime.consumer import IssueLogConsumer
from services.runtime.service import Runtime


def subscribe(
    runtime: Runtime, handlers: NotifyHandlers, group_id: str | None = None
) -> IssueLogConsumer:
    return runtime.consume_batch(handlers.handle_batch, group_id=group_id)
