"""Shared fixtures: the backends available here, and spaces every backend must run."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import hpo_bridge as hb

AVAILABLE = [b.name for b in hb.backends() if b.available]
#: Backends that take continuous parameters (grid needs discrete ones).
CONTINUOUS = [b.name for b in hb.backends() if b.available and not b.capabilities.discrete_only]


def flat_space() -> dict:
    return {
        "x": hb.uniform(-2.0, 2.0),
        "lr": hb.loguniform(1e-4, 1.0),
        "act": hb.choice(["relu", "tanh", "gelu"]),
        "n": hb.integer(1, 8),
        "s": hb.uniform(0.0, 1.0, step=0.25),
    }


class Adam:
    """An option that is a class."""


def conditional_space() -> dict:
    return {
        "optimizer": hb.choice([
            {"name": "adam", "lr": hb.loguniform(1e-4, 1e-1), "cls": Adam},
            {"name": "sgd", "lr": hb.loguniform(1e-3, 1.0), "momentum": hb.uniform(0.0, 0.9),
             "nesterov": hb.choice([True, False])},
        ]),
        "layers": [hb.integer(1, 3), 64],
        "activation": hb.choice([math.sin, math.cos, None]),
        "shape": hb.choice([(1, 2), (3, 4)]),
        "constant": "kept",
    }


def grid_space() -> dict:
    return {"n": hb.integer(1, 3), "s": hb.uniform(0.0, 1.0, step=0.5),
            "act": hb.choice(["relu", "tanh"])}


def space_for(backend: str, kind: str) -> dict:
    """A space of ``kind`` (flat/conditional) that ``backend`` can run."""
    if "grid" in backend:
        return grid_space() if kind == "flat" else {
            "opt": hb.choice([{"name": "a", "k": hb.integer(1, 3)}, {"name": "b"}]),
            "act": hb.choice([math.sin, math.cos]),
        }
    return flat_space() if kind == "flat" else conditional_space()


def quadratic(config: dict) -> float:
    return (config["x"] - 0.5) ** 2 + math.log10(config["lr"]) ** 2 / 10 + config["n"] / 10


def cond_objective(config: dict) -> float:
    opt = config["optimizer"]
    return abs(math.log10(opt["lr"]) + 2) + config["layers"][0] / 10 + (opt["name"] == "sgd")


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
