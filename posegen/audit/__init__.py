"""The audit log: who changed what, before and after, written in the same transaction."""
