"""Time helpers: posegen only handles timezone-aware UTC datetimes."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def isoformat_z(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z` suffix, as the API writes timestamps."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
