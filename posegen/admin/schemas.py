"""Admin views of accounts."""

from __future__ import annotations

from posegen.auth.schemas import UserOut
from posegen.kit.pagination import Pagination
from posegen.kit.schemas import Schema, UtcDateTime


class AdminUserOut(UserOut):
    is_active: bool
    updated_at: UtcDateTime


class AdminUserList(Schema):
    users: list[AdminUserOut]
    pagination: Pagination
