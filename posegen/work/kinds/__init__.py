"""The kinds of leased work the pipeline runs (`work/jobs.py`), in the order a free slot claims them."""

from __future__ import annotations

from typing import Any

from posegen.work.jobs import JobKind
from posegen.work.kinds.background import BACKGROUND
from posegen.work.kinds.pose import POSE

# Poses first: a background change waits until no pose is claimable.
KINDS: tuple[JobKind[Any], ...] = (POSE, BACKGROUND)
