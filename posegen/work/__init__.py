"""The work queue on the database: per-pose claims, leases, retries, recovery, and the worker loop."""
