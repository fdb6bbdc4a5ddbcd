"""Rate limits over HTTP, on both storages (memory and a real Redis) and both databases: poses per
hour weighted by pose count, writes per user, login/register per client address, the headers."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from posegen.db import Database
from posegen.generation.models import Generation
from posegen.observability.prometheus import PROCESS
from posegen.projects.models import Project
from tests.credits.helpers import balance_of
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import DEFAULT_PASSWORD, create_user, grant
from tests.generation.helpers import P, Scene, scene
from tests.ratelimit.conftest import Storage, limited_settings, serving

POSE_WINDOW = 3  # seconds: short enough to wait out, long enough to hold a few requests


def poses(world: Scene, count: int) -> dict[str, object]:
    """A gallery request of exactly `count` poses (one library pose, `count` variations)."""
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": count,
        "quality": "draft",
    }


async def generations_of(db: Database, user_id: str) -> int:
    async with db.session(write=False) as session:
        count = await session.scalar(
            select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
        )
    return int(count or 0)


def refused_writes() -> float:
    value = PROCESS.registry.get_sample_value("posegen_rate_limited_total", {"limit": "writes"})
    return value or 0.0


def assert_rate_headers(response: httpx.Response, limit: int, remaining: int) -> None:
    assert response.headers["X-RateLimit-Limit"] == str(limit), response.headers
    assert response.headers["X-RateLimit-Remaining"] == str(remaining), response.headers
    assert int(response.headers["X-RateLimit-Reset"]) >= 0


def assert_refused(response: httpx.Response, limit_name: str) -> float:
    """A 429 in the envelope with its headers; the exact wait it names."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["details"]["limit"] == limit_name
    wait = body["error"]["details"]["retryAfterSeconds"]
    assert int(response.headers["Retry-After"]) == math.floor(wait) + 1
    return float(wait)


