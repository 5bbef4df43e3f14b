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
a journal by its JSON lines. Anything else (another kind of file, a FIFO, a device) is refused
with the path and what to do.

What is refused, before anything is written:

- A journal whose last line is incomplete (a writer stopped in the middle of it): appending to
  it would join the new line to the broken one, and neither Optuna nor hpo_bridge could read
  the study afterwards. Every append checks this too, under Optuna's own journal lock. The
  error says which lines are whole and how to copy them to a new file.
- A SQLite database that holds tables which are not Optuna's (another program's database):
  the error names them. To keep a study in such a database on purpose, say so in the URL:
  ``"sqlite:///app.db?foreign_tables=allow"`` (or pass your own ``RDBStorage``).

Damaged content (a line or a row that is not valid JSON, nested too deep, numbers out of range,
wrong types, missing keys) is a :class:`~hpo_bridge.StorageError` naming the file, the damaged
line (journal) or table row (SQLite), and what still can be read.

Every engine has a *lock* that the run loop holds while it counts the study's trials and starts
one, so that workers sharing a study start exactly ``max_evals`` trials: a file lock beside a
SQLite or journal file, an advisory lock on PostgreSQL. Other engines have none: workers may
then start a few trials more than ``max_evals`` (as many as run at once). Both locks end with
the process holding them, even killed (no child keeps them: see :class:`_FileLock`), and a
wait longer than ``LOCK_NOTICE_AFTER`` seconds is logged with what holds the lock.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import stat
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from hpo_bridge.errors import StorageError

