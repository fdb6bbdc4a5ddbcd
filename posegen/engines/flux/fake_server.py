"""A local HTTP server speaking the Hugging Face Inference text-to-image protocol.

Tests and benchmarks point `FluxEngine` at it instead of the paid API. It runs a
Starlette app under uvicorn in a background thread on 127.0.0.1 (a free port),
answers `POST /models/{owner}/{model}` and can be scripted per request:

    with FakeFluxServer(token="t") as server:
        server.script([Reply.rate_limited(retry_after=2), Reply.ok()])  # consumed in order
        server.on_prompt("FAIL-ME", Reply.bad_request())  # every matching prompt, not consumed
        server.set_default(Reply.ok(delay=0.2))  # once the script is used up
        ...  # FluxEngine(server.url, "t", ...)
        assert server.requests[0].json["parameters"]["seed"] == 7

Which reply a request gets: 401 when the bearer token is wrong, 400 when the body is
not a text-to-image request, then the first prompt rule that matches, then the next
scripted reply, then the default (200 with an image unless changed).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np
import uvicorn
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageDraw
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from posegen.kit.loopback_server import loopback_socket, serve_in_thread, stop_thread

DEFAULT_TOKEN = "fake-token"  # noqa: S105  # not a secret: what the fake server expects by default
MAX_EDGE = 4096  # refuse absurd sizes as HF does, so a typo cannot allocate gigabytes

_DEFAULT_ERRORS: dict[int, dict[str, Any]] = {
    400: {"error": "Bad request: invalid parameters"},
    401: {"error": "Invalid credentials in Authorization header"},
    403: {"error": "You don't have access to this model"},
    422: {"error": "Input validation error"},
    429: {"error": "Rate limit reached. You reached the free usage limit (reset hourly)."},
    500: {"error": "Internal Server Error"},
    502: {"error": "Bad Gateway"},
    503: {"error": "Model is currently loading", "estimated_time": 12.0},
}


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `body` is a JSON error body (None: a typical HF body for the status);
    `content` replaces the whole body (e.g. bytes that are not an image)."""

    status: int = 200
    retry_after: float | str | None = None  # sent as the Retry-After header when set
    body: Any = None
    delay: float = 0.0  # seconds to wait before answering
    hang: bool = False  # never answer (until the server stops); the client must time out
    content: bytes | None = None
    content_type: str | None = None
    image_size: tuple[int, int] | None = None  # answer this size instead of the requested one
    image_format: Literal["PNG", "JPEG"] = "PNG"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def ok(cls, delay: float = 0.0, image_size: tuple[int, int] | None = None) -> Reply:
        """200 with an image of the requested size (or `image_size`), after `delay` seconds."""
        return cls(200, delay=delay, image_size=image_size)

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None) -> Reply:
        """429, optionally with Retry-After."""
        return cls(429, retry_after=retry_after)

    @classmethod
    def loading(cls, estimated_time: float | None = 12.0, retry_after: float | str | None = None) -> Reply:
        """503 "Model is currently loading" with HF's `estimated_time` (None leaves it out)."""
        body: dict[str, Any] = {"error": "Model is currently loading"}
        if estimated_time is not None:
            body["estimated_time"] = estimated_time
        return cls(503, retry_after=retry_after, body=body)

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        """A 5xx without hints."""
        return cls(status)

    @classmethod
    def bad_request(cls, message: str = "Bad request: invalid parameters") -> Reply:
        """400 with an HF error text."""
        return cls(400, body={"error": message})

    @classmethod
    def content_rejected(cls) -> Reply:
        """400 saying the provider's safety checker refused the content."""
        return cls(
            400, body={"error": "NSFW content detected: the content was rejected by the safety checker"}
        )

    @classmethod
    def unauthorized(cls) -> Reply:
        """401 as for a wrong token."""
        return cls(401)

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """200 after `seconds`."""
        return cls(200, delay=seconds)

    @classmethod
    def hanging(cls) -> Reply:
        """Accept the request and never answer."""
        return cls(200, hang=True)


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received (also those it refused)."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # None when the body was not JSON
    received_at: float  # time.monotonic()

    @property
    def prompt(self) -> str | None:
        """The `inputs` text, when the body had one."""
        inputs = self.json.get("inputs") if isinstance(self.json, dict) else None
        return inputs if isinstance(inputs, str) else None


def fake_image(width: int, height: int, seed: int, prompt: str) -> Image.Image:
    """A deterministic RGB picture for (seed, prompt): a diagonal gradient and a stick-ish figure."""
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
    start = np.array(list(digest[0:3]), dtype=np.float32)
    end = np.array(list(digest[3:6]), dtype=np.float32)
    # One colour per diagonal (x + y): row y is palette[y : y + width], so a sliding window
    # builds the picture in about a millisecond; benchmarks should measure posegen, not this.
    ramp = np.linspace(0.0, 1.0, width + height - 1, dtype=np.float32)[:, None]
    palette = (start * (1 - ramp) + end * ramp).astype(np.uint8)
    rows = sliding_window_view(palette, width, axis=0).transpose(0, 2, 1)  # (height, width, 3)
    image = Image.fromarray(np.ascontiguousarray(rows), "RGB")
    draw = ImageDraw.Draw(image)
    figure = tuple(255 - c for c in digest[6:9])
    cx = width * (0.35 + digest[9] / 255 * 0.3)
    unit = min(width, height) / 10
    top = height * 0.15
    draw.ellipse((cx - unit * 0.6, top, cx + unit * 0.6, top + unit * 1.2), fill=figure)
    draw.rectangle((cx - unit, top + unit * 1.4, cx + unit, top + unit * 4.6), fill=figure)
    draw.rectangle((cx - unit, top + unit * 4.8, cx - unit * 0.2, top + unit * 8), fill=figure)
    draw.rectangle((cx + unit * 0.2, top + unit * 4.8, cx + unit, top + unit * 8), fill=figure)
    return image


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    # compress_level 1: benchmarks measure posegen, not zlib.
    image.save(buffer, format=image_format, **({"compress_level": 1} if image_format == "PNG" else {}))
    return buffer.getvalue()


