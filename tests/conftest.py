"""Shared fixtures: the backends available here (from ``hb.backends()``), and the kit's spaces."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import hpo_bridge as hb
from hpo_bridge.testing.spaces import (  # noqa: F401  (imported from conftest by the tests)
    Adam,
    cond_objective,
    conditional_space,
    flat_space,
    grid_space,
    quadratic,
    space_for,
)

#: Every backend that can run here: the built-in ones and those of installed entry points.
AVAILABLE = [b.name for b in hb.backends() if b.available]
#: Backends that take continuous parameters (a grid needs discrete ones).
CONTINUOUS = [b.name for b in hb.backends() if b.available and not b.capabilities.discrete_only]
#: Backends that enumerate a grid.
DISCRETE_ONLY = [b.name for b in hb.backends() if b.available and b.capabilities.discrete_only]
#: Random search of each library ("library:random").
RANDOM = [b.name for b in hb.backends() if b.available and b.algorithm == "random"]


@pytest.fixture
def optuna_log() -> Iterator[list[logging.LogRecord]]:
    """The records Optuna's logger emits at its default level, INFO (other tests quiet it;
    it does not propagate, so ``caplog`` misses them). Its level is put back after."""
    import optuna

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("optuna")
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        optuna.logging.set_verbosity(level)


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


# -- PostgreSQL: a real server for the storage tests -------------------------------------------

_APT = "apt-get install -y postgresql  (and pip install psycopg2-binary, in the dev extra)"


def _pg_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (as user ``postgres`` when run as root)."""
    pytest.importorskip("psycopg2", reason="needs psycopg2-binary (pip install -e '.[dev]')")
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip(f"no PostgreSQL server binaries (initdb, pg_ctl); install: {_APT}")
    root = Path(tempfile.mkdtemp(prefix="hb-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to drop to the postgres user")
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                    "-l", str(root / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