__all__ = ["SQLITE_TIMEOUT", "Engine", "open_engine"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SQLITE_HEADER = b"SQLite format 3\x00"
#: Seconds a SQLite writer waits for another's lock before the run stops with a clear error
#: (read when a storage is opened: a test may lower it).
SQLITE_TIMEOUT = 60.0
#: Seconds of waiting for a study's lock after which the log says what is waited for.
LOCK_NOTICE_AFTER = 5.0
log = logging.getLogger("hpo_bridge")
_FIX = ("pass a new file name, or a SQLite (.db) / journal file written by hpo_bridge or Optuna")


@dataclass
class Engine:
    """An opened storage: the Optuna storage, what to call it, and its lock."""

    storage: Any
    where: str  # a readable name: the URL, or the path
    kind: str  # "sqlite", "journal", "postgresql", "rdb", "object"
    lock: Callable[[str], contextlib.AbstractContextManager[object]]
    #: Remove the lock file beside the storage file if no one holds it (see
    #: :meth:`_FileLock.tidy`); called when a run, a load or an open ends.
    tidy: Callable[[], None] = lambda: None

    def describe(self) -> str:
        return self.where


def _optuna() -> Any:
    import optuna

    # Optuna's line per study and trial is quiet while a run goes (progress.quiet_libraries)
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
        path, allow = _sqlite_options(storage)
        return _sqlite(_path(path, must_exist), foreign_tables=allow)
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
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(mode):  # a FIFO would block the first read forever
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a device" if
                stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise StorageError(f"storage {path!r} is {kind}, not a file: nothing was read from it; "
                           f"{_FIX}")
    return path


_SQLITE_OPTION = "foreign_tables"


def _sqlite_options(url: str) -> tuple[str, bool]:
    """The path of a ``sqlite:///PATH[?foreign_tables=allow]`` URL, and whether the user
    allows a database that holds other programs' tables."""
    path, _, query = url[len("sqlite:///"):].partition("?")
    allow = False
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key != _SQLITE_OPTION or value != "allow":
            raise ValueError(f"storage {url!r}: unknown option {item!r}; the only option of a "
                             f"SQLite URL is '?{_SQLITE_OPTION}=allow' (keep a study in a "
                             "database that holds other programs' tables)")
        allow = True
    return path, allow


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

    The operating system releases the lock when its holder dies, as long as no other process
    holds the same open file: the descriptor is closed on ``exec`` (Python's default) and, in
    a child made by ``fork`` (a worker process), closed at once (:func:`_forget_in_child`),
    so a driver killed while it holds the lock never leaves it held by its workers. A wait of
    more than ``LOCK_NOTICE_AFTER`` seconds is logged, with the holder's pid where the system
    tells it.

    No lock file is left behind (:meth:`tidy`, when a run ends). Deleting a lock file that
    another process has open is the classic race: that process would lock a file no one else
    can reach any more, while a third creates a new one at the path and locks that, and both
    would hold "the" lock. Two rules close it: the file is unlinked only by a process that
    holds its lock (taken without waiting, so a run never waits to tidy), and a process that
    has taken the lock checks, while holding it, that the file it locked is still the one at
    the path (same device and inode); if not (unlinked meanwhile) it lets go and locks the
    file at the path, created anew if need be. The path then changes only under the lock,
    so every holder holds the lock of the one file at the path.
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
            _OPEN_LOCKS.add(self)

    def __enter__(self) -> _FileLock:
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1:
            if self._portable is not None:  # pragma: no cover - not on POSIX
                self._portable.acquire()
            else:
                while True:
                    if self._fd is None:
                        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                           0o666)
                    self._acquire(self._fd)
                    if self._current(self._fd):
                        break
                    self._forget()  # unlinked by a tidy meanwhile: lock the file there now
        return self

    def _current(self, fd: int) -> bool:
        """Whether the open file ``fd`` is still the one at the path."""
        try:
            at_path = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino)

    def _forget(self) -> None:
        """Unlock and close the descriptor (its lock goes with it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                self._fcntl.flock(fd, self._fcntl.LOCK_UN)
            os.close(fd)

    def tidy(self) -> None:
        """Remove the lock file if no process holds its lock: taken without waiting and
        checked to be the file at the path, it is unlinked while held (see the class
        docstring). Held by this process or another, it stays (its holder tidies later)."""
        if self._portable is not None:  # pragma: no cover - not on POSIX
            return
        with self._threads:
            if self._depth:
                return
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
                except OSError:  # no file (another process tidied), or not ours to open
                    return
            try:
                try:
                    self._fcntl.flock(self._fd, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process holds it
                if self._current(self._fd):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path)
            finally:
                self._forget()

    def _acquire(self, fd: int) -> None:
        fcntl = self._fcntl
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        with _notice_after(LOCK_NOTICE_AFTER, self._waiting):
            fcntl.flock(fd, fcntl.LOCK_EX)

    def _waiting(self) -> str:
        holder = _flock_holder(self.path)
        return (f"waiting for the lock {self.path!r}"
                + (f", held by process {holder}" if holder is not None else "")
                + " (another run or worker of this storage is counting or starting a trial; "
                "the lock is released when that process ends)")

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            if self._portable is not None:  # pragma: no cover - not on POSIX
                self._portable.release()
            else:
                self._fcntl.flock(cast(int, self._fd), self._fcntl.LOCK_UN)
        self._threads.release()

    def close_in_child(self) -> None:
        """In a forked child: close the inherited descriptor without unlocking (an unlock
        there would release the parent's lock: both share the open file)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self._depth, self._threads = None, 0, threading.RLock()


_OPEN_LOCKS: weakref.WeakSet[_FileLock] = weakref.WeakSet()


def _forget_in_child() -> None:
    for lock in list(_OPEN_LOCKS):
        lock.close_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


@contextlib.contextmanager
def _notice_after(seconds: float, what: Callable[[], str]) -> Iterator[None]:
    """Log a warning (``what()``) if the body is still running after ``seconds``."""
    timer = threading.Timer(seconds, lambda: log.warning(what()))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _flock_holder(path: str) -> int | None:
    """The pid of the process holding a ``flock`` on ``path`` (Linux's ``/proc/locks``)."""
    try:
        st = os.stat(path)
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (blocked waiters have "->")
        if len(fields) < 6 or fields[1] != "FLOCK" or "->" in fields:
            continue
        try:
            major, minor, inode = fields[5].split(":")
            if (int(inode) == st.st_ino and int(major, 16) == os.major(st.st_dev)
                    and int(minor, 16) == os.minor(st.st_dev)):
                return int(fields[4]) or None  # 0: in a pid namespace not seen from here
        except ValueError:
            continue
    return None


#: The lock file beside a storage file: ``<file>.hb-lock`` (removed when no one holds it).
LOCK_SUFFIX = ".hb-lock"


def _file_lock(path: str) -> tuple[Callable[[str], contextlib.AbstractContextManager[object]],
                                   Callable[[], None]]:
    """The lock beside ``path`` (every study of the file shares it) and its ``tidy``."""
    lock = _FileLock(path + LOCK_SUFFIX)

    def hold(_: str) -> contextlib.AbstractContextManager[object]:
        return lock

    return hold, lock.tidy


def _sqlite(path: str, foreign_tables: bool = False) -> Engine:
    optuna = _optuna()
    url = f"sqlite:///{path}"
    lock, tidy = _file_lock(path)
    try:
        with lock(""), translate_errors(url):  # one process creates the tables
            if not foreign_tables:
                _refuse_foreign_tables(path, url)
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT}})
    except BaseException:
        tidy()  # refused (another program's database, damaged): leave no file beside it
        raise
    # The name reopens it (``hb.load``, ``to_optuna``): with the user's permission.
    where = f"{url}?{_SQLITE_OPTION}=allow" if foreign_tables else url
    return Engine(storage, where, "sqlite", lock, tidy)


