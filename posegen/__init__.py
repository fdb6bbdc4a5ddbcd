"""posegen: renders a person in chosen body poses, paid in credits, on durable per-pose work."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("posegen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
