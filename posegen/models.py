"""Every table of posegen, imported in one place so the metadata is complete
for Alembic and for the drift check."""

from posegen.audit.models import AuditEntry
from posegen.auth.models import User
from posegen.credits.models import CreditAccount, CreditEntry, UnlimitedUsage
from posegen.kit.orm import Base

metadata = Base.metadata

__all__ = ["AuditEntry", "CreditAccount", "CreditEntry", "UnlimitedUsage", "User", "metadata"]
