"""Statements and transactions per pose: counted, not timed, so the figure does not depend on load.

Run: ``.venv/bin/python benchmarks/statements_per_pose.py [sqlite|postgresql]``; prints one JSON
object. One in-process worker (concurrency 4, the sleep engine at L = 0) works 4 users' gallery
generations (4 poses × batch 5 each: 80 poses) queued with the queue paused; every statement and
every transaction (its begin) the worker's engine opens between the resume and the last
generation's end is counted (SQLAlchemy's `before_cursor_execute` and `begin` events; commits and
rollbacks listed apart), heartbeats and idle claims included, so the figures are an upper bound of
what one pose costs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

from _setup import (
    bench_settings,
    populate,
    postgres_database,
    quiet_logging,
    run_benchmark,
    scratch_directory,
    set_paused,
    sqlite_database,
    submit_gallery,
    wait_terminal,
)
from sqlalchemy import event

from posegen.db import Database
from posegen.engines.registry import EngineRegistry
from posegen.storage.factory import create_storage
from posegen.work.worker import Worker

USERS = 4
POSES_PER_GENERATION = 4
BATCH = 5
POSES = USERS * POSES_PER_GENERATION * BATCH


def first_word(statement: str) -> str:
    return statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"


async def count(url: str, data_dir: Any) -> dict[str, Any]:
    settings = bench_settings(url, data_dir, latency_ms=0, concurrency=4, poll_seconds=0.5)
    setup_db = Database.from_settings(settings)
    worker_db = Database.from_settings(settings)
    registry = EngineRegistry.from_settings(settings)
    counting = False
    statements: Counter[str] = Counter()
    transactions: Counter[str] = Counter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if counting:
            statements[first_word(statement)] += 1

    def on_end(kind: str) -> Any:
        def listener(_conn: Any) -> None:
            if counting:
                transactions[kind] += 1

        return listener

    sync_engine = worker_db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_statement)
    event.listen(sync_engine, "begin", on_end("begin"))
    event.listen(sync_engine, "commit", on_end("commit"))
    event.listen(sync_engine, "rollback", on_end("rollback"))
    try:
        world = await populate(setup_db, users=USERS, credits=1_000_000, poses=POSES_PER_GENERATION)
        await set_paused(setup_db, True)
        ids = [
            await submit_gallery(
                setup_db,
                settings,
                registry.get,
                user,
                world.projects[user.id],
                [p.id for p in world.poses],
                BATCH,
            )
            for user in world.users
        ]
        worker = Worker(worker_db, create_storage(settings), registry.engines, settings)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.3)  # the worker's start-up chores (heartbeat, first reconcile) are not counted
        counting = True
        await set_paused(setup_db, False)
        worker.wakeup.publish()
        await wait_terminal(setup_db, ids, within=120)
        counting = False
        stop.set()
        await running
    finally:
        await registry.aclose()
        await worker_db.dispose()
        await setup_db.dispose()
    total_statements = sum(statements.values())
    total_transactions = transactions["begin"]
    return {
        "dialect": worker_db.dialect,
        "poses": POSES,
        "statements_per_pose": round(total_statements / POSES, 2),
        "transactions_per_pose": round(total_transactions / POSES, 2),
        "statements_by_kind_per_pose": {k: round(v / POSES, 2) for k, v in sorted(statements.items())},
        "transaction_events": dict(transactions),
    }


async def main() -> dict[str, Any]:
    quiet_logging()
    dialect = sys.argv[1] if len(sys.argv) > 1 else "postgresql"
    with scratch_directory() as scratch:
        if dialect == "sqlite":
            async with sqlite_database(scratch) as url:
                return await count(url, scratch / "data")
        async with postgres_database() as url:
            return await count(url, scratch / "data")


if __name__ == "__main__":
    print(json.dumps(run_benchmark(main), indent=2))
