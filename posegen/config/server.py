"""The HTTP server: its bind, browser origins, request and image limits."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Binds a browser on this machine reaches under every loopback name (all-interfaces binds included:
# this list only names them, it binds nothing).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "::", "[::]", ""})  # noqa: S104
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def listening_origins(host: str, port: int) -> list[str]:
    """The origins (`http://host[:port]`) of pages served from `host:port`: every loopback name for
    a loopback or all-interfaces bind, else the host itself. Browsers omit port 80 from an origin."""
    bare = host.strip().lower()
    if bare in LOOPBACK_HOSTS or bare.startswith("127."):
        names: tuple[str, ...] = LOOPBACK_NAMES
    elif ":" in bare and not bare.startswith("["):
        names = (f"[{bare}]",)  # an IPv6 literal is bracketed in a URL
    else:
        names = (bare,)
    suffix = "" if port == 80 else f":{port}"
    return [f"http://{name}{suffix}" for name in names]


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface `posegen serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `posegen serve` listens on.")
    allowed_origins: list[str] | None = Field(
        None,
        description=(
            "Browser origins allowed by CORS and the WebSocket origin check (JSON list); empty means "
            "the origin of the address the server listens on (`localhost`, `127.0.0.1` and `[::1]` "
            "for a loopback or all-interfaces bind)."
        ),
    )
    public_docs: bool | None = Field(
        None,
        description=(
            "Serve `/docs`, `/redoc` and `/openapi.json` to anyone; empty means yes outside production "
            "and no in production (they answer 404 then)."
        ),
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body accepted outside upload routes; larger bodies get 413.",
    )
    max_upload_bytes: int = Field(
        10 * 1000 * 1000, ge=1024, description="Largest uploaded image file (uploads, avatars)."
    )
    max_upload_pixels: int = Field(
        40_000_000, ge=1, description="Largest uploaded image in pixels (width × height)."
    )
    max_stored_image_side: int = Field(
        2048,
        ge=64,
        le=65_535,
        description=(
            "Longest side an uploaded image (upload, avatar) is stored at; larger ones are scaled down "
            "(renders are at most 1536², quality `pro`)."
        ),
    )
    image_memory_budget_mb: int = Field(
        512,
        ge=16,
        le=1_048_576,
        description=(
            "Memory (MiB) that decoding and re-encoding client images may hold at once in one process; "
            "work beyond it waits."
        ),
    )
    image_memory_wait_seconds: float = Field(
        15.0,
        ge=0,
        le=300,
        description=(
            "How long image work waits for room in the memory budget before the request gets 503 "
            "with `Retry-After`."
        ),
    )
