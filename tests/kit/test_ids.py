"""Ids are unique, fixed-length and ordered by creation time."""

import time

from hypothesis import given
from hypothesis import strategies as st

from posegen.kit.ids import ID_LENGTH, new_id
from posegen.kit.pagination import PageRequest, escape_like


def test_ids_are_unique_fixed_length_and_time_ordered() -> None:
    earlier = new_id()
    time.sleep(0.002)
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(len(value) == ID_LENGTH for value in ids)
    assert all(earlier < value for value in ids)


@given(st.text(max_size=50))
def test_escape_like_leaves_no_bare_wildcard(text: str) -> None:
    escaped = escape_like(text)
    index = 0
    while index < len(escaped):
        if escaped[index] == "\\":
            assert escaped[index + 1] in "\\%_"
            index += 2
            continue
        assert escaped[index] not in "%_"
        index += 1


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=100))
def test_pagination_counts(total: int, limit: int) -> None:
    page = PageRequest(page=1, limit=limit).result(total)
    assert page.total_pages * limit >= total > (page.total_pages - 1) * limit or total == 0
    assert page.has_more == (total > limit)
