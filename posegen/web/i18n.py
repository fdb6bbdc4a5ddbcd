"""Message catalogues: every visible string of the web app, one TOML file per language.

`messages/en.toml` and `messages/id.toml` hold the same keys (a test checks it),
grouped in one table per page. The language is the `posegen_lang` cookie set
by the switcher, else the best match of the browser's `Accept-Language`, else
English. API error messages stay English; the pages show `errors.<CODE>`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection

MESSAGES = Path(__file__).parent / "messages"
LANGUAGES = ("en", "id")
DEFAULT = "en"
COOKIE = "posegen_lang"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of `lang`, by dotted key (`library.title`)."""
    with (MESSAGES / f"{lang}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def tables(lang: str, names: tuple[str, ...]) -> dict[str, str]:
    """The messages of `lang` in the tables `names` (what one page's script needs)."""
    prefixes = tuple(f"{name}." for name in names)
    return {key: text for key, text in catalogue(lang).items() if key.startswith(prefixes)}


def translate(lang: str, key: str, **params: object) -> str:
    """The message `key` in `lang` with `{name}` placeholders filled; an unknown key is an error
    (the template tests render every page, so a typo fails a test, not a user)."""
    text = catalogue(lang)[key]
    return text.format(**params) if params else text


def _accepted(header: str) -> list[tuple[float, str]]:
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((quality, tag.strip().lower()))
    return sorted(ranked, key=lambda item: -item[0])


def negotiate(connection: HTTPConnection) -> str:
    """The page language: the switcher's cookie, else `Accept-Language` (`in` is Indonesian's old
    code and `ms` close enough to read it), else English."""
    chosen = connection.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for quality, tag in _accepted(connection.headers.get("accept-language", "")):
        primary = tag.split("-", 1)[0]
        if quality <= 0:
            continue
        if primary == "en":
            return "en"
        if primary in ("id", "in", "ms"):
            return "id"
    return DEFAULT
