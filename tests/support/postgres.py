"""Throwaway PostgreSQL databases for scale-out tests, on the machine's server at 127.0.0.1:5432.

A test that needs a service asks `require_service`; with CI=true a missing service fails the test (CI must
provide it), elsewhere it skips.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

HOST = "127.0.0.1"
PG_PORT = 5432
ADMIN_URL = f"postgresql://postgres@{HOST}:{PG_PORT}/test"
SQLALCHEMY_BASE = f"postgresql+psycopg://postgres@{HOST}:{PG_PORT}"


def reachable(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(port: int, name: str) -> None:
    """Skip the test when `name` does not listen on `port`; fail instead when CI=true."""
    if not reachable(port):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} on {HOST}:{port} is not reachable (CI must have it)")
        pytest.skip(f"{name} on {HOST}:{port} is not running")


@contextmanager
def throwaway_database(prefix: str = "deskbridge_") -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it (closing leftover connections) afterwards."""
    require_service(PG_PORT, "PostgreSQL")
    import psycopg  # only the scale-out tests need the driver loaded
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SQLALCHEMY_BASE}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database that lives for one test."""
    with throwaway_database() as url:
        yield url
