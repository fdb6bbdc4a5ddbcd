"""One ComfyUI server over its own HTTP and WebSocket protocol (ComfyUI's `server.py`).

Calls map every failure onto two outcomes the engine acts on: `Refused` (no connection was made,
so nothing reached the server and the work may go to another one) and `EngineError` (anything
else; what it means for the pose is in its code and `retryable`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx2
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake

from posegen.engines.base import EngineError, ErrorCode
from posegen.engines.breaker import CircuitBreaker

MAX_IMAGE_BYTES = 64 * 1024 * 1024  # far above a 2048² PNG; stops a runaway body filling memory
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # WebSocket frames: ComfyUI also sends preview images
_TEXT_LIMIT = 500  # of an error text carried into a message


class Refused(Exception):
    """The server could not be reached: no connection, so nothing was submitted."""


@dataclass(frozen=True)
class ImageRef:
    """An output image as `/history` names it."""

    filename: str
    subfolder: str = ""
    type: str = "output"


def _summary(body: Any) -> str:
    """A short text of a ComfyUI error body: `error.message` and each node error's message/details."""
    if not isinstance(body, dict):
        return str(body)[:_TEXT_LIMIT]
    error = body.get("error")
    parts = [str(error.get("message", error)) if isinstance(error, dict) else str(error or "")]
    node_errors = body.get("node_errors")
    if isinstance(node_errors, dict):
        for node_id, node in node_errors.items():
            errors = node.get("errors", []) if isinstance(node, dict) else []
            for item in errors if isinstance(errors, list) else []:
                if isinstance(item, dict):
                    details = f" ({item['details']})" if item.get("details") else ""
                    parts.append(
                        f"node {node_id} {node.get('class_type', '')}: {item.get('message')}{details}"
                    )
    return "; ".join(part for part in parts if part)[:_TEXT_LIMIT]


