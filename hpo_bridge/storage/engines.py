"""Where a study is stored: ``storage=`` resolved to one of Optuna's storages, with a lock.

Forms of ``storage=``:

==================================  ================================================================
``"runs.db"`` (``.db``, ``.sqlite``,  SQLite file, through Optuna's ``RDBStorage``: one machine
``.sqlite3``) or ``"sqlite:///…"``
``"runs.log"`` (any other path) or  Optuna's ``JournalStorage`` on a ``JournalFileBackend``: an
``"journal:PATH"``                  append-only file made for several processes; the fastest here
``"postgresql://user@host/db"``     PostgreSQL (or any SQLAlchemy URL): several machines
an Optuna storage object            used as it is (``RDBStorage(...)``, ``JournalStorage(...)``)
==================================  ================================================================

An existing file is recognized by its content, whatever its name: a SQLite file by its header,
a journal by its JSON lines. Anything else is refused with the path and what to do.

Every engine has a *lock* that the run loop holds while it counts the study's trials and starts
one, so that workers sharing a study start exactly ``max_evals`` trials: a file lock beside a
SQLite or journal file, an advisory lock on PostgreSQL. Other engines have none: workers may
then start a few trials more than ``max_evals`` (as many as run at once).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, cast

from hpo_bridge.errors import StorageError

__all__ = ["SQLITE_TIMEOUT", "Engine", "open_engine"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SQLITE_HEADER = b"SQLite format 3\x00"
#: Seconds a SQLite writer waits for another's lock before the run stops with a clear error
#: (read when a storage is opened: a test may lower it).
SQLITE_TIMEOUT = 60.0
_FIX = ("pass a new file name, or a SQLite (.db) / journal file written by hpo_bridge or Optuna")


@dataclass
class Engine:
    """An opened storage: the Optuna storage, what to call it, and its lock."""

    storage: Any
    where: str  # a readable name: the URL, or the path
    kind: str  # "sqlite", "journal", "postgresql", "rdb", "object"
    lock: Callable[[str], contextlib.AbstractContextManager]

    def describe(self) -> str:
        return self.where


def _optuna() -> Any:
    import optuna

    # Optuna logs a line per study and trial; our progress bar replaces them. A user who
    # changed the verbosity keeps theirs.
    if optuna.logging.get_verbosity() == optuna.logging.INFO:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_engine(storage: Any, *, must_exist: bool = False) -> Engine:
    """The :class:`Engine` of a ``storage=`` argument (see the module docstring).

    Raises:
        ValueError: ``storage`` is not a path, URL or Optuna storage, or its folder is missing.
        StorageError: the file is not a database or journal, is damaged, or is locked.
    """
    optuna = _optuna()
    if isinstance(storage, optuna.storages.BaseStorage):
        return _from_object(storage)
    if isinstance(storage, os.PathLike):
        storage = os.fspath(storage)
    if not isinstance(storage, str) or not storage:
        raise ValueError("storage must be a file path, a database URL or an Optuna storage "
                         "(e.g. 'runs.db', 'runs.log', 'postgresql://user@host/db'), got "
                         f"{storage!r}")
    if storage.startswith("journal:"):
        return _journal(_path(storage[len("journal:"):].removeprefix("//"), must_exist))
    if storage.startswith("sqlite:///"):
        return _sqlite(_path(storage[len("sqlite:///"):], must_exist))
    if "://" in storage:
        return _rdb(storage)
    path = _path(storage, must_exist)
    kind = _sniff(path)
    if kind == "sqlite" or (kind is None and path.lower().endswith(_SQLITE_SUFFIXES)):
        return _sqlite(path)
    return _journal(path)


def _path(path: str, must_exist: bool) -> str:
    path = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ValueError(f"storage {path!r}: the folder {folder!r} does not exist")
    if must_exist and not os.path.exists(path):
        raise ValueError(f"storage {path!r}: no such file")
    if os.path.isdir(path):
        raise ValueError(f"storage {path!r} is a folder; give a file path such as "
                         f"{os.path.join(path, 'runs.db')!r}")
    return path


def _sniff(path: str) -> str | None:
    """``"sqlite"``, ``"journal"``, or ``None`` for a missing or empty file; else refuse."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, "rb") as f:
        head = f.read(len(_SQLITE_HEADER))
    if head == _SQLITE_HEADER:
        return "sqlite"
    if head.lstrip()[:1] == b"{":
        return "journal"
    raise StorageError(f"storage {path!r} is neither a SQLite database nor an Optuna journal "
                       f"(it starts with {head[:8]!r}); {_FIX}")


