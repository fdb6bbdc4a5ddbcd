"""The Content-Security-Policy of the pages, and their other headers.

Scripts and styles come only from this origin's `/static/…` files: no inline
script, no inline style attribute, no `eval`. Images may also come from the
object-storage endpoint that signs file URLs, and `data:`/`blob:` for images a
user picks before uploading them. Nothing may frame a page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from posegen.config import Settings


def image_sources(settings: Settings) -> list[str]:
    """Where result and upload images are loaded from besides this origin."""
    if settings.storage.backend != "s3":
        return []
    if settings.storage.s3_endpoint_url:
        parts = urlsplit(settings.storage.s3_endpoint_url)
        return [f"{parts.scheme}://{parts.netloc}"]
    return ["https://*.amazonaws.com"]


def content_security_policy(settings: Settings) -> str:
    images = " ".join(["'self'", "data:", "blob:", *image_sources(settings)])
    directives = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        # 'self' covers the WebSocket of the same host (CSP Level 3) and the API.
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
    return "; ".join(directives)


def page_headers(settings: Settings) -> dict[str, str]:
    """Headers of every HTML page (the security headers middleware adds nosniff, referrer policy
    and frame options to every response)."""
    return {
        "Content-Security-Policy": content_security_policy(settings),
        # A page holds the account's name and CSRF token: never kept by a cache.
        "Cache-Control": "no-store",
    }