@functools.cache
def optuna_tables() -> frozenset[str]:
    """The tables Optuna's ``RDBStorage`` makes (its models' and alembic's version table): as
    it makes them, in a database in memory."""
    import sqlalchemy

    storage = _optuna().storages.RDBStorage("sqlite:///:memory:", skip_compatibility_check=True)
    try:
        return frozenset(sqlalchemy.inspect(storage.engine).get_table_names())
    finally:
        storage.engine.dispose()


def _tables(path: str) -> list[str]:
    """The tables of the SQLite database at ``path`` (none for a missing or empty file)."""
    import sqlite3

    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                            timeout=SQLITE_TIMEOUT)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return sorted(name for (name,) in rows if not name.startswith("sqlite_"))


def _refuse_foreign_tables(path: str, url: str) -> None:
    tables = _tables(path)  # a new file has none: no need to know Optuna's (0.2 s)
    foreign = [t for t in tables if t not in optuna_tables()] if tables else []
    if foreign:
        raise StorageError(
            f"storage {url!r} is another program's database: it holds tables that are not "
            f"Optuna's ({', '.join(foreign)}); nothing was written to it. Pass a new file "
            f"name, or, to add Optuna's tables to this database on purpose, "
            f"storage='sqlite:///{path}?{_SQLITE_OPTION}=allow'")


def _journal(path: str) -> Engine:
    optuna = _optuna()

    with translate_errors(f"journal:{path}"):
        backend = _checked_journal()(path)
        backend.check_tail(locked=False)
        storage = optuna.storages.JournalStorage(backend)
    return Engine(storage, f"journal:{path}", "journal", *_file_lock(path))


@functools.cache
def _checked_journal() -> type:
    """Optuna's ``JournalFileBackend`` that never appends to a file whose last line is
    incomplete (the new line would be joined to it, and the whole study become unreadable).

    The file format is Optuna's own: plain Optuna reads what it writes. (A class made on first
    use: Optuna is imported only when a storage is used.)
    """
    from optuna.storages.journal import JournalFileBackend

    @contextlib.contextmanager
    def get_lock_file(lock: Any) -> Iterator[None]:
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    class CheckedJournalFileBackend(JournalFileBackend):
        def check_tail(self, locked: bool = True) -> None:
            """Raise a :class:`StorageError` if the file's last line is incomplete.

            ``locked=False``: look without Optuna's lock first, and at an incomplete line
            again under the lock (a writer may be in the middle of it).
            """
            if _whole(self._file_path):
                return
            if not locked:
                try:
                    with get_lock_file(self._lock):
                        self.check_tail()
                    return
                except OSError:  # a read-only folder: the unlocked look is all there is
                    pass
            raise StorageError(f"storage 'journal:{self._file_path}': "
                               + journal_damage(self._file_path, nothing_written=True))

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            with get_lock_file(self._lock):
                self.check_tail()
                text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
                with open(self._file_path, "ab") as f:
                    f.write(text.encode("utf-8"))
                    f.flush()
                    os.fsync(f.fileno())

    # Picklable as ``hpo_bridge.storage.engines.CheckedJournalFileBackend`` (module __getattr__).
    CheckedJournalFileBackend.__module__ = __name__
    CheckedJournalFileBackend.__qualname__ = "CheckedJournalFileBackend"
    return CheckedJournalFileBackend


