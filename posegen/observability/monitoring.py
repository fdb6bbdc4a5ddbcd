"""Queue and work monitoring (P1-5): DATA.md's thresholds, judged on every health check and every
`monitoring.interval_seconds`, with one structured warning per transition.

Signals and levels (settings group `monitoring`, docs/decisions.md "Queue monitoring"):

- queue depth (queued + running poses) and age of the oldest queued pose: now;
- success rate, refund rate and p95 render time per pose: over the work submitted in
  the last `window_seconds`, judged once `min_finished_poses` finished in it
  (the definitions are the admin metrics', admin/metrics_repository.py, read through
  `admin.metrics_service.work_signals`, which the wiring hands to the `Monitor`).

"Higher is worse" signals warn from their warn value on and are critical above
their critical value; the success rate warns at or below its warn value and is
critical below its critical one (so DATA.md's "good > 95 %, warn 90–95 %,
critical < 90 %" reads as written). Any crossed threshold makes `/health`
`degraded` (still 200: the service works; see docs/decisions.md).

Each process keeps its own `Monitor` and logs its own transitions:
`monitoring_threshold_crossed` (with `alert_level`) when a signal enters or changes a crossed level,
`monitoring_threshold_recovered` when it is back to ok. Repeated checks in the
same state log nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.config import MonitoringSettings
from posegen.db import Database
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS, Metrics

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from posegen.admin.metrics_repository import GenerationFigures, PoseTimes, QueueSnapshot

    # Reads every signal in one transaction, over a window of the given seconds that ends now: the
    # admin metrics' function, handed over by posegen/services.py (observability imports no domain).
    ReadSignals = Callable[
        [AsyncSession, float], Awaitable[tuple[QueueSnapshot, GenerationFigures, PoseTimes]]
    ]

log = structlog.get_logger(__name__)

Level = Literal["ok", "warn", "critical"]
Signal = Literal["queue_depth", "oldest_queued", "success_rate", "refund_rate", "pose_time_p95"]
SIGNALS: tuple[Signal, ...] = ("queue_depth", "oldest_queued", "success_rate", "refund_rate", "pose_time_p95")
QUEUE_SIGNALS: frozenset[str] = frozenset({"queue_depth", "oldest_queued"})
LEVEL_VALUE: dict[Level, int] = {"ok": 0, "warn": 1, "critical": 2}
READ_TIMEOUT_SECONDS = 5.0


def higher_is_worse(value: float, warn: float, critical: float) -> tuple[Level, float]:
    """The level of `value` and the threshold it crossed (the warn one when ok)."""
    if value > critical:
        return "critical", critical
    if value >= warn:
        return "warn", warn
    return "ok", warn


def lower_is_worse(value: float, warn: float, critical: float) -> tuple[Level, float]:
    if value < critical:
        return "critical", critical
    if value <= warn:
        return "warn", warn
    return "ok", warn


@dataclass(frozen=True)
class Alert:
    signal: Signal
    level: Literal["warn", "critical"]
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class Evaluation:
    """One look at every signal: the queue now, the crossed thresholds, a one-line summary of the window."""

    queue: QueueSnapshot
    oldest_age_seconds: float
    alerts: list[Alert]
    summary: str


@dataclass(frozen=True)
class _Reading:
    signal: Signal
    level: Level
    value: float
    threshold: float
    message: str


def _readings(
    settings: MonitoringSettings,
    queue: QueueSnapshot,
    age: float,
    window: GenerationFigures,
    times: PoseTimes,
) -> tuple[list[_Reading], str]:
    """Every signal's level now; a signal without enough data in the window reads ok."""
    readings: list[_Reading] = []
    level, threshold = higher_is_worse(queue.depth, settings.queue_depth_warn, settings.queue_depth_critical)
    readings.append(
        _Reading(
            "queue_depth",
            level,
            queue.depth,
            threshold,
            f"queue depth {queue.depth} ≥ {threshold:g} ({level})",
        )
    )
    level, threshold = higher_is_worse(
        age, settings.oldest_queued_warn_seconds, settings.oldest_queued_critical_seconds
    )
    readings.append(
        _Reading(
            "oldest_queued",
            level,
            round(age, 1),
            threshold,
            f"oldest queued pose waits {age:.0f} s ≥ {threshold:g} s ({level})",
        )
    )
    finished = window.poses_completed + window.poses_failed
    span = f"last {settings.window_seconds:g} s"
    if finished < settings.min_finished_poses:
        return (
            readings,
            f"{finished} finished poses in the {span} (judged from {settings.min_finished_poses})",
        )
    success = window.success_rate or 0.0
    level, threshold = lower_is_worse(success, settings.success_rate_warn, settings.success_rate_critical)
    readings.append(
        _Reading(
            "success_rate",
            level,
            success,
            threshold,
            f"success rate {success:g} % ≤ {threshold:g} % ({level})",
        )
    )
    refunds = window.refund_rate or 0.0
    level, threshold = higher_is_worse(refunds, settings.refund_rate_warn, settings.refund_rate_critical)
    readings.append(
        _Reading(
            "refund_rate", level, refunds, threshold, f"refund rate {refunds:g} % ≥ {threshold:g} % ({level})"
        )
    )
    summary = f"success {success:g} %, refunds {refunds:g} %"
    if times.p95 is not None and times.samples >= settings.min_finished_poses:
        p95 = times.p95 / 1000
        level, threshold = higher_is_worse(
            p95, settings.pose_time_p95_warn_seconds, settings.pose_time_p95_critical_seconds
        )
        readings.append(
            _Reading(
                "pose_time_p95",
                level,
                round(p95, 3),
                threshold,
                f"p95 time per pose {p95:.1f} s ≥ {threshold:g} s ({level})",
            )
        )
        summary += f", p95 {p95:.1f} s per pose"
    return readings, f"{summary} ({span})"


