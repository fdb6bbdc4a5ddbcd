"""Library search: every word in any order, the synonym table, literal `%`, `_` and `\\`, on both
databases."""

from __future__ import annotations

import httpx
import pytest

from posegen.config import Settings
from posegen.db import Database
from posegen.library import synonyms
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_user

P = "/api/apps/pose-generator"

POSES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Arms Crossed", "Standing tall, looking at the camera.", ("confident",)),
    ("Crossed Arms Lean", "Leaning on a wall.", ("casual",)),
    ("Arms Raised", "Both arms up, crossed at the wrists.", ("joy",)),
    ("Seated Reading", "On a chair with a book.", ("indoor",)),
    ("Hijab Portrait", "Soft headscarf drape, one hand at the chin.", ("portrait",)),
    ("Deep Squat", "Held low.", ("gym",)),
    ("Reclining on a Sofa", "Stretched out, head on a cushion.", ("rest",)),
    ("Sale 50% Off", "A shop pose.", ("retail",)),
    ("Sale 500 Off", "A shop pose.", ("retail",)),
    ("Snake_Case", "A coder's pose.", ("desk",)),
    ("SnakeXCase", "A coder's pose.", ("desk",)),
    ("Back\\Slash", "A typographer's pose.", ("type",)),
    ("Backslash", "A typographer's pose.", ("type",)),
)


@pytest.fixture
async def headers(db: Database, settings: Settings) -> dict[str, str]:
    user = await create_user(db)
    category = await create_category(db, "search")
    for name, description, tags in POSES:
        await create_pose(db, category, name, description=description, tags=tags)
    return bearer(token_for(settings, user))


async def found(client: httpx.AsyncClient, headers: dict[str, str], search: str) -> list[str]:
    response = await client.get(f"{P}/library", params={"search": search, "sort": "name"}, headers=headers)
    assert response.status_code == 200, response.text
    return [pose["name"] for pose in response.json()["poses"]]


async def test_every_word_matches_in_any_order(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    both = ["Arms Crossed", "Arms Raised", "Crossed Arms Lean"]
    assert await found(client, headers, "crossed arms") == both
    assert await found(client, headers, "arms crossed") == both
    assert await found(client, headers, "Crossed, ARMS") == both
    assert await found(client, headers, "arms crossed lean") == ["Crossed Arms Lean"]
    assert await found(client, headers, "arms crossed gym") == []  # every word must match


async def test_synonyms_match_each_other(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert await found(client, headers, "sitting") == ["Seated Reading"]
    assert await found(client, headers, "sit book") == ["Seated Reading"]
    assert await found(client, headers, "kerudung") == ["Hijab Portrait"]
    assert await found(client, headers, "jilbab hands") == ["Hijab Portrait"]
    assert await found(client, headers, "squatting") == ["Deep Squat"]
    assert await found(client, headers, "lying") == ["Reclining on a Sofa"]
    assert await found(client, headers, "folded arms") == await found(client, headers, "crossed arms")


async def test_percent_underscore_and_backslash_stay_literal(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert await found(client, headers, "50% sale") == ["Sale 50% Off"]
    assert await found(client, headers, "%%") == []
    assert await found(client, headers, "snake_case") == ["Snake_Case"]
    assert await found(client, headers, "e_c") == ["Snake_Case"]
    assert await found(client, headers, "back\\slash") == ["Back\\Slash"]
    assert await found(client, headers, "\\\\") == []


async def test_searches_are_bounded_in_words(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    eight = " ".join(["arms"] * 3 + ["crossed", "lean", "leaning", "on", "wall", "casual", "a"])
    assert len(synonyms.words(eight)) == synonyms.MAX_WORDS
    assert await found(client, headers, eight) == ["Crossed Arms Lean"]
    nine = eight + " the"
    refused = await client.get(f"{P}/library", params={"search": nine}, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "search"
    assert len(await found(client, headers, "'' ,,")) == len(POSES)  # no word at all: no filter


def test_each_word_is_in_one_group_at_most() -> None:
    listed = [word for group in synonyms.GROUPS for word in group]
    assert len(listed) == len(set(listed))
    assert synonyms.alternatives("seated") == ("seated", "sit", "sitting")
    assert synonyms.alternatives("table") == ("table",)
