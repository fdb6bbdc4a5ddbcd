"""The 429 and the headers every limited response carries."""

from __future__ import annotations

from posegen.errors import PosegenError
from posegen.ratelimit.limiter import Decision
from posegen.ratelimit.window import header_seconds

# What each rule counts, for the message of a refusal.
_UNITS = {"poses": "poses", "writes": "write requests", "auth": "login or register attempts"}


def rate_headers(decision: Decision) -> dict[str, str]:
    """`X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds until the whole limit is free)."""
    return {
        "X-RateLimit-Limit": str(decision.rule.amount),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(header_seconds(decision.reset_seconds)),
    }


class RateLimited(PosegenError):
    code = "RATE_LIMITED"
    status = 429

    def __init__(self, decision: Decision) -> None:
        rule = decision.rule
        units = _UNITS.get(rule.name, "requests")
        if decision.never_fits:
            # The request alone is larger than the limit: no wait helps, a smaller request does.
            wait = rule.window_seconds
            message = f"This request ({decision.cost} {units}) exceeds the limit of {rule.amount}"
        else:
            wait = header_seconds(decision.retry_after_seconds)
            message = (
                f"Too many {units}: at most {rule.amount} per {rule.window_seconds} s; retry in {wait} s"
            )
        super().__init__(
            message,
            details={
                "limit": rule.name,
                "cost": decision.cost,
                "retryAfterSeconds": None if decision.never_fits else round(decision.retry_after_seconds, 3),
            },
            headers={"Retry-After": str(wait), **rate_headers(decision)},
        )
