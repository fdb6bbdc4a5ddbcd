"""A claim reads what its renders need in the claim's own transaction: preparing a claimed pose
costs no statement, the project's avatar picture included."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image, ImageChops
from sqlalchemy import event

from posegen.config import Settings
from posegen.db import Database
from posegen.kit.time import utcnow
from posegen.storage.factory import create_storage
from posegen.work.jobs import Services
from posegen.work.kinds.pose import POSE
from tests.generation.helpers import P, scene, submit

ENGINES = ["mannequin"]


def avatar_png() -> bytes:
    image = Image.new("RGB", (48, 64), (200, 80, 40))
    image.paste((20, 140, 220), (0, 0, 24, 32))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_claimed_pose_is_prepared_with_its_avatar_without_a_statement(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    sent = avatar_png()
    answer = await client.post(
        f"{P}/projects/{world.project.id}/avatar",
        files={"file": ("me.png", sent, "image/png")},
        headers=world.headers,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
    }
    queued = await submit(client, world.headers, body)
    assert queued.status_code == 202, queued.text
    async with db.session() as session:
        [job] = await POSE.claim_many(session, "w", ENGINES, utcnow(), 60, 1)

    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    storage = create_storage(settings)
    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    try:
        taking = await POSE.prepare(Services(db, storage, settings, frozenset(ENGINES)), job)
        not_taking = await POSE.prepare(Services(db, storage, settings, frozenset()), job)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", counted)
    assert statements == []
    received = taking.request.avatar_image
    assert received is not None
    with Image.open(io.BytesIO(sent)) as original:
        assert received.size == original.size
        assert ImageChops.difference(received, original.convert("RGB")).getbbox() is None
    assert not_taking.request.avatar_image is None
