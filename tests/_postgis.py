"""A real PostgreSQL + PostGIS server for the PostGIS workspace tests.

The server is the one of ``PARSC_TEST_POSTGIS_URL`` (``.ci/run`` starts a throw-away cluster
and sets it); without it, a throw-away cluster is started for the session with
``.ci/postgis-cluster`` when PostgreSQL is installed. When no server can be had the tests
skip, saying why, unless ``PARSC_REQUIRE_POSTGIS=1`` (CI), when they fail.

Every test gets its own schema (dropped afterwards), so tests never see each other's data.
Import the fixtures into a test module: ``from _postgis import pg_url, postgis_url``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgis-cluster"


def unavailable(reason: str) -> None:
    """Skip (or fail when PARSC_REQUIRE_POSTGIS=1) the test that needs the server."""
    if os.environ.get("PARSC_REQUIRE_POSTGIS") == "1":
        pytest.fail(f"PostGIS tests required (PARSC_REQUIRE_POSTGIS=1) but {reason}")
    pytest.skip(reason)


def _reachable(url: str) -> str | None:
    """Return None when ``url`` accepts connections and has PostGIS, else why not."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    except psycopg.Error as exc:
        return f"the PostgreSQL server of PARSC_TEST_POSTGIS_URL cannot be reached ({exc})"
    if row is None:
        return "the database of PARSC_TEST_POSTGIS_URL has no PostGIS extension"
    return None


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """The URL of a database with PostGIS whose user may create schemas and roles."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[test]')")
    url = os.environ.get("PARSC_TEST_POSTGIS_URL")
    if url:
        problem = _reachable(url)
        if problem:
            unavailable(problem)
        yield url
        return
    if not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or not shutil.which("python3"):
        unavailable(
            "no PostgreSQL server: set PARSC_TEST_POSTGIS_URL, or install Debian's postgresql "
            "and postgresql-15-postgis-3 so that the tests start a throw-away cluster"
        )
    folder = Path(tempfile.mkdtemp(prefix="parsc-pg-"))
    started = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(folder)], check=False)
        unavailable(f"a throw-away PostgreSQL cluster could not be started: {started.stderr}")
    url = started.stdout.strip().partition("=")[2]
    try:
        yield url
    finally:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(folder)], check=False)


def with_schema(url: str, schema: str) -> str:
    """Return ``url`` with the workspace schema parameter set."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture
def pg_url(postgis_url: str) -> Iterator[str]:
    """A workspace URL of a schema of its own (dropped after the test)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield with_schema(postgis_url, schema)
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
