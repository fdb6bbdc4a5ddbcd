"""Prometheus exposition: this process's counters and histograms, and the queue read at scrape time.

One `Metrics` object per process (`PROCESS`), on a `CollectorRegistry` of its
own (not prometheus_client's global one): the process is what Prometheus
scrapes. Every process exposes its own page — `posegen serve` on `/metrics`
outside the app prefix, `posegen worker` on a small listener of its own
(`POSEGEN_METRICS_WORKER_PORT` / `--metrics-port`) — and Prometheus sums the
counters over the scraped targets (docs/decisions.md, "Prometheus"). The
multiprocess mode of prometheus_client is not used: posegen never forks
workers that share a port.

Counters count what *this* process did, after it committed (a rolled-back or
retried unit of work counts nothing). Gauges about the queue are read from the
database at scrape time, so every process reports the same cluster-wide value:
aggregate them with `max`, not `sum`.

Both pages need `Authorization: Bearer <POSEGEN_METRICS_TOKEN>`; without the
setting they answer 404, with a missing or wrong token 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.config import Settings
from posegen.db import Database, UnitOfWorkRoute
from posegen.dependencies import ServicesDep, SettingsDep
from posegen.errors import NotFound, Unauthorized, install_error_handlers
from posegen.kit.time import utcnow

if TYPE_CHECKING:
    from posegen.admin.metrics_repository import QueueSnapshot

    # Reads the queue gauges in one transaction: the admin metrics' function, handed over by
    # posegen/services.py, so that observability imports no domain package.
    ReadQueue = Callable[[AsyncSession], Awaitable[tuple[QueueSnapshot, int]]]

log = structlog.get_logger(__name__)

PATH = "/metrics"
UNMATCHED_ROUTE = "<unmatched>"
# Render times of the mannequin are milliseconds, of FLUX tens of seconds: buckets for both.
ENGINE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180)
# Pose check scores are 0–1; the default minimum (0.5) and the mannequin's median (~0.87) fall inside.
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
WAIT_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600)


class Metrics:
    """posegen's counters, histograms and gauges on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Histogram(
            "posegen_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ("method", "route", "status"),
            registry=r,
        )
        self.poses_finished = Counter(
            "posegen_poses_finished_total",
            "Poses this process moved to a final status (completed, failed, canceled).",
            ("status",),
            registry=r,
        )
        self.pose_retries = Counter(
            "posegen_pose_retries_total",
            "Pose attempts that failed transiently and were queued again, by error code.",
            ("code",),
            registry=r,
        )
        self.claims = Histogram(
            "posegen_claim_duration_seconds",
            "Duration of the claim transaction that took each pose (one per pose claimed, result claimed), "
            "or of a claim that found none (result empty).",
            ("result",),
            registry=r,
        )
        self.queue_wait = Histogram(
            "posegen_queue_wait_seconds",
            "Time from a pose's submission to its first claim.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.engine_latency = Histogram(
            "posegen_engine_render_duration_seconds",
            "Engine render time by engine and outcome (ok, error).",
            ("engine", "outcome"),
            buckets=ENGINE_BUCKETS,
            registry=r,
        )
        self.engine_errors = Counter(
            "posegen_engine_errors_total",
            "Failed pose attempts by engine and error code.",
            ("engine", "code"),
            registry=r,
        )
        self.pose_scores = Histogram(
            "posegen_pose_score",
            "Pose check score (0–1) of each checked pose image delivered or refunded, by engine.",
            ("engine",),
            buckets=SCORE_BUCKETS,
            registry=r,
        )
        self.pose_checks = Counter(
            "posegen_pose_checks_total",
            "Pose check verdicts of delivered or refunded poses by engine and check "
            "(passed, failed, inconclusive, skipped).",
            ("engine", "check"),
            registry=r,
        )
        self.pose_rerenders = Counter(
            "posegen_pose_rerenders_total",
            "Free re-renders after a failed pose check, by engine.",
            ("engine",),
            registry=r,
        )
        self.credits_charged = Counter(
            "posegen_credits_charged_total", "Credits taken for usage (committed).", registry=r
        )
        self.credits_refunded = Counter(
            "posegen_credits_refunded_total", "Credits given back as refunds (committed).", registry=r
        )
        self.rate_limited = Counter(
            "posegen_rate_limited_total",
            "Requests refused by a rate limit, by limit.",
            ("limit",),
            registry=r,
        )
        self.websockets = Gauge(
            "posegen_websocket_connections", "Authenticated WebSocket connections open now.", registry=r
        )
        self.monitoring_level = Gauge(
            "posegen_monitoring_level",
            "Monitoring signals of the last evaluation: 0 ok, 1 warn, 2 critical.",
            ("signal",),
            registry=r,
        )

    # Instrumentation entry points: small, named for what happened.

    def observe_request(self, method: str, route: str | None, status: int | None, seconds: float) -> None:
        self.requests.labels(method, route or UNMATCHED_ROUTE, str(status or 0)).observe(seconds)

    def pose_finished(self, status: str, count: int = 1) -> None:
        self.poses_finished.labels(status).inc(count)

    def pose_checked(self, engine: str, check: str, score: float | None, rerenders: int) -> None:
        """The pose check of one pose whose outcome was committed (its delivered or refunded image)."""
        self.pose_checks.labels(engine, check).inc()
        if score is not None:
            self.pose_scores.labels(engine).observe(score)
        if rerenders:
            self.pose_rerenders.labels(engine).inc(rerenders)

    def count_rate_limited(self, limit: str) -> None:
        """One request refused by the rate limit named `limit` (`poses`, `writes`, `auth`, `websocket`…)."""
        self.rate_limited.labels(limit).inc()

    def credits_moved(self, *, charged: int = 0, refunded: int = 0) -> None:
        if charged:
            self.credits_charged.inc(charged)
        if refunded:
            self.credits_refunded.inc(refunded)


