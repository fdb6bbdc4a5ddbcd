"""Text helpers."""

import re
import unicodedata


def slugify(text: str, max_length: int = 100) -> str:
    """Lower-case ASCII words joined by hyphens ("100% Confident!" → "100-confident")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"
