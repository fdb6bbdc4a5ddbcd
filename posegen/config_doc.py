"""The configuration table of README.md, generated from `Settings`.

`python -m posegen.config_doc` rewrites the table between the markers in
README.md; a test fails when the README and the settings disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from posegen.config import Settings

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]  # our factories take no arguments
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "(unset)"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(empty)"
    return str(getattr(value, "value", value))


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        env_name = f"{prefix}{name}".upper()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _rows(annotation, f"{env_name}_")
            continue
        rows.append(f"| `{env_name}` | {_default(field)} | {field.description} |")
    return rows


def table() -> str:
    header = ["| variable | default | meaning |", "|---|---|---|"]
    return "\n".join(header + _rows(Settings, "POSEGEN_"))


def render(readme: str) -> str:
    """`readme` with the table between the markers replaced by the current one."""
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"{README} has no {START} … {END} markers")
    README.write_text(render(text), encoding="utf-8")


if __name__ == "__main__":
    main()
