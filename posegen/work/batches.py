"""Units of work for the slots: one job, or a batch of compatible poses for an engine that renders
several in one pass (`engines.base.BatchingEngine`).

The claimer claims up to `batch_size` jobs per idle slot when a batching engine is available; the
jobs are grouped by engine and the engine's `batch_key` (same model, size, steps), in claim order,
so the fairness of the claim carries over to the units. Only as many units as slots are idle are
kept; the rest are handed back to the queue at once (`unclaim`), their attempt not counted, so no
job waits in this process with its lease running and nobody renewing it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from posegen.engines.base import BatchingEngine, Engine
from posegen.work.jobs import Job

Unit = list[Job[Any]]


def form_units(jobs: Sequence[Job[Any]], engines: Mapping[str, Engine], batch_size: int) -> list[Unit]:
    """The claimed jobs as units, in claim order: a batching engine's compatible jobs share a unit
    of at most `batch_size` (and at most the engine's own `batch_size`); every other job is a
    unit of its own."""
    units: list[Unit] = []
    open_units: dict[tuple[str, Hashable], Unit] = {}
    for job in jobs:
        engine = engines.get(job.engine)
        key = job.kind.batch_key(job, engine) if isinstance(engine, BatchingEngine) else None
        if key is None or not isinstance(engine, BatchingEngine):
            units.append([job])
            continue
        limit = max(1, min(batch_size, engine.batch_size))
        unit = open_units.get((job.engine, key))
        if unit is None or len(unit) >= limit:
            unit = []
            units.append(unit)
            open_units[(job.engine, key)] = unit
        unit.append(job)
    return units