class Monitor:
    """The thresholds' state in this process: what was crossed at the last evaluation."""

    def __init__(self, settings: MonitoringSettings, read: ReadSignals, metrics: Metrics = PROCESS) -> None:
        self.settings = settings
        self._read_signals = read
        self.metrics = metrics
        self.levels: dict[Signal, Level] = dict.fromkeys(SIGNALS, "ok")
        # Health checks and the periodic task may evaluate at once; transitions are judged one at a time.
        self._lock = asyncio.Lock()

    async def evaluate(self, db: Database) -> Evaluation | None:
        """Read every signal, log the transitions since the last evaluation; None when the database
        cannot be read (the state stays as it was: an outage is not a recovery)."""
        try:
            # One try, bounded: a health check reports a slow or absent database, it does not wait it out.
            async with asyncio.timeout(READ_TIMEOUT_SECONDS), db.session(write=False) as session:
                queue, window, times = await self._read_signals(session, self.settings.window_seconds)
        except Exception as exc:  # health reports the database itself; this only skips a judgement
            log.warning("monitoring_unreadable", error=type(exc).__name__)
            return None
        age = queue.oldest_age_seconds(utcnow())
        readings, summary = _readings(self.settings, queue, age, window, times)
        async with self._lock:
            for reading in readings:
                self._transition(reading)
            judged = {reading.signal for reading in readings}
            for signal in SIGNALS:
                if signal not in judged and self.levels[signal] != "ok":
                    # Too few finished poses to judge any more: the alert ends.
                    self._transition(_Reading(signal, "ok", 0.0, 0.0, "not enough data"))
        alerts = [
            Alert(reading.signal, reading.level, reading.value, reading.threshold, reading.message)
            for reading in readings
            if reading.level != "ok"
        ]
        return Evaluation(queue, age, alerts, summary)

    def _transition(self, reading: _Reading) -> None:
        previous = self.levels[reading.signal]
        self.levels[reading.signal] = reading.level
        self.metrics.monitoring_level.labels(reading.signal).set(LEVEL_VALUE[reading.level])
        if previous == reading.level:
            return
        if reading.level == "ok":
            log.warning(
                "monitoring_threshold_recovered",
                signal=reading.signal,
                previous=previous,
                value=reading.value,
            )
        else:
            log.warning(
                "monitoring_threshold_crossed",
                signal=reading.signal,
                alert_level=reading.level,
                previous=previous,
                value=reading.value,
                threshold=reading.threshold,
                reason=reading.message,
            )

    async def run(self, db: Database, stop: asyncio.Event) -> None:
        """Evaluate every `interval_seconds` until `stop`, so transitions are logged even when nobody
        asks `/health`."""
        while not stop.is_set():
            try:
                await self.evaluate(db)
            except Exception:  # a bug here must not end the loop: the next run tries again
                log.exception("monitoring_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.interval_seconds)
