"""The generation repository's owner-filtered lookups, on both databases."""

from __future__ import annotations

from posegen.auth.models import User
from posegen.db import Database
from posegen.generation import repository as generations
from posegen.generation.models import GeneratedPose, Generation
from tests.fixtures.factories import STANDING, create_category, create_pose, create_project, create_user


async def generation_of(db: Database, user: User) -> tuple[str, str]:
    """A one-pose generation of `user`; (generation id, generated pose id)."""
    project = await create_project(db, user)
    library_pose = await create_pose(db, await create_category(db, f"cat-{user.id[-6:].lower()}"), "Stand")
    async with db.session() as session:
        generation = Generation(
            user_id=user.id,
            project_id=project.id,
            generation_type="GALLERY_REFERENCE",
            batch_size=1,
            variation_count=1,
            total_expected=1,
            engine="mannequin",
            quality="draft",
            base_seed=1,
        )
        await generations.add_generation(session, generation)
        pose = GeneratedPose(
            generation_id=generation.id,
            user_id=user.id,
            pose_id=library_pose.id,
            variation_key=f"{library_pose.id}-v1",
            variation_index=0,
            seed=1,
            keypoints={"format": "openpose-18", "points": STANDING},
            engine="mannequin",
        )
        await generations.add_poses(session, [pose])
        return generation.id, pose.id


async def test_another_users_generation_and_pose_read_as_absent(db: Database) -> None:
    alice, bob = await create_user(db), await create_user(db)
    generation_id, pose_id = await generation_of(db, alice)
    async with db.session(write=False) as session:
        found = await generations.owned_generation(session, alice.id, generation_id)
        assert found is not None and found.id == generation_id
        # Loaded in this session now: the identity map must not let bob's lookup through.
        assert await generations.owned_generation(session, bob.id, generation_id) is None
        assert await generations.owned_generation(session, alice.id, "no-such-generation") is None

        pose = await generations.owned_pose(session, alice.id, pose_id)
        assert pose is not None and pose.id == pose_id
        assert await generations.owned_pose(session, bob.id, pose_id) is None
        assert await generations.owned_pose(session, alice.id, "no-such-pose") is None

        assert await generations.owns_generation(session, alice.id, generation_id)
        assert not await generations.owns_generation(session, bob.id, generation_id)
        assert not await generations.owns_generation(session, alice.id, "no-such-generation")
