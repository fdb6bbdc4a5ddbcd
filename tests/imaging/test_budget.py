"""The image memory budget: weights, waiting in order, refusal with 503, release however a block ends."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from posegen.errors import ServiceUnavailable
from posegen.imaging.budget import (
    MIB,
    ImageMemoryBudget,
    decode_rgb,
    image_bytes,
    release_freed_memory,
    shared_budget,
)
from posegen.projects.models import Upload
from posegen.storage.factory import create_storage
from posegen.work.inputs import background_spec
from tests.fixtures.app import make_settings


async def settle() -> None:
    """Let every task that can run, run (a few loop turns)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_image_bytes_follow_pillows_storage() -> None:
    # Pillow keeps 3-channel images in 4 bytes per pixel; palette and grey in one; 16-bit in two.
    assert image_bytes(100, 50, "RGB") == image_bytes(100, 50, "RGBA") == 20_000
    assert image_bytes(100, 50, "L") == image_bytes(100, 50, "P") == 5_000
    assert image_bytes(100, 50, "I;16") == 10_000
    assert image_bytes(100, 50, "CMYK") == 20_000


async def test_reservations_that_fit_run_together_and_the_next_waits() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    async with budget.reserve(40) as first, budget.reserve(60) as second:
        assert (first, second) == (40, 60)
        assert budget.in_use == 100
        entered = asyncio.Event()

        async def third() -> None:
            async with budget.reserve(1):
                entered.set()

        task = asyncio.create_task(third())
        await settle()
        assert not entered.is_set()  # 1 more byte does not fit beside 100
        assert budget.waiting == 1
    await asyncio.wait_for(task, 1)
    assert entered.is_set()
    assert (budget.in_use, budget.waiting) == (0, 0)


async def test_a_waiter_gets_in_when_room_is_released() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with budget.reserve(80):
            order.append("holder in")
            await release.wait()
            order.append("holder out")

    async def waiter() -> None:
        async with budget.reserve(50):
            order.append("waiter in")

    tasks = [asyncio.create_task(holder())]
    await settle()
    tasks.append(asyncio.create_task(waiter()))
    await settle()
    assert order == ["holder in"]
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert order == ["holder in", "holder out", "waiter in"]
    assert budget.in_use == 0


async def test_waiters_are_served_in_order_so_a_large_one_is_not_starved() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    order: list[str] = []
    release = asyncio.Event()

    async def job(name: str, amount: int, hold: asyncio.Event | None = None) -> None:
        async with budget.reserve(amount):
            order.append(name)
            if hold is not None:
                await hold.wait()

    holder = asyncio.create_task(job("holder", 60, release))
    await settle()
    large = asyncio.create_task(job("large", 90))
    await settle()
    small = asyncio.create_task(job("small", 10))  # would fit beside the holder, but queues behind
    await settle()
    assert order == ["holder"]
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, large, small), 1)
    assert order == ["holder", "large", "small"]
    assert budget.in_use == 0


async def test_a_reservation_over_the_capacity_runs_alone() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    async with budget.reserve(10_000) as held:
        assert held == 100
        assert budget.in_use == 100
    assert budget.in_use == 0


async def test_a_full_budget_refuses_with_503_and_retry_after_once_the_wait_is_over() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=0.2)
    async with budget.reserve(70):
        started = asyncio.get_running_loop().time()
        with pytest.raises(ServiceUnavailable) as refused:
            async with budget.reserve(50):
                pytest.fail("entered a full budget")
        waited = asyncio.get_running_loop().time() - started
        assert 0.15 <= waited < 2
        assert refused.value.status == 503
        assert refused.value.code == "SERVICE_UNAVAILABLE"
        assert refused.value.headers == {"Retry-After": "1"}
        # The refused reservation left nothing behind: what fits still gets in at once.
        assert (budget.in_use, budget.waiting) == (70, 0)
        async with budget.reserve(30):
            assert budget.in_use == 100
    assert budget.in_use == 0


async def test_retry_after_follows_the_wait() -> None:
    assert ImageMemoryBudget(capacity=1, wait_seconds=0).retry_after == 1
    assert ImageMemoryBudget(capacity=1, wait_seconds=7.2).retry_after == 8


async def test_zero_wait_refuses_at_once_and_admits_what_fits() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=0)
    async with budget.reserve(100):
        with pytest.raises(ServiceUnavailable):
            async with budget.reserve(1):
                pass
    async with budget.reserve(100):
        assert budget.in_use == 100


async def test_the_reservation_is_released_when_the_block_raises() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    with pytest.raises(RuntimeError, match="decoder broke"):
        async with budget.reserve(80):
            raise RuntimeError("decoder broke")
    assert budget.in_use == 0
    async with budget.reserve(100):
        assert budget.in_use == 100


