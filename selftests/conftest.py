"""Fixtures shared by the self tests."""

from pathlib import Path

import pytest

from contract_support.sandbox import build_database


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sandbox's SQLite data set once; servers open it read-only, so tests can share it."""
    path = tmp_path_factory.mktemp("sandbox") / "customers.sqlite3"
    build_database(path)
    return path
