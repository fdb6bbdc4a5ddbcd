"""B8, no leaks: the resident memory of a worker process after 2,000 poses against after 200.

Run: ``.venv/bin/python benchmarks/b8_worker_memory.py``; prints one JSON object (BENCHMARKS.md).

One ``posegen worker`` process (concurrency 4) on a throwaway PostgreSQL database, with the ``sleep``
engine at 0 ms latency, so every pose is the worker's own work: claim, render request, the real
post-processing of a 512² image (quality draft: original PNG and WebP thumbnail; no exports, the
cheapest pose that still runs the pipeline), storage on the local disk, and the commit.

The poses come in 10 rounds of 200 (one gallery generation of 20 poses × batchSize 10 each). After
each round the worker is idle again (every generation terminal), and its VmRSS is read from
``/proc/<pid>/status``: the figure after round 1 (200 poses) is the baseline, after round 10
(2,000 poses) the result. Target: growth ≤ 20 %. The RSS after every round is reported, so a
steady climb can be told from one step (a pool or cache filling once).

Run time: the worker is bound by its own CPU (about 35 ms per pose in one process: post-processing,
SQL and asyncio), so 2,000 poses take 60–85 s on a 2-core machine; each round is bounded (60 s).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _setup import (
    bench_settings,
    cpu_report,
    cpu_snapshot,
    metadata,
    populate,
    postgres_database,
    quiet_logging,
    rss_kib,
    run_benchmark,
    scratch_directory,
    submit_gallery,
    wait_terminal,
    wait_workers_registered,
    worker_env,
    worker_processes,
)

from posegen.db import Database
from posegen.engines.registry import EngineRegistry

CONCURRENCY = 4
ROUNDS = 10
LIBRARY_POSES = 20
BATCH = 10
PER_ROUND = LIBRARY_POSES * BATCH  # 200
TARGET_GROWTH = 0.20
ROUND_TIMEOUT_S = 60  # one round of 200 poses; the whole run is bounded by ROUNDS × this
SETTLE_S = 0.2  # idle time before reading RSS, so in-flight buffers are released
# Rounds take seconds and the figure is memory, not time: looking at the database every 0.1 s
# (not 0.02 s) leaves the CPU of this 2-core machine to the worker.
POLL_S = 0.1


async def measure(scratch: Path) -> dict[str, Any]:
    async with postgres_database() as url:
        settings = bench_settings(url, scratch / "data", latency_ms=0, concurrency=CONCURRENCY)
        db = Database.from_settings(settings)
        registry = EngineRegistry.from_settings(settings)
        try:
            world = await populate(db, users=1, credits=ROUNDS * PER_ROUND * 15, poses=LIBRARY_POSES)
            user = world.users[0]
            pose_ids = [pose.id for pose in world.poses]
            with worker_processes() as workers:
                process = workers.start(worker_env(settings), CONCURRENCY, scratch)
                await wait_workers_registered(db, workers)
                rss_at_start = rss_kib(process.pid)
                rounds: list[dict[str, Any]] = []
                before = cpu_snapshot([process.pid])
                for index in range(ROUNDS):
                    started = time.perf_counter()
                    generation = await submit_gallery(
                        db, settings, registry.get, user, world.projects[user.id], pose_ids, BATCH
                    )
                    await wait_terminal(
                        db, [generation], within=ROUND_TIMEOUT_S, check=workers.check_alive, poll=POLL_S
                    )
                    seconds = time.perf_counter() - started
                    await asyncio.sleep(SETTLE_S)
                    rounds.append(
                        {
                            "poses_done": (index + 1) * PER_ROUND,
                            "rss_kib": rss_kib(process.pid),
                            "round_s": round(seconds, 2),
                        }
                    )
                cpu = cpu_report(before, cpu_snapshot([process.pid]), ROUNDS * PER_ROUND)
                workers.check_alive()
        finally:
            await registry.aclose()
            await db.dispose()
    baseline, final = rounds[0]["rss_kib"], rounds[-1]["rss_kib"]
    growth = (final - baseline) / baseline
    return {
        "rss_kib_after_start": rss_at_start,
        "rss_kib_after_200": baseline,
        "rss_kib_after_2000": final,
        "growth": round(growth, 4),
        "growth_percent": round(growth * 100, 2),
        "target_growth_percent": TARGET_GROWTH * 100,
        "pass": growth <= TARGET_GROWTH,
        "rounds": rounds,
        "poses_per_s": round(ROUNDS * PER_ROUND / sum(r["round_s"] for r in rounds), 1),
        "cpu": cpu,
    }


async def run() -> dict[str, Any]:
    started = time.perf_counter()
    quiet_logging()
    with scratch_directory() as scratch:
        result = await measure(scratch)
    return {
        "benchmark": "B8 worker memory",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **metadata(),
        "worker": {
            "processes": 1,
            "concurrency": CONCURRENCY,
            "engine": "sleep",
            "latency_ms": 0,
            "quality": "draft",
            "exports": [],
        },
        **result,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def main() -> dict[str, Any]:
    return run_benchmark(run)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
