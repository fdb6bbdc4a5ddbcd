"""B9: orchestration cost — CPU per pose of PostgreSQL and of the worker, with the engine costing nothing.

Run: ``.venv/bin/python benchmarks/b9_orchestration_cost.py``; prints one JSON object (BENCHMARKS.md).

A throwaway PostgreSQL database; 2 ``posegen worker`` processes × concurrency 4 on the ``sleep``
engine at L = 0 (a plain draft image at once), so the work is only orchestration and post-processing
and the workers are saturated. 400 poses (10 users × one gallery generation of 4 poses × batch 10,
quality draft, no exports) are queued with the queue paused; the clock and the CPU counters start
when the queue is resumed and stop when every generation has ended. Repeated ``RUNS`` times.

- PostgreSQL: utime + stime (``/proc/<pid>/stat``) of the server backends connected to this run's
  database (``pg_stat_activity``, sampled every 0.1 s so backends that come and go are counted; the
  connection this process waits on is left out). PostgreSQL's shared processes (WAL writer,
  checkpointer, background writer…) serve every database on the machine, so they are reported apart
  and only as an upper bound.
- Workers: utime + stime of the two worker processes (every thread). Image encoding apart: the same
  post-processing the worker runs on each pose (``work.postprocess.process`` of a 512² draft: the
  stored PNG and the WebP thumbnail; the sleep engine gives no keypoints, so no control map) is timed
  in this process, and orchestration = worker CPU − that.
- Transactions per pose: ``xact_commit`` + ``xact_rollback`` of the database (``pg_stat_database``;
  it includes the workers' idle claims and heartbeats, so it is an upper bound).

Targets (BENCHMARKS.md): PostgreSQL ≤ 2 ms, worker orchestration ≤ 10 ms per pose.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from _setup import (
    World,
    bench_settings,
    load_average,
    metadata,
    populate,
    postgres_database,
    quiet_logging,
    run_benchmark,
    scratch_directory,
    set_paused,
    submit_gallery,
    wait_workers_registered,
    worker_env,
    worker_processes,
)
from PIL import Image
from sqlalchemy.engine import make_url

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.registry import EngineRegistry
from posegen.generation.models import TERMINAL_GENERATION
from posegen.work.postprocess import process
from posegen.work.wakeup import create_wakeup

PROCESSES = 2
PER_PROCESS = 4
USERS = 10
POSES_PER_GENERATION = 4
BATCH = 10
POSES = USERS * POSES_PER_GENERATION * BATCH
RUNS = 3
DRAFT_SIZE = 512
ENCODING_REPEATS = 60
SAMPLE_SECONDS = 0.1
TARGET_POSTGRES_MS = 2.0
TARGET_WORKER_MS = 10.0
TERMINAL = [status.value for status in TERMINAL_GENERATION]
_TICK = os.sysconf("SC_CLK_TCK")
SHARED_KINDS = (
    "walwriter",
    "checkpointer",
    "background writer",
    "autovacuum launcher",
    "logical replication launcher",
)


def cpu_ms(pid: int) -> float:
    """utime + stime of `pid` (all its threads) in milliseconds; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / _TICK


