"""File storage behind one protocol: local disk (embedded) or S3-compatible (scaled)."""