def _error_for(what: str, response: httpx2.Response) -> EngineError:
    """A non-2xx answer: the server judged the request (4xx, permanent) or is in trouble (5xx)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message = f"ComfyUI {what} answered {response.status_code}: {_summary(body)}"
    if 400 <= response.status_code < 500 and response.status_code != 408:
        return EngineError(ErrorCode.PROVIDER_BAD_REQUEST, message, retryable=False)
    return EngineError(ErrorCode.PROVIDER_UNAVAILABLE, message, retryable=True)


def ws_url(base_url: str, client_id: str) -> str:
    """The `/ws` address of a server (`http` → `ws`, `https` → `wss`)."""
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws?clientId={client_id}"


@dataclass(eq=False)
class ComfyServer:
    """A ComfyUI server: its calls, its breaker and what was last seen of it."""

    url: str
    client: httpx2.AsyncClient
    breaker: CircuitBreaker
    queue_remaining: int | None = None  # last known, from GET /prompt or a `status` message
    in_flight: int = 0  # renders of this process on it now

    async def _call(self, what: str, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        try:
            response = await self.client.request(method, f"{self.url}{path}", **kwargs)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise Refused(f"ComfyUI {self.url} refused the connection: {type(exc).__name__}") from exc
        except httpx2.HTTPError as exc:
            # Read timeouts, resets, broken answers: the server was reached, its state is unknown.
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"ComfyUI {what} at {self.url} failed: {type(exc).__name__}",
                retryable=True,
            ) from exc
        if not response.is_success:
            raise _error_for(what, response)
        return response

    async def _json(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._call(what, method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE, f"ComfyUI {what} answered no JSON", retryable=True
            ) from exc

    async def probe(self) -> int:
        """How many prompts the server holds (running and pending): GET /prompt."""
        data = await self._json("queue info", "GET", "/prompt")
        remaining = data.get("exec_info", {}).get("queue_remaining") if isinstance(data, dict) else None
        if not isinstance(remaining, int):
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE, "ComfyUI GET /prompt has no queue_remaining", retryable=True
            )
        self.queue_remaining = remaining
        return remaining

    async def upload(self, name: str, png: bytes) -> str:
        """Store `png` in the server's input folder; returns the name a LoadImage node takes."""
        data = await self._json(
            "image upload",
            "POST",
            "/upload/image",
            files={"image": (name, png, "image/png")},
            data={"type": "input", "overwrite": "true"},
        )
        stored = data.get("name") if isinstance(data, dict) else None
        if not isinstance(stored, str) or not stored:
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE, "ComfyUI upload answered no file name", retryable=True
            )
        subfolder = data.get("subfolder") or ""
        return f"{subfolder}/{stored}" if subfolder else stored

    async def submit(self, prompt: dict[str, Any], prompt_id: str, client_id: str) -> None:
        """Queue `prompt` under our own `prompt_id`: POST /prompt (400 with node_errors: refused)."""
        await self._json(
            "prompt",
            "POST",
            "/prompt",
            json={"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id},
        )

    async def queue(self) -> tuple[set[str], set[str]]:
        """Ids of the running and the pending prompts: GET /queue."""
        data = await self._json("queue", "GET", "/queue")

        def ids(key: str) -> set[str]:
            items = data.get(key, []) if isinstance(data, dict) else []
            # Each item is [number, prompt_id, prompt, extra_data, outputs_to_execute].
            return {str(item[1]) for item in items if isinstance(item, list) and len(item) > 1}

        return ids("queue_running"), ids("queue_pending")

    async def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The finished prompt's history entry (outputs, status), or None while the server has none."""
        data = await self._json("history", "GET", f"/history/{prompt_id}")
        entry = data.get(prompt_id) if isinstance(data, dict) else None
        return entry if isinstance(entry, dict) else None

    async def state(self, prompt_id: str) -> str | dict[str, Any] | None:
        """`"running"`, `"pending"`, the history entry once finished, or None when unknown.

        The queue is read before the history: ComfyUI moves a prompt from one to the other under
        one lock, so in this order a prompt that finishes between the two reads is still found.
        """
        running, pending = await self.queue()
        if prompt_id in running:
            return "running"
        if prompt_id in pending:
            return "pending"
        return await self.history(prompt_id)

    async def view(self, ref: ImageRef) -> bytes:
        """The bytes of an output image: GET /view."""
        params = {"filename": ref.filename, "subfolder": ref.subfolder, "type": ref.type}
        try:
            async with self.client.stream("GET", f"{self.url}/view", params=params) as response:
                if not response.is_success:
                    await response.aread()
                    raise _error_for("image download", response)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_IMAGE_BYTES:
                        raise EngineError(
                            ErrorCode.INTERNAL, f"ComfyUI image over {MAX_IMAGE_BYTES} bytes", retryable=False
                        )
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise Refused(f"ComfyUI {self.url} refused the connection: {type(exc).__name__}") from exc
        except httpx2.HTTPError as exc:
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"ComfyUI image download from {self.url} failed: {type(exc).__name__}",
                retryable=True,
            ) from exc
        return bytes(body)

    async def delete_pending(self, prompt_id: str) -> None:
        """Take a pending prompt out of the queue: POST /queue {"delete": [id]}."""
        await self._call("queue delete", "POST", "/queue", json={"delete": [prompt_id]})

    async def interrupt(self, prompt_id: str) -> None:
        """Stop the running prompt `prompt_id` (ComfyUI ignores an id that is not the running one)."""
        await self._call("interrupt", "POST", "/interrupt", json={"prompt_id": prompt_id})

    async def withdraw(self, prompt_id: str) -> str:
        """Take `prompt_id` off the server: delete it while pending, interrupt it while running (only
        then: an older ComfyUI ignores the id and stops whatever runs). Says what it did."""
        running, pending = await self.queue()
        outcome = "gone"
        if prompt_id in pending:
            await self.delete_pending(prompt_id)
            outcome = "deleted"
            running, _ = await self.queue()  # it may have started meanwhile
        if prompt_id in running:
            await self.interrupt(prompt_id)
            outcome = "interrupted"
        return outcome

    async def connect(self, client_id: str) -> ClientConnection:
        """Open the server's WebSocket as `client_id`: it carries the events of that client's prompts."""
        try:
            # A short close_timeout: a cancelled render closes its socket before withdrawing its prompt.
            return await connect(
                ws_url(self.url, client_id), max_size=MAX_MESSAGE_BYTES, open_timeout=10, close_timeout=2
            )
        except (OSError, TimeoutError) as exc:
            raise Refused(f"ComfyUI {self.url} refused the WebSocket: {type(exc).__name__}") from exc
        except InvalidHandshake as exc:
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"ComfyUI WebSocket at {self.url} refused: {exc}",
                retryable=True,
            ) from exc


def parse_event(raw: str | bytes) -> tuple[str, dict[str, Any]] | None:
    """A WebSocket message as (type, data); None for binary frames (previews) and anything else."""
    if isinstance(raw, bytes):
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    data = message.get("data")
    return message["type"], data if isinstance(data, dict) else {}
