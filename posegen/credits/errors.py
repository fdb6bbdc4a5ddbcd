"""Errors of the credits domain."""

from __future__ import annotations

from posegen.errors import PosegenError


class InsufficientCredits(PosegenError):
    code = "INSUFFICIENT_CREDITS"
    status = 402

    def __init__(self, *, required: int, available: int) -> None:
        super().__init__(
            f"Required: {required}, available: {available}",
            details={"required": required, "available": available},
        )


class InsufficientQuota(PosegenError):
    code = "INSUFFICIENT_QUOTA"
    status = 403

    def __init__(self, *, requested: int, used: int, quota: int) -> None:
        super().__init__(
            f"Daily quota exhausted: {used} of {quota} used today, {requested} requested",
            details={"requested": requested, "usedToday": used, "dailyQuota": quota},
        )