class _FileLock:
    """An exclusive lock between processes (``flock`` on ``path``) and threads; re-entrant.

    ``filelock`` does the same on every platform at about 1 ms per acquire and release, which
    is most of what a stored trial costs the bridge on a journal file; ``fcntl.flock`` on a
    descriptor kept open costs microseconds. Where there is no ``fcntl`` (Windows),
    ``filelock`` is used.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            from filelock import FileLock

            self._portable: Any = FileLock(path, timeout=-1)
        else:
            self._portable = None
            self._fcntl = fcntl

    def __enter__(self) -> _FileLock:
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1:
            if self._portable is not None:  # pragma: no cover - not on POSIX
                self._portable.acquire()
            else:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
                self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            if self._portable is not None:  # pragma: no cover - not on POSIX
                self._portable.release()
            else:
                self._fcntl.flock(cast(int, self._fd), self._fcntl.LOCK_UN)
        self._threads.release()


def _file_lock(path: str) -> Callable[[str], contextlib.AbstractContextManager]:
    lock = _FileLock(path + ".hb-lock")

    def hold(_: str) -> contextlib.AbstractContextManager:
        return lock

    return hold


def _sqlite(path: str) -> Engine:
    optuna = _optuna()
    url = f"sqlite:///{path}"
    lock = _file_lock(path)
    with lock(""), translate_errors(url):  # one process creates the tables
        storage = optuna.storages.RDBStorage(
            url, engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT}})
    return Engine(storage, url, "sqlite", lock)


def _journal(path: str) -> Engine:
    optuna = _optuna()
    from optuna.storages.journal import JournalFileBackend

    with translate_errors(path):
        storage = optuna.storages.JournalStorage(JournalFileBackend(path))
    return Engine(storage, f"journal:{path}", "journal", _file_lock(path))


def _rdb(url: str) -> Engine:
    optuna = _optuna()
    with translate_errors(_safe(url)):
        for attempt in range(5):  # workers creating the schema at once: the losers retry
            try:
                storage = optuna.storages.RDBStorage(url)
                break
            except Exception as exc:
                if attempt == 4 or not is_integrity(exc):
                    raise
    kind = "postgresql" if url.startswith("postgresql") else "rdb"
    lock = _pg_lock(storage) if kind == "postgresql" else _no_lock
    return Engine(storage, _safe(url), kind, lock)


def _from_object(storage: Any) -> Engine:
    optuna = _optuna()
    url = getattr(storage, "url", None)
    if isinstance(storage, optuna.storages.RDBStorage) and isinstance(url, str):
        if url.startswith("sqlite:///"):
            return Engine(storage, url, "sqlite", _file_lock(url[len("sqlite:///"):]))
        if url.startswith("postgresql"):
            return Engine(storage, _safe(url), "postgresql", _pg_lock(storage))
    return Engine(storage, type(storage).__name__, "object", _no_lock)


def _safe(url: str) -> str:
    """A URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@contextlib.contextmanager
def _no_lock(_: str) -> Iterator[None]:
    yield


def _pg_lock(storage: Any) -> Callable[[str], contextlib.AbstractContextManager]:
    from sqlalchemy import text

    @contextlib.contextmanager
    def hold(study_name: str) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha1(study_name.encode()).digest()[:8], "big", signed=True)
        with storage.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    return hold


def is_integrity(exc: BaseException) -> bool:
    """Whether ``exc`` says another process created the same row or table first."""
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"IntegrityError", "UniqueViolation", "DuplicateTable"}) or (
        "already exists" in str(exc))


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


@contextlib.contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Turn a storage library's error into a :class:`StorageError` naming ``where`` and the fix.

    The original error is chained. Errors of hpo_bridge itself pass through.
    """
    try:
        yield
    except Exception as exc:
        if not _from_storage(exc):
            raise
        raise _wrap(where, exc) from exc


_STORAGE_MODULES = ("sqlalchemy", "optuna.storages", "optuna.exceptions", "psycopg", "sqlite3",
                    "pymysql", "filelock", "json")


def _from_storage(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a storage library (or the file system), not from us."""
    if isinstance(exc, OSError):
        return True
    module = type(exc).__module__ or ""
    if module.startswith(_STORAGE_MODULES):
        # Optuna's own usage errors (a finished trial, a duplicated study) are handled where
        # they can happen; its storage internals are not.
        return type(exc).__name__ not in ("UpdateFinishedTrialError", "DuplicatedStudyError")
    return False


def _wrap(where: str, exc: BaseException) -> StorageError:
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if "locked" in text:
        return StorageError(f"storage {where!r} is locked by another program (a SQLite file "
                            "allows one writer at a time); wait for it, or use a journal file "
                            "(storage='runs.log') or PostgreSQL for many workers")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return StorageError(f"storage {where!r} is not a readable SQLite database (damaged or "
                            f"another kind of file); {_FIX}")
    if "json" in text or "expecting" in text or "decode" in text:
        return StorageError(f"storage {where!r}: the journal file is damaged or truncated "
                            f"({exc}); {_FIX}")
    if "connect" in text or "could not translate host" in text or "refused" in text:
        return StorageError(f"storage {where!r}: cannot connect to the database server "
                            f"({type(exc).__name__}: {exc})")
    return StorageError(f"storage {where!r}: {type(exc).__name__}: {exc}")
