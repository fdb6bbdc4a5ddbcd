"""Every table of posegen, imported in one place so the metadata is complete
for Alembic and for the drift check."""

from posegen.audit.models import AuditEntry
from posegen.auth.models import User
from posegen.credits.models import CreditAccount, CreditEntry, UnlimitedUsage
from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, GenerationEvent
from posegen.kit.orm import Base
from posegen.library.models import Pose, PoseCategory, PoseFavorite, PoseRequest, PoseRequestVote, PoseTag
from posegen.projects.models import Project, Upload
from posegen.work.models import QueueState, Worker

metadata = Base.metadata

__all__ = [
    "AuditEntry",
    "BackgroundChange",
    "CreditAccount",
    "CreditEntry",
    "GeneratedPose",
    "Generation",
    "GenerationEvent",
    "Pose",
    "PoseCategory",
    "PoseFavorite",
    "PoseRequest",
    "PoseRequestVote",
    "PoseTag",
    "Project",
    "QueueState",
    "UnlimitedUsage",
    "Upload",
    "User",
    "Worker",
    "metadata",
]
