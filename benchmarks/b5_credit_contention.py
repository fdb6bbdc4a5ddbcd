"""B5, credit contention: 500 concurrent 1-pose generations by one user whose balance covers exactly 250.

Run: ``.venv/bin/python benchmarks/b5_credit_contention.py``; prints one JSON object (BENCHMARKS.md).

One user gets 250 × 15 credits (a draft pose costs 15) through the ledger, then 500 submissions of a
1-pose draft gallery generation on the ``sleep`` engine start at once (``asyncio.gather``), each through
``generation.service.submit`` in its own session and transaction, as 500 ``POST /generate`` requests
would. No worker runs: only admission and payment are measured. Expected: exactly 250 accepted, 250
refused with ``InsufficientCredits`` (the API's 402), nothing else; the balance ends at 0, the ledger
entries sum to the balance, and exactly 250 generations (and 250 poses) exist.

Both backends, each in a throwaway database: PostgreSQL through a pool of at most 80 connections
(40 + 40 overflow; the server allows 100), and SQLite (a temporary file; writers queue for the
write lock with ``BEGIN IMMEDIATE``). The elapsed time of the 500 submissions is reported per
backend; SQLite against PostgreSQL is the same-run ratio.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _setup import (
    World,
    bench_settings,
    cpu_report,
    cpu_snapshot,
    gallery_request,
    metadata,
    populate,
    postgres_database,
    quiet_logging,
    run_benchmark,
    scratch_directory,
    sqlite_database,
)
from sqlalchemy import func, select

from posegen.config import Settings
from posegen.credits.errors import InsufficientCredits
from posegen.credits.models import CreditAccount, CreditEntry
from posegen.db import Database, create_engine
from posegen.engines.registry import EngineRegistry
from posegen.generation import service
from posegen.generation.models import GeneratedPose, Generation

SUBMISSIONS = 500
AFFORDABLE = 250
DRAFT_COST = 15
POOL_SIZE = 40
MAX_OVERFLOW = 40  # at most 80 connections


def _nothing() -> None:
    return None


async def one_submission(db: Database, settings: Settings, registry: EngineRegistry, world: World) -> str:
    """One 1-pose generation in its own transaction: 'accepted', 'refused' or the error's type."""
    user = world.users[0]
    body = gallery_request(world.projects[user.id], [world.poses[0].id], 1)
    try:
        async with db.session() as session:
            await service.submit(
                session, settings, registry.get, user, body, None, _nothing, service.no_rate_limit
            )
    except InsufficientCredits:
        return "refused"
    except Exception as error:
        return type(error).__name__
    return "accepted"


async def contention(url: str, scratch: Path, backend: str) -> dict[str, Any]:
    settings = bench_settings(url, scratch / f"{backend}-data", latency_ms=0)
    db = Database(create_engine(url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW))
    registry = EngineRegistry.from_settings(settings)
    try:
        world = await populate(db, users=1, credits=AFFORDABLE * DRAFT_COST, poses=1)
        user_id = world.users[0].id
        before = cpu_snapshot()
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(one_submission(db, settings, registry, world) for _ in range(SUBMISSIONS))
        )
        elapsed = time.perf_counter() - started
        cpu = cpu_report(before, cpu_snapshot())
        async with db.session(write=False) as session:
            balance = await session.scalar(
                select(CreditAccount.balance).where(CreditAccount.user_id == user_id)
            )
            ledger_sum = await session.scalar(
                select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.user_id == user_id)
            )
            entries = await session.scalar(
                select(func.count()).select_from(CreditEntry).where(CreditEntry.user_id == user_id)
            )
            generations = await session.scalar(
                select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
            )
            poses = await session.scalar(
                select(func.count()).select_from(GeneratedPose).where(GeneratedPose.user_id == user_id)
            )
    finally:
        await registry.aclose()
        await db.dispose()
    counts = Counter(outcomes)
    accepted, refused = counts.pop("accepted", 0), counts.pop("refused", 0)
    checks = {
        "accepted_is_250": accepted == AFFORDABLE,
        "refused_is_250": refused == SUBMISSIONS - AFFORDABLE,
        "no_other_errors": not counts,
        "balance_is_0": balance == 0,
        "ledger_sum_equals_balance": int(ledger_sum or 0) == int(balance or 0),
        "generations_is_250": generations == AFFORDABLE,
        "poses_is_250": poses == AFFORDABLE,
    }
    return {
        "submissions": SUBMISSIONS,
        "accepted": accepted,
        "refused_insufficient_credits": refused,
        "other_errors": dict(counts),
        "final_balance": balance,
        "ledger_sum": int(ledger_sum or 0),
        "ledger_entries": entries,  # 1 grant + one debit per accepted generation
        "generations": generations,
        "generated_poses": poses,
        "elapsed_s": round(elapsed, 3),
        "submissions_per_s": round(SUBMISSIONS / elapsed, 1),
        "cpu": cpu,
        "checks": checks,
        "pass": all(checks.values()),
    }


async def run() -> dict[str, Any]:
    started = time.perf_counter()
    quiet_logging()
    with scratch_directory() as scratch:
        async with postgres_database() as url:
            postgres = await contention(url, scratch, "postgresql")
        async with sqlite_database(scratch) as url:
            sqlite = await contention(url, scratch, "sqlite")
    return {
        "benchmark": "B5 credit contention",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **metadata(),
        "balance_covers": AFFORDABLE,
        "credits_granted": AFFORDABLE * DRAFT_COST,
        "postgresql": {**postgres, "pool": {"size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}},
        "sqlite": sqlite,
        "sqlite_elapsed_over_postgresql": round(sqlite["elapsed_s"] / postgres["elapsed_s"], 3),
        "pass": postgres["pass"] and sqlite["pass"],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def main() -> dict[str, Any]:
    return run_benchmark(run)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
