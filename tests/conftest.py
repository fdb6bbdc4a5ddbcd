from posegen.config import LogSettings
from posegen.observability.logging import configure_logging

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.app",
]

# The same log pipeline as the service, so tests can read what it logs.
configure_logging(LogSettings(level="INFO", json_lines=True))
