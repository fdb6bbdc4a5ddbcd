"""Page/limit query parameters and the `pagination` object of every list."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.kit.schemas import Schema

MAX_LIMIT = 100
T = TypeVar("T")


class Pagination(Schema):
    page: int
    limit: int
    total: int
    total_pages: int
    has_more: bool


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def result(self, total: int) -> Pagination:
        """The pagination object for a list holding `total` items."""
        total_pages = (total + self.limit - 1) // self.limit
        return Pagination(
            page=self.page,
            limit=self.limit,
            total=total,
            total_pages=total_pages,
            has_more=self.page < total_pages,
        )


def page_params(default_limit: int) -> Callable[..., PageRequest]:
    """A dependency reading `?page&limit` with the list's own default limit."""

    def dependency(
        page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
        ] = default_limit,
    ) -> PageRequest:
        return PageRequest(page=page, limit=limit)

    return dependency


def escape_like(text: str) -> str:
    r"""Escape `%`, `_` and `\` so text matches itself in a LIKE with ESCAPE '\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def paginate(
    session: AsyncSession, query: Select[T], page: PageRequest, *order: Any
) -> tuple[list[T], int]:
    """One page of `query` in `order`, and how many rows the whole query has."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(*order).offset(page.offset).limit(page.limit))
    return list(rows), int(total or 0)
