"""`docs/events.md`, generated from the event registry (`event_kinds`).

`python -m posegen.generation.event_docs` rewrites the file; a test fails when
the committed file and the registry disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from posegen.engines.base import ErrorCode
from posegen.generation.event_kinds import EVENT_MODELS, DetectedKeypoints, EventData
from posegen.vision import PoseCheck

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "events.md"
COMMAND = "python -m posegen.generation.event_docs"

INTRO = f"""# Generation events

<!-- Generated from posegen/generation/event_kinds.py by `{COMMAND}`; do not edit by hand. -->

Every change of a generation is written as an event in the same transaction
and published after commit. Clients receive each one over the WebSocket
(`GET /api/apps/pose-generator/ws`) as
`{{"type": "event", "generationId", "seq", "kind", "data", "timestamp"}}` and over
Server-Sent Events (`GET /api/apps/pose-generator/generations/{{id}}/events`,
`id:` = seq, `event:` = kind). `seq` increases by one per stored event of a
generation; a reconnecting client replays what it missed with `afterSeq` or
`Last-Event-ID`. Live-only kinds have no `seq` and are never replayed.

Each kind's `data` is one Pydantic model in `posegen/generation/event_kinds.py`;
every event is validated by it before it is written. Storage keys are never
sent: a stored `thumbnailKey` reaches clients as `thumbnailUrl`, a signed URL.
Regenerate this file with `{COMMAND}` after changing a model.
"""


def _type(schema: dict[str, Any], nullable: bool = True) -> str:
    """A field's JSON type in words, with its bounds; `nullable=False` for a field that is left
    out rather than sent as null."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if nullable or option.get("type") != "null"]
        return " or ".join(_type(option) for option in options)
    words = str(schema.get("type", "any"))
    if "minimum" in schema and "maximum" in schema:
        words += f" {schema['minimum']}–{schema['maximum']}"
    elif "minimum" in schema:
        words += f" ≥ {schema['minimum']}"
    return words


def _field_table(model: type[BaseModel]) -> list[str]:
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    if not properties:
        return ["No fields: `data` is `{}`."]
    rows = ["| field | type | sent | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        alias = field.alias or name
        optional = name in getattr(model, "omitted_when_none", frozenset())
        kind = _type(properties[alias], nullable=not optional)
        rows.append(
            f"| `{alias}` | {kind} | {'when set' if optional else 'always'} | {field.description or ''} |"
        )
    return rows


def _section(model: type[EventData]) -> list[str]:
    stored = "stored and replayed" if model.stored else "live only (not stored, no `seq`, never replayed)"
    return [
        f"## `{model.kind}`",
        "",
        " ".join((model.__doc__ or "").split()),
        "",
        f"Delivery: {stored}.",
        "",
        *_field_table(model),
        "",
    ]


def render() -> str:
    """The whole of docs/events.md for the current registry."""
    summary = ["| kind | sent when |", "|---|---|"]
    for model in EVENT_MODELS:
        first_sentence = " ".join((model.__doc__ or "").split()).split(". ")[0].rstrip(".")
        summary.append(f"| [`{model.kind}`](#{model.kind.replace('.', '')}) | {first_sentence}. |")
    codes = ", ".join(f"`{code.value}`" for code in ErrorCode)
    lines = [INTRO, "## Kinds", "", *summary, ""]
    for model in EVENT_MODELS:
        lines += _section(model)
    lines += ["## `ErrorCode`", "", f"One of {codes}.", ""]
    verdicts = ", ".join(f"`{verdict.value}`" for verdict in PoseCheck)
    lines += ["## `PoseCheck`", "", f"One of {verdicts}.", ""]
    keypoints = " ".join((DetectedKeypoints.__doc__ or "").split())
    lines += ["## `DetectedKeypoints`", "", keypoints, "", *_field_table(DetectedKeypoints), ""]
    return "\n".join(lines)


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