def __getattr__(name: str) -> Any:
    if name == "CheckedJournalFileBackend":
        return _checked_journal()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _whole(path: str) -> bool:
    """Whether the file is empty or ends with a complete line."""
    with open(path, "rb") as f:
        if f.seek(0, os.SEEK_END) == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def journal_damage(path: str, nothing_written: bool = False) -> str:
    """Where the journal at ``path`` is damaged, what still can be read, and how to keep it.

    Lines are read as Optuna reads them (JSON, then replayed in order by a ``JournalStorage``
    fed one line at a time): the first line that cannot be read is named, with the whole lines
    before it, which make a readable journal.
    """
    optuna = _optuna()
    from optuna.storages.journal import BaseJournalBackend

    class Lines(BaseJournalBackend):
        def __init__(self) -> None:
            self.logs: list[dict[str, Any]] = []

        def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
            yield from self.logs[log_number_from:]

        def append_logs(self, logs: list[dict[str, Any]]) -> None:  # pragma: no cover
            raise AssertionError("read only")

    with open(path, "rb") as f:
        data = f.read()
    lines = Lines()
    replay = optuna.storages.JournalStorage(lines)
    offset, number, problem, studies = 0, 0, None, []
    # `number` is read after the loop: the line that stopped it, or how many there were
    for number, line in enumerate(data.splitlines(keepends=True), start=1):  # noqa: B007
        if not line.endswith(b"\n"):
            problem = "is incomplete (a writer stopped in the middle of it)"
            break
        try:
            log = json.loads(line)
            if not isinstance(log, dict):
                raise TypeError(f"a JSON {type(log).__name__}, not an object")
            lines.logs.append(log)
            studies = replay.get_all_studies()  # replays it, and copies what it hands out
        except RecursionError:
            problem = "is nested too deeply to be read"
            break
        except Exception as exc:  # anything Optuna's replay would raise
            problem = f"cannot be read ({type(exc).__name__}: {_short(exc)})"
            break
        offset += len(line)
    else:
        return ("the journal file is damaged, but every line reads on its own "
                f"({number} lines); {_FIX}")
    trials = sum(len(replay.get_all_trials(replay.get_study_id_from_name(s.study_name),
                                           deepcopy=False)) for s in studies)
    before = number - 1
    keep = (f"lines 1-{before} ({offset} bytes: {len(studies)} studies, {trials} trials) are "
            f"whole and readable: copy them to a new file, e.g. `head -c {offset} '{path}' > "
            "recovered.log`, and pass that file" if before else
            "no line before it is readable")
    written = "nothing was written to the file; " if nothing_written else ""
    return (f"the journal file is damaged: line {number} (from byte {offset}, "
            f"{len(data) - offset} bytes to the end) {problem}; {written}{keep}")


#: The package that installs each database driver SQLAlchemy may pick, by dialect.
_DRIVERS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pymysql": "pymysql",
            "MySQLdb": "mysqlclient"}
_DIALECT_DRIVERS = {"postgresql": ("psycopg", "psycopg2"), "mysql": ("MySQLdb", "pymysql")}


def _rdb(url: str) -> Engine:
    optuna = _optuna()
    with translate_errors(_safe(url)):
        for attempt in range(5):  # workers creating the schema at once: the losers retry
            try:
                storage = optuna.storages.RDBStorage(url)
                break
            except ImportError as exc:  # Optuna's, with the driver's ModuleNotFoundError
                raise _no_driver(url, exc) from exc
            except Exception as exc:
                if attempt == 4 or not is_integrity(exc):
                    raise
    kind = "postgresql" if url.startswith("postgresql") else "rdb"
    lock = _pg_lock(storage) if kind == "postgresql" else _no_lock
    return Engine(storage, _safe(url), kind, lock)


