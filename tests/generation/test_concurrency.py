"""Concurrent retries, submissions, cancels and deletes over HTTP, on both databases: no 5xx, one
charge per accepted unit of work, and the money agreeing with the ledger (`posegen doctor`)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select

from posegen.config import Settings
from posegen.credits.models import CreditEntry
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation import outcomes
from posegen.generation import repository as generations
from posegen.generation.models import GeneratedPose, Generation, PoseStatus
from tests.credits.helpers import balance_of, ledger_sum
from tests.generation.helpers import P, Scene, scene, submit


def four_poses(world: Scene, **extra: object) -> dict[str, object]:
    """4 standard poses: 120 credits."""
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": 2,
        **extra,
    }


async def failed_generation(client: httpx.AsyncClient, db: Database, world: Scene) -> str:
    """A generation of 4 poses (120 credits) whose poses all failed and were refunded."""
    accepted = await submit(client, world.headers, four_poses(world))
    assert accepted.status_code == 202, accepted.text
    generation_id = str(accepted.json()["generationId"])
    async with db.session() as session:
        for pose in await generations.poses_of(session, generation_id):
            ended = await outcomes.end(
                session, pose, PoseStatus.FAILED, "PROVIDER_UNAVAILABLE", "boom", expect=PoseStatus.QUEUED
            )
            assert ended is not None
    async with db.session(write=False) as session:
        generation = await session.get(Generation, generation_id)
        assert generation is not None and generation.status == "failed"
    return generation_id


async def charges_of(db: Database, generation_id: str) -> list[int]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(CreditEntry.amount).where(
                CreditEntry.reference_type == "generation", CreditEntry.reference_id == generation_id
            )
        )
        return list(rows)


async def assert_doctor_passes(db: Database) -> None:
    findings = await examine(db)
    assert all(finding.ok for finding in findings), [f for f in findings if not f.ok]


async def test_ten_concurrent_retries_accept_one_and_charge_once(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    generation_id = await failed_generation(client, db, world)
    assert await balance_of(db, world.user.id) == 10_000

    responses = await asyncio.gather(
        *(client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers) for _ in range(10))
    )

    assert sorted(response.status_code for response in responses) == [202] + [409] * 9
    accepted = next(response for response in responses if response.status_code == 202)
    assert accepted.json()["posesRequeued"] == 4
    assert await charges_of(db, generation_id) == [-120, -120]
    assert await balance_of(db, world.user.id) == 10_000 - 120 == await ledger_sum(db, world.user.id)
    async with db.session(write=False) as session:
        generation = await session.get(Generation, generation_id)
        rounds = list(
            await session.scalars(
                select(GeneratedPose.charge_round).where(GeneratedPose.generation_id == generation_id)
            )
        )
    assert generation is not None
    assert (generation.status, generation.credit_charged, generation.credit_refunded) == ("queued", 240, 120)
    assert rounds == [1, 1, 1, 1]
    await assert_doctor_passes(db)


async def test_thirty_submissions_with_one_key_and_thirty_with_distinct_keys(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    same = {**world.headers, "Idempotency-Key": "one-order"}
    repeated, distinct = await asyncio.gather(
        asyncio.gather(*(submit(client, same, four_poses(world)) for _ in range(30))),
        asyncio.gather(
            *(
                submit(client, {**world.headers, "Idempotency-Key": f"order-{n}"}, four_poses(world))
                for n in range(30)
            )
        ),
    )

    assert {response.status_code for response in repeated} == {202}
    assert len({response.json()["generationId"] for response in repeated}) == 1
    assert {response.status_code for response in distinct} == {202}
    assert len({response.json()["generationId"] for response in distinct}) == 30
    async with db.session(write=False) as session:
        generations = await session.scalar(select(func.count()).select_from(Generation))
        usage = await session.scalar(
            select(func.count()).select_from(CreditEntry).where(CreditEntry.kind == "usage")
        )
    assert generations == usage == 31
    assert await balance_of(db, world.user.id) == 10_000 - 31 * 120 == await ledger_sum(db, world.user.id)
    await assert_doctor_passes(db)


async def test_one_key_with_two_bodies_concurrently_is_one_generation_and_409s(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    headers = {**world.headers, "Idempotency-Key": "two-bodies"}
    bodies = [four_poses(world), four_poses(world, batchSize=3)] * 10
    responses = await asyncio.gather(*(submit(client, headers, body) for body in bodies))
    codes = Counter(response.status_code for response in responses)
    assert set(codes) <= {202, 409}, codes
    assert codes[409] >= 10  # the body that lost is refused every time
    winners = {response.json()["generationId"] for response in responses if response.status_code == 202}
    assert len(winners) == 1
    assert all(
        response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        for response in responses
        if response.status_code == 409
    )
    assert len(await charges_of(db, winners.pop())) == 1
    await assert_doctor_passes(db)


async def test_twenty_mixed_cancel_retry_delete_of_one_generation(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    generation_id = await failed_generation(client, db, world)
    url = f"{P}/generations/{generation_id}"

    async def operation(n: int) -> tuple[str, httpx.Response]:
        kind = ("retry", "cancel", "delete")[n % 3]
        if kind == "delete":
            return kind, await client.delete(url, headers=world.headers)
        return kind, await client.post(f"{url}/{kind}", headers=world.headers)

    results = await asyncio.gather(*(operation(n) for n in range(20)))

    assert all(response.status_code < 500 for _, response in results), [
        (kind, response.status_code, response.text) for kind, response in results
    ]
    allowed = {"retry": {202, 404, 409}, "cancel": {200, 404}, "delete": {200, 404, 409}}
    assert all(response.status_code in allowed[kind] for kind, response in results)
    retried = sum(kind == "retry" and response.status_code == 202 for kind, response in results)
    # One charge for the submission, one per accepted retry, whatever else happened.
    assert len(await charges_of(db, generation_id)) == 1 + retried
    assert await balance_of(db, world.user.id) == await ledger_sum(db, world.user.id)
    await assert_doctor_passes(db)


async def test_a_cancelled_generation_resumes_with_retry_charged_again(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    accepted = await submit(client, world.headers, four_poses(world))
    generation_id = accepted.json()["generationId"]
    async with db.session() as session:
        first = (await generations.poses_of(session, generation_id))[0]
        await outcomes.end(
            session, first, PoseStatus.FAILED, "PROVIDER_UNAVAILABLE", "x", expect=PoseStatus.QUEUED
        )
    canceled = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert canceled.json()["generation"]["status"] == "canceled"
    assert await balance_of(db, world.user.id) == 10_000

    retried = await client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)

    assert retried.status_code == 202, retried.text
    assert retried.json()["posesRequeued"] == 4  # 1 failed + 3 cancelled
    assert await balance_of(db, world.user.id) == 10_000 - 120 == await ledger_sum(db, world.user.id)
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    assert detail["generation"]["status"] == "queued"
    assert {pose["status"] for pose in detail["generation"]["poses"]} == {"queued"}
    async with db.session(write=False) as session:
        generation = await session.get(Generation, generation_id)
    assert generation is not None and not generation.cancel_requested
    assert (generation.poses_failed, generation.poses_canceled) == (0, 0)
    # Cancelled again, everything comes back once more, through one refund per pose and round.
    again = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert again.json()["generation"]["status"] == "canceled"
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)
    finished = await client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)
    assert finished.status_code == 202
    completed_only = await client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)
    assert completed_only.status_code == 409
    await assert_doctor_passes(db)