class BackendMeter:
    """CPU of the PostgreSQL backends of one database between `start` and `stop`, and of the shared
    server processes; backends are sampled so those that connect or leave meanwhile are counted."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._own = connection.get_server_pid()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._shared_first: dict[int, float] = {}

    async def _backends(self) -> list[int]:
        rows = await self._connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1", self._own
        )
        return [row["pid"] for row in rows]

    async def start(self) -> None:
        for pid in await self._backends():
            self._first[pid] = self._last[pid] = cpu_ms(pid)
        rows = await self._connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = ANY($1::text[])", list(SHARED_KINDS)
        )
        self._shared_first = {row["pid"]: cpu_ms(row["pid"]) for row in rows}

    async def sample(self) -> None:
        for pid in await self._backends():
            now = cpu_ms(pid)
            self._first.setdefault(pid, 0.0)  # connected meanwhile: all its CPU is this run's
            if now:
                self._last[pid] = now

    def backends_ms(self) -> float:
        return sum(self._last[pid] - self._first[pid] for pid in self._last)

    def shared_ms(self) -> float:
        return sum(cpu_ms(pid) - first for pid, first in self._shared_first.items())


async def transactions(connection: asyncpg.Connection) -> int:
    value = await connection.fetchval(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
    )
    return int(value)


async def ended(connection: asyncpg.Connection, generation_ids: list[str]) -> bool:
    done = await connection.fetchval(
        "SELECT count(*) FROM generations WHERE id = ANY($1::text[]) AND status = ANY($2::text[])",
        generation_ids,
        TERMINAL,
    )
    return int(done) == len(generation_ids)


async def one_run(
    db: Database,
    settings: Settings,
    registry: EngineRegistry,
    world: World,
    worker_pids: list[int],
    watcher: asyncpg.Connection,
) -> dict[str, Any]:
    ids = [
        await submit_gallery(
            db, settings, registry.get, user, world.projects[user.id], [p.id for p in world.poses], BATCH
        )
        for user in world.users
    ]
    meter = BackendMeter(watcher)
    await meter.start()
    workers_before = sum(cpu_ms(pid) for pid in worker_pids)
    xacts_before = await transactions(watcher)
    wakeup = create_wakeup(settings, listen=False)
    await wakeup.start()
    started = time.monotonic()
    try:
        await set_paused(db, False)
        wakeup.publish()
        while not await ended(watcher, ids):
            await asyncio.sleep(SAMPLE_SECONDS)
            await meter.sample()
        elapsed = time.monotonic() - started
        await meter.sample()
        workers = sum(cpu_ms(pid) for pid in worker_pids) - workers_before
        xacts = await transactions(watcher) - xacts_before
    finally:
        await set_paused(db, True)
        await wakeup.stop()
    return {
        "makespan_s": round(elapsed, 2),
        "poses_per_s": round(POSES / elapsed, 1),
        "worker_cpu_ms_per_pose": workers / POSES,
        "postgres_backend_cpu_ms_per_pose": meter.backends_ms() / POSES,
        "postgres_shared_cpu_ms_per_pose_upper_bound": meter.shared_ms() / POSES,
        "transactions_per_pose_upper_bound": xacts / POSES,
    }


def encoding_ms_per_pose() -> float:
    """CPU of the post-processing the worker runs on one sleep-engine draft (no exports)."""
    images = [Image.new("RGB", (DRAFT_SIZE, DRAFT_SIZE), (shade, shade, shade)) for shade in range(30, 90)]
    process(images[0], None, [])  # warm up (codec set-up)
    started = time.process_time()
    for index in range(ENCODING_REPEATS):
        process(images[index % len(images)], None, [])
    return (time.process_time() - started) * 1000 / ENCODING_REPEATS


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(run[key] for run in runs)), 2)


async def run() -> dict[str, Any]:
    began = time.perf_counter()
    quiet_logging()
    meta = metadata()
    with scratch_directory() as scratch:
        async with postgres_database() as url:
            settings = bench_settings(
                url, scratch / "data", latency_ms=0, concurrency=PER_PROCESS, poll_seconds=0.5
            )
            db = Database.from_settings(settings)
            registry = EngineRegistry.from_settings(settings)
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            watcher = await asyncpg.connect(dsn)
            try:
                world = await populate(db, users=USERS, credits=1_000_000, poses=POSES_PER_GENERATION)
                await set_paused(db, True)
                with worker_processes() as workers:
                    for _ in range(PROCESSES):
                        workers.start(worker_env(settings), PER_PROCESS, scratch)
                    await wait_workers_registered(db, workers)
                    pids = [process.pid for process in workers.processes]
                    runs = []
                    for _ in range(RUNS):
                        runs.append(await one_run(db, settings, registry, world, pids, watcher))
                        workers.check_alive()
            finally:
                await watcher.close()
                await registry.aclose()
                await db.dispose()
    encoding = encoding_ms_per_pose()
    worker = median_of(runs, "worker_cpu_ms_per_pose")
    postgres = median_of(runs, "postgres_backend_cpu_ms_per_pose")
    orchestration = round(worker - encoding, 2)
    return {
        "benchmark": "B9 orchestration cost",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **meta,
        "engine": {"name": "sleep", "latency_ms": 0, "quality": "draft", "exports": []},
        "worker_processes": PROCESSES,
        "concurrency_each": PER_PROCESS,
        "poses_per_run": POSES,
        "runs": [{key: round(value, 2) for key, value in one.items()} for one in runs],
        "median": {
            "postgres_backend_cpu_ms_per_pose": postgres,
            "postgres_shared_cpu_ms_per_pose_upper_bound": median_of(
                runs, "postgres_shared_cpu_ms_per_pose_upper_bound"
            ),
            "worker_cpu_ms_per_pose": worker,
            "image_encoding_cpu_ms_per_pose": round(encoding, 2),
            "worker_orchestration_cpu_ms_per_pose": orchestration,
            "transactions_per_pose_upper_bound": median_of(runs, "transactions_per_pose_upper_bound"),
            "makespan_s": median_of(runs, "makespan_s"),
            "poses_per_s": median_of(runs, "poses_per_s"),
        },
        "targets_ms": {"postgres": TARGET_POSTGRES_MS, "worker_orchestration": TARGET_WORKER_MS},
        "pass": {
            "postgres": postgres <= TARGET_POSTGRES_MS,
            "worker_orchestration": orchestration <= TARGET_WORKER_MS,
        },
        "load_average_at_end": load_average(),
        "elapsed_s": round(time.perf_counter() - began, 1),
    }


def main() -> dict[str, Any]:
    return run_benchmark(run)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
