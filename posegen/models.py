"""Every table of posegen, imported in one place so the metadata is complete
for Alembic and for the drift check."""

from posegen.auth.models import User
from posegen.kit.orm import Base

metadata = Base.metadata

__all__ = ["User", "metadata"]