async def test_poses_per_hour_is_weighted_by_pose_count(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    settings = limited_settings(
        database_url, data_dir, storage, poses_per_hour=10, poses_window_seconds=POSE_WINDOW
    )
    first = await scene(db, settings)
    second = await scene(db, settings)
    async with serving(settings) as (_, [client]):
        await storage.window_start(POSE_WINDOW)

        six = await client.post(f"{P}/generate", json=poses(first, 6), headers=first.headers)
        assert six.status_code == 202, six.text
        assert_rate_headers(six, limit=10, remaining=4)
        balance = await balance_of(db, first.user.id)

        # 6 + 5 > 10: refused before anything is charged, and not counted.
        five = await client.post(f"{P}/generate", json=poses(first, 5), headers=first.headers)
        assert_refused(five, "poses")
        assert_rate_headers(five, limit=10, remaining=4)
        assert await balance_of(db, first.user.id) == balance
        assert await generations_of(db, first.user.id) == 1

        # 6 + 4 fits at once (it would not, had the refused 5 been counted).
        four = await client.post(f"{P}/generate", json=poses(first, 4), headers=first.headers)
        assert four.status_code == 202, four.text
        assert_rate_headers(four, limit=10, remaining=0)
        assert await generations_of(db, first.user.id) == 2

        # The other user's limit is their own. After 6, a 5 waits exactly as long as Retry-After says.
        assert (
            await client.post(f"{P}/generate", json=poses(second, 6), headers=second.headers)
        ).status_code == 202
        refused = await client.post(f"{P}/generate", json=poses(second, 5), headers=second.headers)
        refused_at = time.monotonic()
        wait = assert_refused(refused, "poses")
        # A sliding-window counter lets 5 more in once the 6 weigh at most 4: a third of a window
        # after the window that holds them ends, so at most 4/3 of a window from now. How much of
        # that is left depends on how long the requests above took (a loaded machine may be well
        # into it), so the early try is made only when there is time for it.
        assert 0 < wait <= POSE_WINDOW * 4 / 3
        if wait > 0.5:
            await asyncio.sleep(wait - 0.4)
            early = await client.post(f"{P}/generate", json=poses(second, 5), headers=second.headers)
            assert_refused(early, "poses")
        await asyncio.sleep(max(0.0, refused_at + int(refused.headers["Retry-After"]) - time.monotonic()))
        later = await client.post(f"{P}/generate", json=poses(second, 5), headers=second.headers)
        assert later.status_code == 202, later.text
        assert await generations_of(db, second.user.id) == 2


async def test_poses_refused_by_a_later_rule_are_given_back_and_races_admit_exactly_the_limit(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    settings = limited_settings(database_url, data_dir, storage, poses_per_hour=10)
    broke = await scene(db, settings, credits=0)
    busy = await scene(db, settings)
    async with serving(settings) as (_, [client]):
        # No credits: 402 after the poses were reserved; they come back, so 10 fit afterwards.
        unpaid = await client.post(f"{P}/generate", json=poses(broke, 6), headers=broke.headers)
        assert unpaid.status_code == 402, unpaid.text
        await grant(db, broke.user, 10_000)
        full = await client.post(f"{P}/generate", json=poses(broke, 10), headers=broke.headers)
        assert full.status_code == 202, full.text
        assert_rate_headers(full, limit=10, remaining=0)

        # Ten concurrent submissions of 3 poses: exactly three fit under 10.
        answers = await asyncio.gather(
            *(client.post(f"{P}/generate", json=poses(busy, 3), headers=busy.headers) for _ in range(10))
        )
        assert sorted(answer.status_code for answer in answers) == [202] * 3 + [429] * 7
        assert await generations_of(db, busy.user.id) == 3

        # A request larger than the limit itself can never fit, and says so.
        twelve = {**poses(busy, 6), "selectedPoseIds": [busy.poses[0].id, busy.poses[1].id]}
        huge = await client.post(f"{P}/generate", json=twelve, headers=busy.headers)
        assert huge.status_code == 429
        assert huge.json()["error"]["details"]["retryAfterSeconds"] is None
        assert huge.headers["Retry-After"] == str(3600)


async def test_writes_per_minute_per_user(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    settings = limited_settings(database_url, data_dir, storage, writes_per_minute=3)
    alice = await create_user(db)
    bob = await create_user(db)
    alice_headers, bob_headers = bearer(token_for(settings, alice)), bearer(token_for(settings, bob))
    async with serving(settings) as (app, [client]):
        refusals: list[str] = []  # what a metrics counter hooks into
        app.state.services.limiter.rejection_hooks.append(refusals.append)
        counted_before = refused_writes()
        for left in (2, 1, 0):
            created = await client.post(
                f"{P}/projects", json={"projectName": f"P{left}"}, headers=alice_headers
            )
            assert created.status_code == 201, created.text
            assert_rate_headers(created, limit=3, remaining=left)
        refused = await client.post(f"{P}/projects", json={"projectName": "Over"}, headers=alice_headers)
        wait = assert_refused(refused, "writes")
        assert 0 < wait <= 60
        # Any write method counts, and the refusal wrote nothing.
        project_id = created.json()["project"]["id"]
        assert (await client.delete(f"{P}/projects/{project_id}", headers=alice_headers)).status_code == 429
        assert refusals == ["writes", "writes"]
        assert refused_writes() == counted_before + 2  # posegen_rate_limited_total{limit="writes"}
        async with db.session(write=False) as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(Project).where(Project.user_id == alice.id)
                )
                == 3
            )
        # Reads are not writes; another user's writes are their own.
        listed = await client.get(f"{P}/projects", headers=alice_headers)
        assert listed.status_code == 200
        assert "X-RateLimit-Limit" not in listed.headers
        other = await client.post(f"{P}/projects", json={"projectName": "Bob's"}, headers=bob_headers)
        assert other.status_code == 201
        assert_rate_headers(other, limit=3, remaining=2)


async def test_login_and_register_per_client_address(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    settings = limited_settings(
        database_url, data_dir, storage, auth_per_minute=3, trusted_proxies=["10.0.0.0/8"]
    )
    user = await create_user(db)
    right = {"email": user.email, "password": DEFAULT_PASSWORD}
    wrong = {"email": user.email, "password": "not the password"}
    direct_peer, proxy_peer = ("192.0.2.7", 40000), ("10.1.2.3", 40001)
    async with serving(settings, direct_peer, proxy_peer) as (_, [direct, proxy]):
        # Login and register share the budget of an address; right or wrong, each is an attempt.
        first = await direct.post("/api/auth/login", json=wrong)
        assert first.status_code == 401
        assert_rate_headers(first, limit=3, remaining=2)
        registered = await direct.post(
            "/api/auth/register", json={"email": "new@example.com", "password": "long enough pw", "name": "N"}
        )
        assert registered.status_code == 201
        assert_rate_headers(registered, limit=3, remaining=1)
        assert (await direct.post("/api/auth/login", json=right)).status_code == 200
        refused = await direct.post("/api/auth/login", json=right)
        assert_refused(refused, "auth")
        # X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
        spoofed = await direct.post(
            "/api/auth/login", json=right, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert spoofed.status_code == 429

        # Behind a trusted proxy each forwarded client has its own budget: the rightmost address that
        # is not a trusted proxy counts, whatever the client wrote to its left.
        for _ in range(3):
            ok = await proxy.post("/api/auth/login", json=right, headers={"X-Forwarded-For": "203.0.113.5"})
            assert ok.status_code == 200
        over = await proxy.post(
            "/api/auth/login", json=right, headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.5, 10.9.9.9"}
        )
        assert_refused(over, "auth")
        other = await proxy.post("/api/auth/login", json=right, headers={"X-Forwarded-For": "203.0.113.6"})
        assert other.status_code == 200
        assert_rate_headers(other, limit=3, remaining=2)
        # The proxy's own address is a budget too (requests it makes without a forwarded client).
        own = await proxy.post("/api/auth/login", json=right)
        assert own.status_code == 200
        assert_rate_headers(own, limit=3, remaining=2)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_limits_can_be_raised_out_of_the_way(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    # Benchmarks raise the numbers; nothing else needs switching off. 50 wrong logins pass as 401s.
    settings = limited_settings(database_url, data_dir, storage, auth_per_minute=1_000_000)
    user = await create_user(db)
    async with serving(settings) as (_, [client]):
        answers = await asyncio.gather(
            *(
                client.post("/api/auth/login", json={"email": user.email, "password": f"x{n:09d}"})
                for n in range(50)
            )
        )
    assert {answer.status_code for answer in answers} == {401}