def _no_driver(url: str, exc: ImportError) -> StorageError:
    """The database driver SQLAlchemy picked for ``url`` is not installed: which, and the fix
    (SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3; the dev extra installs psycopg2)."""
    cause = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
    missing = (cause.name or "").split(".")[0] or "?"
    scheme = url.split("://", 1)[0]
    dialect = scheme.split("+", 1)[0]
    others = [m for m in _DIALECT_DRIVERS.get(dialect, ()) if m != missing and _importable(m)]
    alt = (f", or name the installed driver in the URL: {dialect}+{others[0]}://..."
           if others and "+" not in scheme else "")
    return StorageError(
        f"storage {_safe(url)!r}: the database driver {missing!r} that SQLAlchemy uses for "
        f"{scheme}:// URLs is not installed; pip install {_DRIVERS.get(missing, missing)!r}"
        f"{alt}")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _from_object(storage: Any) -> Engine:
    optuna = _optuna()
    url = getattr(storage, "url", None)
    if isinstance(storage, optuna.storages.RDBStorage) and isinstance(url, str):
        if url.startswith("sqlite:///"):
            return Engine(storage, url, "sqlite", *_file_lock(url[len("sqlite:///"):]))
        if url.startswith("postgresql"):
            return Engine(storage, _safe(url), "postgresql", _pg_lock(storage))
    return Engine(storage, type(storage).__name__, "object", _no_lock)


def _safe(url: str) -> str:
    """A URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@contextlib.contextmanager
def _no_lock(_: str) -> Iterator[None]:
    yield


def _pg_lock(storage: Any) -> Callable[[str], contextlib.AbstractContextManager[object]]:
    from sqlalchemy import text

    def holder(key: int) -> str:
        """Who holds advisory lock ``key``: the server process and its client."""
        try:
            with storage.engine.connect() as conn:
                row = conn.execute(text(
                    "SELECT a.pid, a.client_addr, a.client_port, a.application_name "
                    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = :hi AND l.objid = :lo"),
                    {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}).first()
        except Exception:  # the notice must not fail the run
            row = None
        if row is None:
            return ""
        pid, addr, port, app = row
        client = f"{addr}:{port}" if addr is not None else "a local socket"
        return f", held by server process {pid} for the client at {client}" + (
            f" ({app})" if app else "")

    @contextlib.contextmanager
    def hold(study_name: str) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha1(study_name.encode()).digest()[:8], "big", signed=True)
        with storage.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                # A session's advisory lock ends with its connection: with its process.
                with _notice_after(LOCK_NOTICE_AFTER, lambda: (
                        f"waiting for the advisory lock of study {study_name!r} on "
                        f"{_safe(str(storage.engine.url))}{holder(key)} (another run or "
                        "worker is counting or starting a trial)")):
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
    """Turn a storage library's error into a :class:`StorageError` naming ``where``, the
    damaged part and the fix.

    ``where`` is the engine's name: ``journal:PATH`` and ``sqlite:///PATH`` are examined to
    name the damaged line or row. The original error is chained. Errors of hpo_bridge itself
    pass through.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, StorageError) or not _from_storage(exc):
            raise
        raise _wrap(where, exc) from exc


_STORAGE_MODULES = ("sqlalchemy", "optuna.storages", "optuna.exceptions", "psycopg", "sqlite3",
                    "pymysql", "filelock", "json")
#: Where the code that reads stored content lives (a damaged value fails in there).
_STORAGE_FILES = tuple(os.sep + os.path.join(*p) + os.sep for p in (
    ("optuna", "storages"), ("sqlalchemy",), ("json",), ("sqlite3",), ("psycopg",),
    ("psycopg2",), ("pymysql",)))
#: What damaged content raises inside a storage library (a value of the wrong type, a missing
#: key, a number out of range, nesting too deep, an assertion of the replay).
_CONTENT_ERRORS = (RecursionError, OverflowError, TypeError, AssertionError, LookupError,
                   AttributeError, ValueError)