async def test_a_cancelled_waiter_leaves_the_queue_and_lets_the_next_in() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    release = asyncio.Event()
    entered: list[str] = []

    async def job(name: str, amount: int, hold: asyncio.Event | None = None) -> None:
        async with budget.reserve(amount):
            entered.append(name)
            if hold is not None:
                await hold.wait()

    holder = asyncio.create_task(job("holder", 60, release))
    await settle()
    blocked = asyncio.create_task(job("blocked", 90))
    await settle()
    behind = asyncio.create_task(job("behind", 40))  # fits beside the holder once "blocked" is gone
    await settle()
    assert budget.waiting == 2
    blocked.cancel()
    await asyncio.wait_for(behind, 1)
    assert entered == ["holder", "behind"]
    with pytest.raises(asyncio.CancelledError):
        await blocked
    release.set()
    await holder
    assert (budget.in_use, budget.waiting) == (0, 0)


async def test_a_cancelled_holder_releases() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    inside = asyncio.Event()

    async def holder() -> None:
        async with budget.reserve(100):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(holder())
    await inside.wait()
    assert budget.in_use == 100
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert budget.in_use == 0


async def test_the_budget_is_shared_across_threads_and_event_loops() -> None:
    budget = ImageMemoryBudget(capacity=100, wait_seconds=5)
    held = threading.Event()
    release = threading.Event()

    async def hold_elsewhere() -> None:
        async with budget.reserve(100):
            held.set()
            await asyncio.to_thread(release.wait)

    other = threading.Thread(target=lambda: asyncio.run(hold_elsewhere()))
    other.start()
    try:
        assert await asyncio.to_thread(held.wait, 5)
        entered = asyncio.Event()

        async def here() -> None:
            async with budget.reserve(10):
                entered.set()

        task = asyncio.create_task(here())
        await asyncio.sleep(0.05)
        assert not entered.is_set()
        release.set()  # the other loop releases; this loop's waiter is woken thread-safely
        await asyncio.wait_for(task, 2)
        assert entered.is_set()
    finally:
        release.set()
        await asyncio.to_thread(other.join, 5)
    assert budget.in_use == 0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ImageMemoryBudget(capacity=0, wait_seconds=1)


def test_one_budget_per_process_and_settings(tmp_path: Path) -> None:
    settings = make_settings("sqlite:///unused.db", tmp_path)
    again = make_settings("sqlite:///other.db", tmp_path / "elsewhere")
    budget = shared_budget(settings)
    assert budget is shared_budget(again)  # the API and an embedded worker share one budget
    assert budget.capacity == settings.server.image_memory_budget_mb * MIB
    assert budget.wait_seconds == settings.server.image_memory_wait_seconds
    smaller = make_settings("sqlite:///unused.db", tmp_path, server={"image_memory_budget_mb": 16})
    assert shared_budget(smaller).capacity == 16 * MIB


def _png(mode: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 7).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_decode_rgb_decodes_within_the_budget() -> None:
    budget = ImageMemoryBudget(capacity=10 * MIB, wait_seconds=1)
    image = await decode_rgb(budget, _png("L", (40, 30)))
    assert (image.mode, image.size) == ("RGB", (40, 30))
    assert image.getpixel((0, 0)) == (7, 7, 7)
    assert budget.in_use == 0


async def test_decode_rgb_refuses_while_the_budget_is_full() -> None:
    budget = ImageMemoryBudget(capacity=10 * MIB, wait_seconds=0.05)
    async with budget.reserve(10 * MIB):
        with pytest.raises(ServiceUnavailable):
            await decode_rgb(budget, _png("RGB", (40, 30)))
    assert budget.in_use == 0


def test_release_freed_memory_is_safe_to_call() -> None:
    # glibc's malloc_trim where there is one; a no-op elsewhere. Either way it must not fail.
    release_freed_memory()
    release_freed_memory()


async def test_the_worker_decodes_an_uploaded_background_within_the_budget(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'unused.db'}",
        tmp_path,
        server={"image_memory_budget_mb": 17, "image_memory_wait_seconds": 0},
    )
    storage = create_storage(settings)
    data = _png("P", (60, 40))
    key = "uploads/someone/background.png"
    await storage.put(key, data, "image/png")
    upload = Upload(
        id="background", user_id="someone", storage_key=key, mime="image/png", width=60, height=40,
        size_bytes=len(data), sha256="0" * 64,
    )  # fmt: skip
    try:
        spec = await background_spec(storage, settings, "upload", None, None, upload)
        assert spec is not None and spec.image is not None
        assert (spec.image.mode, spec.image.size) == ("RGB", (60, 40))
        budget = shared_budget(settings)
        assert budget.in_use == 0
        async with budget.reserve(budget.capacity):
            with pytest.raises(ServiceUnavailable):
                await background_spec(storage, settings, "upload", None, None, upload)
        assert budget.in_use == 0
    finally:
        await storage.aclose()
