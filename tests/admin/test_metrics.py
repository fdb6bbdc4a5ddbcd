"""Admin metrics: every figure checked against rows the test wrote, on SQLite and PostgreSQL;
admin only; bad periods refused; and the queries still answer over 100,000 poses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from posegen.auth.models import Role, User
from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose, Generation
from posegen.kit.ids import new_id
from posegen.kit.time import isoformat_z, utcnow
from posegen.library.models import Pose
from posegen.projects.models import Project
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import STANDING, create_category, create_pose, create_project, create_user

P = "/api/apps/pose-generator"
ENDPOINTS = ("/metrics", "/metrics/top-users", "/metrics/popular-poses", "/metrics/errors")
KEYPOINTS = {"format": "openpose-18", "points": STANDING}


@dataclass(frozen=True)
class PoseRow:
    """One generated pose: its library pose, status, render time and error."""

    pose: Pose
    status: str
    ms: int | None = None
    code: str | None = None
    ended_ago: timedelta = timedelta(minutes=1)


async def add_generation(
    db: Database,
    user: User,
    project: Project,
    *,
    status: str,
    ago: timedelta,
    poses: list[PoseRow],
    price: int = 15,
) -> Generation:
    """A generation submitted `ago`, its poses as given and its counters and credits to match
    (failed and cancelled poses refunded at `price` each)."""
    now = utcnow()
    created = now - ago
    counts = {
        state: sum(1 for row in poses if row.status == state) for state in ("completed", "failed", "canceled")
    }
    refunded = price * (counts["failed"] + counts["canceled"])
    generation = Generation(
        user_id=user.id,
        project_id=project.id,
        generation_type="GALLERY_REFERENCE",
        batch_size=1,
        variation_count=1,
        total_expected=len(poses),
        engine="mannequin",
        quality="draft",
        base_seed=1,
        status=status,
        credit_charged=price * len(poses),
        credit_refunded=refunded,
        poses_completed=counts["completed"],
        poses_failed=counts["failed"],
        poses_canceled=counts["canceled"],
        created_at=created,
    )
    async with db.session() as session:
        session.add(generation)
        await session.flush()
        for index, row in enumerate(poses):
            finished = row.status in ("completed", "failed", "canceled")
            session.add(
                GeneratedPose(
                    generation_id=generation.id,
                    user_id=user.id,
                    pose_id=row.pose.id,
                    variation_key=f"{row.pose.id}-v{index}",
                    variation_index=index,
                    seed=index,
                    keypoints=KEYPOINTS,
                    engine="mannequin",
                    status=row.status,
                    cost=price,
                    refunded=row.status in ("failed", "canceled"),
                    generation_time_ms=row.ms,
                    error_code=row.code,
                    created_at=created,
                    completed_at=now - row.ended_ago if finished else None,
                )
            )
    return generation


@dataclass
class World:
    admin: dict[str, str]
    plain: dict[str, str]
    alice: User
    bob: User
    p1: Pose
    p2: Pose
    p3: Pose
    timeout_last_seen: datetime
    dead_last_seen: datetime
    old_day: str


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    """Five generations in the last day, one three days ago (see each test for the arithmetic)."""
    admin = await create_user(db, role=Role.ADMIN)
    plain = await create_user(db)
    alice = await create_user(db, name="Alice")
    bob = await create_user(db, name="Bob")
    category = await create_category(db, "metrics")
    p1, p2, p3 = [await create_pose(db, category, f"Metric Pose {n}") for n in (1, 2, 3)]
    alice_project, bob_project = await create_project(db, alice), await create_project(db, bob)
    hour = timedelta(hours=1)
    # G1 alice: completed, 4 × p1 in 100/200/300/400 ms.
    await add_generation(
        db,
        alice,
        alice_project,
        status="completed",
        ago=hour,
        poses=[PoseRow(p1, "completed", ms) for ms in (100, 200, 300, 400)],
    )
    # G2 alice: partial, 3 × p2: 500 and 600 ms, one PROVIDER_TIMEOUT (the later of the two timeouts).
    await add_generation(
        db,
        alice,
        alice_project,
        status="partial",
        ago=2 * hour,
        poses=[
            PoseRow(p2, "completed", 500),
            PoseRow(p2, "completed", 600),
            PoseRow(p2, "failed", code="PROVIDER_TIMEOUT", ended_ago=timedelta(minutes=5)),
        ],
    )
    # G3 bob: failed, 2 × p1: PROVIDER_TIMEOUT and DEAD_LETTERED.
    await add_generation(
        db,
        bob,
        bob_project,
        status="failed",
        ago=3 * hour,
        poses=[
            PoseRow(p1, "failed", code="PROVIDER_TIMEOUT", ended_ago=timedelta(minutes=50)),
            PoseRow(p1, "failed", code="DEAD_LETTERED", ended_ago=timedelta(minutes=40)),
        ],
    )
    # G4 bob: processing, 2 × p3: one running, one queued (charged, nothing refunded yet).
    await add_generation(
        db,
        bob,
        bob_project,
        status="processing",
        ago=timedelta(minutes=30),
        poses=[PoseRow(p3, "running"), PoseRow(p3, "queued")],
    )
    # G5 bob: canceled, 2 × p3 (not errors, not failures).
    await add_generation(
        db,
        bob,
        bob_project,
        status="canceled",
        ago=timedelta(minutes=20),
        poses=[PoseRow(p3, "canceled", code="CANCELED"), PoseRow(p3, "canceled", code="CANCELED")],
    )
    # G6 alice, three days ago: completed, 2 × p2 in 10 and 20 s. Outside `day`, inside `week`.
    old = await add_generation(
        db,
        alice,
        alice_project,
        status="completed",
        ago=timedelta(days=3),
        poses=[PoseRow(p2, "completed", 10_000), PoseRow(p2, "completed", 20_000)],
    )
    now = utcnow()
    return World(
        admin=bearer(token_for(settings, admin)),
        plain=bearer(token_for(settings, plain)),
        alice=alice,
        bob=bob,
        p1=p1,
        p2=p2,
        p3=p3,
        timeout_last_seen=now - timedelta(minutes=5),
        dead_last_seen=now - timedelta(minutes=40),
        old_day=old.created_at.date().isoformat(),
    )


def close_to(text: str, expected: datetime, seconds: float = 30) -> bool:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return abs((moment - expected).total_seconds()) < seconds


async def get(client: httpx.AsyncClient, world: World, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{P}{path}", headers=world.admin, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_system_metrics_of_the_last_day(client: httpx.AsyncClient, world: World) -> None:
    body = await get(client, world, "/metrics", period="day")
    assert body["period"] == "day"
    assert close_to(body["endTime"], utcnow())
    assert close_to(body["startTime"], utcnow() - timedelta(days=1))
    assert body["totalGenerations"] == 5
    assert body["activeGenerations"] == 1
    assert body["completedGenerations"] == 1
    assert body["partialGenerations"] == 1
    assert body["failedGenerations"] == 1
    assert body["canceledGenerations"] == 1
    # 6 completed of 9 finished poses (4 + 2 completed; 1 + 2 failed; cancelled ones left out).
    assert body["successRate"] == 66.67
    assert body["totalPosesGenerated"] == 6
    assert body["avgPosesPerGeneration"] == 1.2
    # 100…600 ms: p50 between 300 and 400, p95 three quarters of the way from 500 to 600.
    assert body["avgGenerationTimeMs"] == {"samples": 6, "mean": 350.0, "p50": 350.0, "p95": 575.0}
    assert (body["queueDepth"], body["queueWaiting"], body["queueActive"]) == (2, 1, 1)
    assert body["deadPoses"] == 1
    # Charged 15 per pose: 4 + 3 + 2 + 2 + 2 poses; refunded 1 + 2 + 2 poses.
    assert body["totalCreditsSpent"] == 195
    assert body["totalCreditsRefunded"] == 75
    assert body["refundRate"] == 38.46


async def test_a_week_includes_older_work_and_the_default_is_a_day(
    client: httpx.AsyncClient, world: World
) -> None:
    week = await get(client, world, "/metrics", period="week")
    assert week["totalGenerations"] == 6
    assert week["completedGenerations"] == 2
    assert week["successRate"] == 72.73  # 8 of 11
    # 100…600, 10 000, 20 000 ms: p50 = (400 + 500) / 2; p95 at rank 6.65 = 10 000 + 0.65 × 10 000.
    assert week["avgGenerationTimeMs"] == {"samples": 8, "mean": 4012.5, "p50": 450.0, "p95": 16500.0}
    assert (week["totalCreditsSpent"], week["totalCreditsRefunded"], week["refundRate"]) == (225, 75, 33.33)
    assert (await get(client, world, "/metrics"))["totalGenerations"] == 5
    everything = await get(client, world, "/metrics", period="all")
    assert everything["period"] == "all" and everything["startTime"] is None
    assert everything["totalGenerations"] == 6


async def test_custom_dates_select_whole_utc_days(client: httpx.AsyncClient, world: World) -> None:
    body = await get(client, world, "/metrics", startDate=world.old_day, endDate=world.old_day)
    assert body["period"] == "custom"
    assert body["startTime"] == f"{world.old_day}T00:00:00Z"
    assert body["totalGenerations"] == 1
    assert body["totalPosesGenerated"] == 2
    assert body["avgGenerationTimeMs"]["p50"] == 15000.0
    # Queue figures are "now", whatever the period.
    assert body["queueDepth"] == 2
    # A date-time with an offset; only the start given means "until now".
    since = isoformat_z(utcnow() - timedelta(minutes=90))
    recent = await get(client, world, "/metrics", startDate=since)
    assert recent["totalGenerations"] == 3  # G1, G4, G5


async def test_top_users(client: httpx.AsyncClient, world: World) -> None:
    body = await get(client, world, "/metrics/top-users")
    assert body["period"] == "day"
    assert body["users"] == [
        {
            "userId": world.alice.id,
            "email": world.alice.email,
            "name": "Alice",
            "generations": 2,
            "posesRequested": 7,
            "posesGenerated": 6,
            "creditsCharged": 105,
            "creditsRefunded": 15,
        },
        {
            "userId": world.bob.id,
            "email": world.bob.email,
            "name": "Bob",
            "generations": 3,
            "posesRequested": 6,
            "posesGenerated": 0,
            "creditsCharged": 90,
            "creditsRefunded": 60,
        },
    ]
    limited = await get(client, world, "/metrics/top-users", limit=1)
    assert [user["userId"] for user in limited["users"]] == [world.alice.id]


async def test_popular_poses(client: httpx.AsyncClient, world: World) -> None:
    body = await get(client, world, "/metrics/popular-poses")
    assert [
        (pose["poseId"], pose["generations"], pose["posesRequested"], pose["posesGenerated"])
        for pose in body["poses"]
    ] == [(world.p1.id, 2, 6, 4), (world.p3.id, 2, 4, 0), (world.p2.id, 1, 3, 2)]
    assert body["poses"][0]["name"] == "Metric Pose 1"
    assert body["poses"][0]["slug"] == world.p1.slug
    week = await get(client, world, "/metrics/popular-poses", period="week", limit=2)
    assert [(pose["poseId"], pose["generations"]) for pose in week["poses"]] == [
        (world.p1.id, 2),
        (world.p2.id, 2),  # G2 and G6: 5 requested beats p3's 4
    ]


async def test_errors_by_code(client: httpx.AsyncClient, world: World) -> None:
    body = await get(client, world, "/metrics/errors")
    assert body["totalFailed"] == 3
    assert [(group["errorCode"], group["count"]) for group in body["errors"]] == [
        ("PROVIDER_TIMEOUT", 2),
        ("DEAD_LETTERED", 1),
    ]
    assert close_to(body["errors"][0]["lastSeenAt"], world.timeout_last_seen, 5)
    assert close_to(body["errors"][1]["lastSeenAt"], world.dead_last_seen, 5)
    old = await get(client, world, "/metrics/errors", startDate=world.old_day, endDate=world.old_day)
    assert old["errors"] == [] and old["totalFailed"] == 0


async def test_admin_only_on_every_endpoint(client: httpx.AsyncClient, world: World) -> None:
    for path in ENDPOINTS:
        anonymous = await client.get(f"{P}{path}")
        assert anonymous.status_code == 401, path
        assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
        plain = await client.get(f"{P}{path}", headers=world.plain)
        assert plain.status_code == 403, path
        assert plain.json()["error"]["code"] == "FORBIDDEN"
        # The role is checked before the query: a plain user learns nothing from a bad period either.
        assert (
            await client.get(f"{P}{path}", headers=world.plain, params={"period": "x"})
        ).status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/metrics", {"period": "fortnight"}, "period"),
        ("/metrics/errors", {"period": "DAY"}, "period"),
        ("/metrics", {"startDate": "yesterday"}, "startDate"),
        ("/metrics", {"endDate": "2026-02-30"}, "endDate"),
        ("/metrics/top-users", {"startDate": "2026-03-02", "endDate": "2026-03-01"}, "startDate"),
        ("/metrics", {"startDate": "2026-03-01T12:00:00Z", "endDate": "2026-03-01T11:00:00Z"}, "startDate"),
        ("/metrics", {"period": "day", "startDate": "2026-03-01"}, "period"),
        ("/metrics/top-users", {"limit": "0"}, "limit"),
        ("/metrics/top-users", {"limit": "101"}, "limit"),
        ("/metrics/popular-poses", {"limit": "abc"}, "limit"),
    ],
)
async def test_bad_periods_and_limits_are_400(
    client: httpx.AsyncClient, world: World, path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(f"{P}{path}", headers=world.admin, params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["field"] == field


BULK_POSES = 100_000
POSES_PER_GENERATION = 100


@pytest.mark.slow
async def test_metrics_answer_over_100k_poses(
    client: httpx.AsyncClient, db: Database, settings: Settings, record_property: Any
) -> None:
    """100,000 generated poses written in bulk; every endpoint answers with figures that match them.
    The times are reported (pytest's `record_property` and the output), not asserted."""
    admin = bearer(token_for(settings, await create_user(db, role=Role.ADMIN)))
    users = [await create_user(db) for _ in range(10)]
    projects = [await create_project(db, user) for user in users]
    category = await create_category(db, "bulk")
    library = [await create_pose(db, category, f"Bulk Pose {n}") for n in range(20)]
    now = utcnow()
    generations: list[dict[str, Any]] = []
    poses: list[dict[str, Any]] = []
    codes = ("PROVIDER_TIMEOUT", "PROVIDER_UNAVAILABLE", "CONTENT_REJECTED")
    for g in range(BULK_POSES // POSES_PER_GENERATION):
        generation_id = new_id()
        created = now - timedelta(minutes=g % 600)
        owner = g % len(users)
        generations.append(
            {
                "id": generation_id,
                "user_id": users[owner].id,
                "project_id": projects[owner].id,
                "generation_type": "GALLERY_REFERENCE",
                "batch_size": 1,
                "variation_count": 1,
                "total_expected": POSES_PER_GENERATION,
                "engine": "mannequin",
                "quality": "draft",
                "base_seed": g,
                "status": "partial",
                "credit_charged": 15 * POSES_PER_GENERATION,
                "credit_refunded": 15 * 10,
                "poses_completed": 90,
                "poses_failed": 10,
                "created_at": created,
                "updated_at": created,
            }
        )
        for i in range(POSES_PER_GENERATION):
            failed = i >= 90
            poses.append(
                {
                    "id": new_id(),
                    "generation_id": generation_id,
                    "user_id": users[owner].id,
                    "pose_id": library[(g + i) % len(library)].id,
                    "variation_key": f"v{i}",
                    "variation_index": i,
                    "seed": i,
                    "keypoints": KEYPOINTS,
                    "engine": "mannequin",
                    "status": "failed" if failed else "completed",
                    "cost": 15,
                    "refunded": failed,
                    "error_code": codes[i % 3] if failed else None,
                    "generation_time_ms": None if failed else 1000 + i,
                    "created_at": created,
                    "completed_at": created,
                    "updated_at": created,
                    "available_at": created,
                }
            )
    started = time.perf_counter()
    async with db.session() as session:
        await session.execute(insert(Generation), generations)
        for chunk in range(0, len(poses), 10_000):
            await session.execute(insert(GeneratedPose), poses[chunk : chunk + 10_000])
    insert_seconds = time.perf_counter() - started
    timings: dict[str, float] = {}
    for path in ENDPOINTS:
        started = time.perf_counter()
        response = await client.get(f"{P}{path}", headers=admin, params={"period": "all"})
        timings[path] = round(time.perf_counter() - started, 3)
        assert response.status_code == 200, response.text
    body = (await client.get(f"{P}/metrics", headers=admin, params={"period": "all"})).json()
    assert body["totalPosesGenerated"] == 90 * 1000
    assert body["successRate"] == 90.0
    assert body["avgGenerationTimeMs"]["samples"] == 90_000
    # Every generation renders 1000…1089 ms once each: the median lies between 1044 and 1045.
    assert body["avgGenerationTimeMs"]["p50"] == 1044.5
    errors = (await client.get(f"{P}/metrics/errors", headers=admin, params={"period": "all"})).json()
    assert errors["totalFailed"] == 10_000
    report = {"backend": db.dialect, "insert_s": round(insert_seconds, 2), **timings}
    record_property("metrics_100k", report)
    print(f"\nmetrics over {BULK_POSES} poses: {report}")  # noqa: T201 - the benchmark's result
