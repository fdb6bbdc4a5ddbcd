"""The work queue as other packages see it: whether claims are paused, and how long a new request
waits. The SQL is in `work/repository.py`."""

from __future__ import annotations

from posegen.work.repository import QUEUE_STATE_ID, is_paused, queue_position, set_paused

__all__ = ["QUEUE_STATE_ID", "is_paused", "queue_position", "set_paused"]