PROCESS = Metrics()
"""This process's metrics. Instrumented code deep in services (the ledger, pose outcomes) has no
handle on the app, and the process is the unit Prometheus scrapes, so there is one per process."""


def count_rate_limited(limit: str) -> None:
    """Count a request refused by the rate limit named `limit` (called where the 429 is decided)."""
    PROCESS.count_rate_limited(limit)


class _QueueGauges(Collector):
    """The queue as read from the database for one scrape."""

    def __init__(self, snapshot: QueueSnapshot, dead: int) -> None:
        self.snapshot = snapshot
        self.dead = dead

    def collect(self) -> Iterable[Metric]:
        poses = GaugeMetricFamily(
            "posegen_poses", "Poses in the queue now, by status (read from the database).", labels=["status"]
        )
        poses.add_metric(["queued"], self.snapshot.waiting)
        poses.add_metric(["running"], self.snapshot.active)
        yield poses
        yield GaugeMetricFamily(
            "posegen_queue_depth", "Queued and running poses now (database).", value=self.snapshot.depth
        )
        yield GaugeMetricFamily(
            "posegen_queue_oldest_age_seconds",
            "Age of the oldest queued pose (database); 0 when none waits.",
            value=self.snapshot.oldest_age_seconds(utcnow()),
        )
        yield GaugeMetricFamily(
            "posegen_queue_paused", "1 while an admin has paused claims.", value=int(self.snapshot.paused)
        )
        yield GaugeMetricFamily("posegen_dead_poses", "Dead-lettered poses now (database).", value=self.dead)


def authorize(settings: Settings, authorization: str | None) -> None:
    """404 while no token is configured (the page does not exist), 401 for a missing or wrong one."""
    expected = settings.metrics.token
    if expected is None:
        raise NotFound("Route not found")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized("Metrics token required")


async def exposition(
    db: Database, read_queue: ReadQueue, websockets: int | None = None, metrics: Metrics = PROCESS
) -> bytes:
    """The page: this process's metrics, then the queue gauges read now."""
    if websockets is not None:
        metrics.websockets.set(websockets)
    snapshot, dead = await db.run(read_queue, write=False)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_QueueGauges(snapshot, dead))
    return generate_latest(metrics.registry) + generate_latest(scrape)


def _authorized(request: Request, settings: SettingsDep) -> None:
    authorize(settings, request.headers.get("authorization"))


# The scrape reads the database, so it is a unit of work like every other route.
router = APIRouter(route_class=UnitOfWorkRoute)


@router.get(PATH, include_in_schema=False)
async def metrics_page(services: ServicesDep, _: Annotated[None, Depends(_authorized)]) -> Response:
    """Prometheus text exposition of this API process (bearer `POSEGEN_METRICS_TOKEN`)."""
    body = await exposition(services.db, services.queue_gauges, websockets=len(services.sockets))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


# -- the worker's listener ------------------------------------------------------------------


def worker_app(settings: Settings, db: Database, read_queue: ReadQueue) -> FastAPI:
    """The worker's own page: the same `/metrics`, nothing else (no docs, no OpenAPI)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)

    @app.get(PATH, include_in_schema=False)
    async def worker_metrics(request: Request) -> Response:
        authorize(settings, request.headers.get("authorization"))
        return Response(await exposition(db, read_queue), media_type=CONTENT_TYPE_LATEST)

    return app


class _QuietServer(uvicorn.Server):
    """uvicorn inside the worker's loop: the worker owns SIGTERM/SIGINT, so uvicorn must not
    install handlers of its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@asynccontextmanager
async def worker_listener(
    settings: Settings, db: Database, read_queue: ReadQueue, port: int | None
) -> AsyncIterator[int | None]:
    """Serve the worker's `/metrics` on `port` for the block (nothing when None); the bound port."""
    if port is None:
        yield None
        return
    config = uvicorn.Config(
        worker_app(settings, db, read_queue),
        host=settings.metrics.worker_host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the bind failed: raise its error
            raise RuntimeError("the metrics listener stopped at start-up")
        await asyncio.sleep(0.01)
    log.info("worker_metrics_listening", host=settings.metrics.worker_host, port=port)
    try:
        yield port
    finally:
        server.should_exit = True
        await task
