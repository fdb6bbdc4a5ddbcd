"""One process-wide memory budget for decoding and re-encoding images.

A 130 KB PNG can declare 40 megapixels, and decoding it costs hundreds of megabytes: without a
limit, eight such uploads at once took a server from 175 MB to 3.8 GB. Every place that decodes a
client's image (upload and avatar sanitising, the worker's decode of an uploaded background) first
reserves its estimated peak here, from the image header alone, and releases it when the work is
done. Work that does not fit waits, first come first served, for at most the configured time, and
is then refused with 503 `SERVICE_UNAVAILABLE` and `Retry-After`.

The budget is shared by the threads and event loops of a process: its bookkeeping sits behind a
`threading.Lock`, and a waiter is woken on its own loop with `call_soon_threadsafe`. The pixels are
decoded in the thread pool; only the bookkeeping runs on the event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol, cast

from PIL import Image
from starlette.concurrency import run_in_threadpool

from posegen.errors import ServiceUnavailable

MIB = 1024 * 1024

# Bytes per pixel of Pillow's in-memory image by mode. Pillow stores 3-channel modes in 4 bytes;
# anything unlisted is costed at the widest (4), which errs on the safe side.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}


def image_bytes(width: int, height: int, mode: str) -> int:
    """What Pillow holds in memory for one decoded image of this size and mode."""
    return width * height * _BYTES_PER_PIXEL.get(mode, 4)


@dataclass(eq=False)
class _Waiter:
    amount: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = False


@dataclass(eq=False)
class ImageMemoryBudget:
    """Bytes of image memory in flight, bounded by `capacity`; see the module docstring.

    A reservation larger than the whole budget is cut down to it: such an image then runs alone
    rather than never. The limits on what an upload may declare keep that case rare.
    """

    capacity: int
    wait_seconds: float
    _used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: deque[_Waiter] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.capacity <= 0:
            raise ValueError("the image memory budget must be positive")

    @property
    def in_use(self) -> int:
        """Bytes reserved right now."""
        with self._lock:
            return self._used

    @property
    def waiting(self) -> int:
        """Reservations waiting for room right now."""
        with self._lock:
            return len(self._waiters)

    @property
    def retry_after(self) -> int:
        """The `Retry-After` (seconds) of a refusal: about as long as a reservation may wait."""
        return max(1, math.ceil(self.wait_seconds))

    @asynccontextmanager
    async def reserve(self, amount: int) -> AsyncIterator[int]:
        """Hold `amount` bytes (at most the capacity) for the block; yields what was reserved.

        Waits up to `wait_seconds` for room, then raises `ServiceUnavailable` (503 with
        `Retry-After`). The reservation is released when the block ends, however it ends.
        """
        held = await self._acquire(min(max(amount, 0), self.capacity))
        try:
            yield held
        finally:
            self._release(held)

    async def _acquire(self, amount: int) -> int:
        with self._lock:
            # First come, first served: nobody overtakes a waiter, so a large image is not starved
            # by a stream of small ones.
            if not self._waiters and self._used + amount <= self.capacity:
                self._used += amount
                return amount
            loop = asyncio.get_running_loop()
            waiter = _Waiter(amount, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await waiter.future
        except BaseException as exc:
            with self._lock:
                if waiter.granted:
                    # Granted just as the wait ended: give the room back to whoever is next.
                    self._used -= amount
                else:
                    self._waiters.remove(waiter)
                self._wake_locked()
            if isinstance(exc, TimeoutError):
                raise ServiceUnavailable(
                    "The server is busy processing other images; try again shortly",
                    details={"retryAfterSeconds": self.retry_after},
                    headers={"Retry-After": str(self.retry_after)},
                ) from None
            raise
        return amount

    def _release(self, amount: int) -> None:
        with self._lock:
            self._used -= amount
            self._wake_locked()

    def _wake_locked(self) -> None:
        """Grant waiters from the front while they fit. Call with the lock held."""
        while self._waiters and self._used + self._waiters[0].amount <= self.capacity:
            waiter = self._waiters.popleft()
            waiter.granted = True
            self._used += waiter.amount
            try:
                waiter.loop.call_soon_threadsafe(_resolve, waiter.future)
            except RuntimeError:
                # Its loop is closed: nobody will use the room, so it is not taken.
                waiter.granted = False
                self._used -= waiter.amount


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_shared: dict[tuple[int, float], ImageMemoryBudget] = {}
_shared_lock = threading.Lock()


class _BudgetLimits(Protocol):
    @property
    def image_memory_budget_mb(self) -> int: ...

    @property
    def image_memory_wait_seconds(self) -> float: ...


class BudgetSettings(Protocol):
    """What the budget reads of the settings (`posegen.config.Settings` has it): imaging knows
    nothing of the settings module itself (an import-linter contract)."""

    @property
    def server(self) -> _BudgetLimits: ...


def shared_budget(settings: BudgetSettings) -> ImageMemoryBudget:
    """The budget of this process for these settings.

    A process runs with one `Settings`, so the API and an embedded worker get the same object;
    only tests, which build many settings in one process, see more than one.
    """
    key = (settings.server.image_memory_budget_mb * MIB, settings.server.image_memory_wait_seconds)
    with _shared_lock:
        budget = _shared.get(key)
        if budget is None:
            budget = _shared[key] = ImageMemoryBudget(capacity=key[0], wait_seconds=key[1])
        return budget


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        # The symbols already loaded into this process: the C library's, among them.
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to trim, the allocator behaves otherwise
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return cast("Callable[[int], int]", function)


_malloc_trim = _find_malloc_trim()


def release_freed_memory() -> None:
    """Hand memory that image work has freed back to the operating system (glibc only).

    Pillow allocates images in 16 MiB blocks; glibc serves those from per-thread arenas once its
    adaptive mmap threshold has grown, and keeps freed arena memory mapped. Each thread-pool thread
    that decoded a large image would then keep its peak resident, and the process's memory would
    grow with the number of threads, not with what the budget lets run at once. `malloc_trim(0)`
    returns the free pages of every arena. Call it after the images of a reservation are freed.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)


def _header(data: bytes) -> tuple[int, int, str]:
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        return image.width, image.height, image.mode


def _open_rgb(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode == "RGB":
        return image
    # `convert` to the mode an image already has would copy it: convert only what is not RGB.
    converted = image.convert("RGB")
    del image
    release_freed_memory()
    return converted


async def decode_rgb(budget: ImageMemoryBudget, data: bytes) -> Image.Image:
    """Decode stored image bytes to RGB in the thread pool, within `budget`.

    The reservation covers the decode and the conversion, and is released when the result is
    returned; the caller owns the image.
    """
    width, height, mode = await run_in_threadpool(_header, data)
    cost = image_bytes(width, height, mode) + (image_bytes(width, height, "RGB") if mode != "RGB" else 0)
    async with budget.reserve(cost):
        return await run_in_threadpool(_open_rgb, data)