class FakeFluxServer:
    """The fake provider; use as a context manager or call `start()` / `stop()`."""

    def __init__(self, token: str | None = DEFAULT_TOKEN, default: Reply | None = None) -> None:
        """`token=None` accepts any (or no) Authorization header."""
        self.token = token
        self._lock = threading.Lock()
        self._default = default or Reply.ok()
        self._script: deque[Reply] = deque()
        self._rules: list[tuple[str, Reply]] = []
        self._requests: list[RecordedRequest] = []
        # Set from stop() (another thread) to release hanging and slow requests at once.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # -- scripting -------------------------------------------------------------------------

    def script(self, replies: Iterable[Reply]) -> None:
        """Queue replies for the next requests, one each, in order (after any still queued)."""
        with self._lock:
            self._script.extend(replies)

    def set_default(self, reply: Reply) -> None:
        """The reply once the script is used up."""
        with self._lock:
            self._default = reply

    def on_prompt(self, marker: str, reply: Reply) -> None:
        """Answer `reply` to every request whose prompt contains `marker` (before the script)."""
        with self._lock:
            self._rules.append((marker, reply))

    def reset(self) -> None:
        """Forget the script, rules and recorded requests; the default goes back to 200."""
        with self._lock:
            self._script.clear()
            self._rules.clear()
            self._requests.clear()
            self._default = Reply.ok()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._script)

    @property
    def url(self) -> str:
        """Base URL to give `FluxEngine` (`flux_base_url`)."""
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve in a background thread; returns once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        sock = loopback_socket()
        self._socket = sock
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/models/{model:path}", self._handle, methods=["POST"])])
        self._server, self._thread = serve_in_thread(
            "fake FLUX server", app, lambda server: self._serve(server, sock), graceful_seconds=2
        )
        return self

    def stop(self) -> None:
        """Release hanging requests, shut the server down and wait for its thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        stop_thread(self._server, self._thread)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self._loop = self._stopping = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await server.serve(sockets=[sock])

    async def _wait(self, seconds: float | None) -> None:
        """Sleep `seconds` (None: until the server stops), cut short when the server stops."""
        assert self._stopping is not None  # set by _serve before any request
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            payload: Any = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        record = RecordedRequest(
            request.method, request.url.path, dict(request.headers), payload, time.monotonic()
        )
        with self._lock:
            self._requests.append(record)
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse(_DEFAULT_ERRORS[401], status_code=401)
        parsed = self._parse(payload)
        if parsed is None:
            return JSONResponse({"error": "Input validation error: `inputs` or parameters"}, status_code=400)
        prompt, width, height, seed = parsed
        reply = self._next_reply(prompt)
        if reply.hang:
            await self._wait(None)
            return JSONResponse({"error": "server stopping"}, status_code=503)
        if reply.delay > 0:
            await self._wait(reply.delay)
        headers = dict(reply.headers)
        if reply.retry_after is not None:
            headers["Retry-After"] = (
                f"{reply.retry_after:g}" if isinstance(reply.retry_after, float | int) else reply.retry_after
            )
        if reply.content is not None:
            media = reply.content_type or "application/octet-stream"
            return Response(reply.content, status_code=reply.status, headers=headers, media_type=media)
        if reply.status != 200:
            body = (
                reply.body
                if reply.body is not None
                else _DEFAULT_ERRORS.get(reply.status, {"error": "error"})
            )
            return JSONResponse(body, status_code=reply.status, headers=headers)
        width, height = reply.image_size or (width, height)
        image = await run_in_threadpool(fake_image, width, height, seed, prompt)
        data = await run_in_threadpool(_encode, image, reply.image_format)
        media = reply.content_type or f"image/{reply.image_format.lower()}"
        return Response(data, status_code=200, headers=headers, media_type=media)

    def _next_reply(self, prompt: str) -> Reply:
        with self._lock:
            for marker, reply in self._rules:
                if marker in prompt:
                    return reply
            return self._script.popleft() if self._script else self._default

    @staticmethod
    def _parse(payload: Any) -> tuple[str, int, int, int] | None:
        """(prompt, width, height, seed) of a text-to-image body (1024², seed 0 by default), or None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), str):
            return None
        params = payload.get("parameters", {})
        if not isinstance(params, dict):
            return None
        width, height, seed = params.get("width", 1024), params.get("height", 1024), params.get("seed", 0)
        if not all(isinstance(v, int) and 1 <= v <= MAX_EDGE for v in (width, height)):
            return None
        if not isinstance(seed, int):
            return None
        return payload["inputs"], width, height, seed