def _from_storage(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a storage library (or the file system), not from us."""
    if isinstance(exc, OSError):
        return True
    module = type(exc).__module__ or ""
    if module.startswith(_STORAGE_MODULES):
        # Optuna's own usage errors (a finished trial, a duplicated study) are handled where
        # they can happen; its storage internals are not.
        return type(exc).__name__ not in ("UpdateFinishedTrialError", "DuplicatedStudyError")
    if isinstance(exc, _CONTENT_ERRORS):
        # A builtin error raised where stored content is read: damaged content. (Not the
        # ValueError of a parameter stored with another distribution than before: a usage
        # error that Optuna's storages raise through ``optuna.distributions``.)
        frames = _frames(exc)
        if isinstance(exc, ValueError) and any(
                name == "check_distribution_compatibility" for _, name in frames):
            return False
        return any(_in_storage(f) for f, _ in frames)
    return False


def _frames(exc: BaseException) -> list[tuple[str, str]]:
    """The file and function of each frame from where ``exc`` was caught to where raised."""
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    return frames


def _in_storage(filename: str) -> bool:
    return any(part in filename for part in _STORAGE_FILES)


def _wrap(where: str, exc: BaseException) -> StorageError:
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if "locked" in text:
        return StorageError(f"storage {where!r} is locked by another program (a SQLite file "
                            "allows one writer at a time); wait for it, or use a journal file "
                            "(storage='runs.log') or PostgreSQL for many workers")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return StorageError(f"storage {where!r} is not a readable SQLite database (damaged or "
                            f"another kind of file); {_FIX}")
    if where.startswith("journal:") and not isinstance(exc, OSError):
        try:
            report: str | None = journal_damage(where[len("journal:"):])
        except Exception:  # pragma: no cover - the file vanished meanwhile
            report = "the journal file is damaged"
        return StorageError(f"storage {where!r}: {report} ({type(exc).__name__}: "
                            f"{_short(exc)})")
    if where.startswith("sqlite:///") and not isinstance(exc, OSError):
        try:
            report = sqlite_damage(where[len("sqlite:///"):].partition("?")[0])
        except Exception:  # the file cannot be opened at all: say what the library said
            report = None
        if report is not None:
            return StorageError(f"storage {where!r}: {report} ({type(exc).__name__}: "
                                f"{_short(exc)})")
        if isinstance(exc, _CONTENT_ERRORS):
            return StorageError(f"storage {where!r}: the database holds a value Optuna cannot "
                                f"read ({type(exc).__name__}: {_short(exc)}); {_FIX}")
    if "connect" in text or "could not translate host" in text or "refused" in text:
        return StorageError(f"storage {where!r}: cannot connect to the database server "
                            f"({type(exc).__name__}: {exc})")
    return StorageError(f"storage {where!r}: {type(exc).__name__}: {_short(exc)}")


#: The JSON columns of Optuna's tables, with the key and the owner each row names.
_JSON_COLUMNS = (
    ("study_user_attributes", "value_json", "key", "study_id"),
    ("study_system_attributes", "value_json", "key", "study_id"),
    ("trial_user_attributes", "value_json", "key", "trial_id"),
    ("trial_system_attributes", "value_json", "key", "trial_id"),
    ("trial_params", "distribution_json", "param_name", "trial_id"),
)


def sqlite_damage(path: str) -> str | None:
    """The rows of an Optuna SQLite database that Optuna cannot read, and what can; ``None``
    if every JSON value and distribution reads."""
    import sqlite3

    from optuna.distributions import json_to_distribution
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    bad: list[str] = []
    total = 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        for table, column, owner, names in (
                ("trials", "state", "trial_id", TrialState.__members__),
                ("study_directions", "direction", "study_id", StudyDirection.__members__)):
            for owner_id, value in conn.execute(f"SELECT {owner}, {column} FROM {table}"):
                total += 1
                if value not in names:
                    bad.append(f"{table}.{column} of {owner} {owner_id} is {value!r}, not one "
                               f"of {', '.join(names)}")
        for table, column, key, owner in _JSON_COLUMNS:
            rows = conn.execute(f"SELECT {owner}, {key}, {column} FROM {table}").fetchall()
            total += len(rows)
            for owner_id, name, value in rows:
                try:
                    if column == "distribution_json":
                        json_to_distribution(value)
                    else:
                        json.loads(value)
                except RecursionError:
                    why = "is nested too deeply"
                except Exception as exc:
                    why = f"is not readable ({type(exc).__name__}: {_short(exc)})"
                else:
                    continue
                bad.append(f"{table}.{column} of {owner} {owner_id}, {key} {name!r} {why}")
        trials = conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    if not bad:
        return None
    shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
    return (f"the SQLite database is damaged: {shown}. The other {total - len(bad)} values "
            f"are readable ({trials} trials in all): on a copy of the file, fix or delete the "
            "damaged rows with the sqlite3 tool (UPDATE or DELETE FROM <table> WHERE ...), and "
            "pass the copy")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."
