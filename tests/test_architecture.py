"""Module size: no module under posegen/ runs over 400 lines, except pose data (issue 12, STYLE.md).

The import contracts live in pyproject.toml (`lint-imports`); this file holds the one architecture
rule import-linter cannot express.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "posegen"
MAX_LINES = 400

# Pose data only: these modules are tables of curated poses (joint angles per pose, one entry per
# library pose), not code. They grow with the library, and cutting a category's table in two would
# only scatter it. Nothing else belongs here: split a long module by responsibility instead.
POSE_DATA = frozenset(
    {
        "library/poses/casual.py",
        "library/poses/ecommerce.py",
        "library/poses/fashion.py",
        "library/poses/hijab.py",
        "library/poses/professional.py",
        "library/poses/sports.py",
    }
)


def oversized(package: Path, limit: int, allowed: frozenset[str]) -> dict[str, int]:
    """The line counts of the Python modules under `package` longer than `limit`, except `allowed`
    (paths relative to `package`, with `/`)."""
    counts = {}
    for module in sorted(package.rglob("*.py")):
        name = module.relative_to(package).as_posix()
        lines = len(module.read_text(encoding="utf-8").splitlines())
        if lines > limit and name not in allowed:
            counts[name] = lines
    return counts


def test_no_module_is_over_400_lines_except_pose_data() -> None:
    assert oversized(PACKAGE, MAX_LINES, POSE_DATA) == {}, "split these modules by responsibility"


def test_the_pose_data_allow_list_names_existing_pose_tables() -> None:
    # A renamed or deleted table must leave the list too, so it cannot come to excuse another module.
    for name in POSE_DATA:
        assert (PACKAGE / name).is_file(), name
        assert name.startswith("library/poses/"), name


def test_a_long_module_is_reported_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "long.py").write_text("x = 1\n" * 5)
    (tmp_path / "short.py").write_text("x = 1\n" * 4)
    (tmp_path / "data.py").write_text("x = 1\n" * 9)
    assert oversized(tmp_path, 4, frozenset({"data.py"})) == {"inner/long.py": 5}
