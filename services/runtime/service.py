"""How one service runs: its parts, its HTTP app (with /livez, /readyz, /healthz and /metrics),
and serving it.

A service's composition root builds a `Runtime`, its store and handlers on top of it,
and hands its routers to `create_app`; `serve` runs the app in this process.

Every app answers:
- `/livez`: the process serves HTTP (always 200 while it does): what a restart policy watches;
- `/readyz`: Kafka and MongoDB answer (else 503): what a load balancer watches. An
  unreachable database makes a service not ready; it never makes it restart;
- `/healthz`: the same as `/readyz` (compose and the devkit wait on it);
- `/metrics`: the service's own metrics, HTTP requests by route template among them.
A request that fails validation is a 422 naming the field, whatever it sent (NaN included).
"""

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.exceptions import RequestValidationError
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.runtime.broker import EventPublisher, ensure_topics, make_broker
from services.runtime.consumer import BatchHandler, Handler, IssueLogConsumer
from services.runtime.http import RequestMetrics, SafeJSONResponse, guard, validation_failed
from services.runtime.logging import configure_logging, get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.mongo import Document, make_mongo_client
from services.runtime.settings import PlatformSettings, ServiceSettings

Hook = Callable[[], Awaitable[None]]

log = get_logger(__name__)


@dataclass
class Runtime:
    name: str
    settings: PlatformSettings
    broker: KafkaBroker
    mongo: AsyncMongoClient[Document]
    metrics: ServiceMetrics
    publisher: EventPublisher
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    before_metrics: list[Hook] = field(default_factory=list)

    def consume(self, handle: Handler, **options: Any) -> IssueLogConsumer:
        """Subscribe `handle` to the issue log, at least once, in this service's group."""
        return IssueLogConsumer(
            broker=self.broker,
            settings=self.settings,
            service=self.name,
            metrics=self.metrics,
            handle=handle,
            **options,
        )

    def consume_batch(self, handle_batch: BatchHandler, **options: Any) -> IssueLogConsumer:
        """Subscribe `handle_batch` to the issue log: a whole consumer batch at a time."""
        return IssueLogConsumer(
            broker=self.broker,
            settings=self.settings,
            service=self.name,
            metrics=self.metrics,
            handle_batch=handle_batch,
            **options,
        )

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.mongo[self.settings.database(self.name)]


def build_runtime(name: str, settings: PlatformSettings) -> Runtime:
    configure_logging(name, settings.log_level, settings.log_json)
    metrics = ServiceMetrics(name)
    broker = make_broker(settings, name)
    return Runtime(
        name=name,
        settings=settings,
        broker=broker,
        mongo=make_mongo_client(settings),
        metrics=metrics,
        publisher=EventPublisher(broker, settings, metrics),
    )


def create_app(runtime: Runtime, routers: Sequence[APIRouter] = (), **openapi: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(runtime.settings, runtime.name)
        for hook in runtime.on_startup:
            await hook()
        await runtime.broker.start()
        log.info("service.started", topic=runtime.settings.issues_topic)
        try:
            yield
        finally:
            for hook in runtime.on_shutdown:
                await hook()
            await runtime.broker.stop()
            await runtime.mongo.close()
            log.info("service.stopped")

    app = FastAPI(
        title=f"Huiyin {runtime.name}",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        **openapi,  # type: ignore[arg-type]
    )
    app.add_exception_handler(RequestValidationError, validation_failed)
    guard(app)
    app.add_middleware(RequestMetrics, metrics=runtime.metrics)

    @app.get("/livez", tags=["ops"])
    async def livez() -> Response:
        """Alive: this process answers HTTP. Never depends on Kafka or MongoDB."""
        return SafeJSONResponse({"status": "ok", "service": runtime.name})

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> Response:
        """Ready: Kafka and MongoDB answer (503 while either does not)."""
        checks = {
            "kafka": await runtime.broker.ping(timeout=2.0),
            "mongo": await _mongo_ok(runtime.mongo),
        }
        healthy = all(checks.values())
        body = {"status": "ok" if healthy else "unavailable", "service": runtime.name, **checks}
        return SafeJSONResponse(body, status_code=200 if healthy else 503)

    app.add_api_route("/healthz", readyz, methods=["GET"], tags=["ops"], summary="Healthz")

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        for hook in runtime.before_metrics:
            await hook()
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


async def _mongo_ok(client: AsyncMongoClient[Document]) -> bool:
    try:
        await asyncio.wait_for(client.admin.command("ping"), timeout=2.0)
    except Exception:
        return False
    return True


def collect_less(thresholds: tuple[int, int, int]) -> None:
    """Tune this process's garbage collector for a service: what exists now (modules, the
    app, configuration loaded at start) is frozen, never traversed again, and young objects
    are collected far less often than by default (700, 10, 10).

    A request or a batch allocates many short-lived objects and few cycles. With the default
    thresholds, intake, routing, reporting and notify spent 21-42 % of their CPU collecting
    over a `make bench` (supervision, tuned so since issue 17: 12 %), most of it in full
    collections of 100-300 ms while starting; once started and tuned, a few per cent at most."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app in this process, on the service's host and port."""
    collect_less(settings.gc_thresholds)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
