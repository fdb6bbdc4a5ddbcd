"""Waiting for one queued ComfyUI prompt: its WebSocket events, backed by polling.

Events give progress and the end early; polling `/queue` then `/history` every `poll_seconds`
while the socket is quiet (or gone) makes the end certain: a lost message or a dropped socket
costs a poll interval, never the render. A prompt the server no longer knows (it restarted and
lost its in-memory queue) fails retryably, and the next attempt submits it again.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from posegen.engines.base import EngineError, ErrorCode, RenderContext
from posegen.engines.comfyui.client import ComfyServer, parse_event

log = structlog.get_logger(__name__)

# ComfyUI passes the exception on: torch's "CUDA out of memory", OutOfMemoryError, "Allocation on device".
_OUT_OF_MEMORY = re.compile(r"out of memory|outofmemory|allocation on device", re.IGNORECASE)
_AFTER_SUCCESS_POLL = 0.05  # history is written just after the success event is sent


def execution_error(data: dict[str, Any]) -> EngineError:
    """An `execution_error`: out of memory may pass on a retry (maybe elsewhere); anything else is a
    fault of the workflow or the server's nodes, which a retry would repeat."""
    kind = str(data.get("exception_type", ""))
    text = str(data.get("exception_message", "")).strip()
    node = data.get("node_type") or data.get("node_id") or "a node"
    message = f"ComfyUI {node} failed: {kind}: {text}"[:500]
    if _OUT_OF_MEMORY.search(f"{kind} {text}"):
        return EngineError(ErrorCode.PROVIDER_UNAVAILABLE, message, retryable=True)
    return EngineError(ErrorCode.INTERNAL, message, retryable=False)


def interrupted(data: dict[str, Any]) -> EngineError:
    """The prompt was interrupted on the server by someone else (an operator): run it again later."""
    node = data.get("node_type") or data.get("node_id") or "?"
    return EngineError(
        ErrorCode.PROVIDER_UNAVAILABLE, f"ComfyUI prompt was interrupted at {node}", retryable=True
    )


def failed(entry: dict[str, Any]) -> bool:
    """Whether a history entry records a failed or interrupted prompt."""
    status = entry.get("status")
    return isinstance(status, dict) and status.get("status_str") == "error"


def settle(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` when the prompt succeeded; otherwise the `EngineError` its messages describe."""
    if not failed(entry):
        return entry
    messages = entry.get("status", {}).get("messages", [])
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict):
            if message[0] == "execution_error":
                raise execution_error(message[1])
            if message[0] == "execution_interrupted":
                raise interrupted(message[1])
    raise EngineError(ErrorCode.INTERNAL, "ComfyUI prompt failed without an error message", retryable=False)


async def follow(
    server: ComfyServer,
    prompt_id: str,
    socket: ClientConnection | None,
    context: RenderContext,
    poll_seconds: float,
) -> dict[str, Any]:
    """Wait until `prompt_id` finishes on `server`; its history entry, or `EngineError`.

    `socket` is the WebSocket opened with the prompt's client id (None: poll only).
    """
    ended = False  # an end event came; the history entry follows within moments
    while True:
        raw: str | bytes | None = None
        if socket is not None and not ended:
            try:
                async with asyncio.timeout(poll_seconds):
                    raw = await socket.recv()
            except TimeoutError:
                raw = None
            except ConnectionClosed as exc:
                log.warning("comfyui_socket_lost", server=server.url, prompt_id=prompt_id, reason=str(exc))
                socket = None
        else:
            await asyncio.sleep(_AFTER_SUCCESS_POLL if ended else poll_seconds)
        if raw is not None:
            event = parse_event(raw)
            if event is None:
                continue
            kind, data = event
            if kind == "status":
                remaining = data.get("status", {}).get("exec_info", {}).get("queue_remaining")
                if isinstance(remaining, int):
                    server.queue_remaining = remaining
                continue
            if data.get("prompt_id") != prompt_id:
                continue
            if kind == "progress":
                value, steps = data.get("value"), data.get("max")
                if isinstance(value, int) and isinstance(steps, int):
                    context.progress(value, steps)
                continue
            if kind == "execution_error":
                raise execution_error(data)
            if kind == "execution_interrupted":
                raise interrupted(data)
            if kind == "execution_success" or (kind == "executing" and data.get("node") is None):
                ended = True
            else:
                continue
        state = await server.state(prompt_id)
        if isinstance(state, dict):
            return settle(state)
        if state is None:
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"ComfyUI {server.url} no longer knows prompt {prompt_id} (restarted?)",
                retryable=True,
            )
