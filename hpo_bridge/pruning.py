"""Early stopping under every backend: Optuna's pruners, asked about a mirror of the run.

``minimize(..., pruner="median")`` calls :func:`attach_pruner`, which adds
a :class:`PrunerHook` to the optimizer's hooks (:class:`hpo_bridge.hooks.Hook`); every
``trial.report(value, step)`` then reaches it through the optimizer, and raises
:class:`hpo_bridge.TrialPruned` when it says stop.

How a decision is made. hyperopt and skopt have no pruners, and Optuna's are well tested, so
every backend uses Optuna's (``optuna`` must be installed, whatever the backend). The hook
keeps a private in-memory Optuna study that mirrors the run: each reporting trial is a running
trial there with the same intermediate values, and each finished trial is told there with its
state (``complete`` / ``pruned`` / ``failed``) and value. The pruner is then asked exactly as
``optuna.Trial.should_prune`` asks it, so ``"median"`` behaves as Optuna's ``MedianPruner``
does. The mirror is uniform across backends (nothing here sees a backend type), and for the
Optuna backend it holds what the adapter's own study holds.

``pruner=``:

- ``"median"``: ``optuna.pruners.MedianPruner()``: stop a trial whose best value so far is
  worse than the median of the completed trials at the same step (after 5 completed trials).
- ``"asha"``: ``optuna.pruners.SuccessiveHalvingPruner()`` (asynchronous successive halving).
- ``"hyperband"``: ``optuna.pruners.HyperbandPruner()``.
- an Optuna pruner object, for options, e.g. ``MedianPruner(n_startup_trials=3, n_warmup_steps=2)``.

What each backend is told about a pruned trial (``opt.tell(trial, pruned=True)``):

- Optuna: natively. Every intermediate value is passed on as it is reported
  (``Optimizer.report``), and the trial is told ``TrialState.PRUNED``; Optuna's samplers
  (TPE ranks pruned trials by how far they got and their last value) take it from there.
- hyperopt and skopt: the trial's last reported value, as if it were its final loss. The pruner
  stopped it because it was worse than its peers at that step, and learning curves mostly
  improve with steps, so this value ranks it among the bad configurations, which is what the
  model should learn; telling nothing would let the model propose the same region again.
  (A pruned trial that reported nothing is told as a failure: the worst loss seen for skopt,
  ``STATUS_FAIL`` for hyperopt.)

Parallel trials. Threads (``executor="threads"``) share the hook. A trial sent to another
process (``n_jobs > 1``, a ``ProcessPoolExecutor``, a Dask cluster on this machine) is pickled
with a small client the hook gives (``PrunerHook.worker_reporter``): its ``report`` sends
``(trial_id, value, step)`` to a listener the driver opens on ``127.0.0.1`` (authenticated
with a random key) and waits for the decision, which is made in the driver as above. Workers
must therefore run on the driver's machine: a Dask scheduler or worker elsewhere is refused
before the first trial (:func:`check_workers_local`).
"""

from __future__ import annotations

import copy
import ipaddress
import os
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Client, Listener
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hpo_bridge.backends.quiet import quiet_libraries
from hpo_bridge.errors import MissingBackendError, SpaceError, UnsupportedError
from hpo_bridge.hooks import Hook

if TYPE_CHECKING:
    import optuna

    from hpo_bridge.objectives import Objectives
    from hpo_bridge.optimizer import Optimizer, Trial
    from hpo_bridge.results import TrialRecord

__all__ = ["PRUNERS", "attach_pruner", "check_objectives", "make_pruner", "check_workers_local"]

#: Names accepted by ``pruner=``, and the Optuna pruner each stands for.
PRUNERS = {
    "median": "MedianPruner",
    "asha": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
}


def _invalid(pruner: Any) -> SpaceError:
    names = ", ".join(repr(n) for n in PRUNERS)
    return SpaceError(f"pruner must be one of {names}, an optuna.pruners.BasePruner or None; "
                      f"got {pruner!r}")


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise MissingBackendError(
            "pruning uses Optuna's pruners under every backend: pip install 'hpo_bridge[optuna]'"
        ) from exc
    return optuna


def make_pruner(pruner: Any) -> optuna.pruners.BasePruner:
    """A fresh Optuna pruner for ``pruner=`` (a name, or a copy of an Optuna pruner object).

    Raises :class:`~hpo_bridge.SpaceError` naming the valid choices for anything else.

    Example:
        >>> type(make_pruner("asha")).__name__
        'SuccessiveHalvingPruner'
    """
    if isinstance(pruner, str):
        if pruner not in PRUNERS:
            raise _invalid(pruner)
        made: optuna.pruners.BasePruner = getattr(_optuna().pruners, PRUNERS[pruner])()
        return made
    try:
        import optuna
    except ImportError:
        raise _invalid(pruner) from None
    if not isinstance(pruner, optuna.pruners.BasePruner):
        raise _invalid(pruner)
    # A copy per run: HyperbandPruner sets itself up on its first study, and one object
    # passed to several runs (hb.compare) must not carry one run's brackets into the next.
    return copy.deepcopy(pruner)


_LOCAL_HOSTS = ("localhost", "")


def _is_local(address: str) -> bool:
    if address.startswith("inproc://"):
        return True
    host = urlsplit(address).hostname or ""
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dask_addresses(executor: Any) -> list[str] | None:
    """Scheduler and worker addresses of a Dask client, its executor or an address string."""
    if isinstance(executor, str):
        return [executor] if "://" in executor else None
    client = getattr(executor, "_client", executor)  # Client.get_executor() keeps its client
    if not type(client).__module__.startswith("distributed"):
        return None
    info = client.scheduler_info()
    return [client.scheduler.address, *info.get("workers", {})]


def check_workers_local(executor: Any) -> None:
    """Refuse, before any trial, an executor whose workers cannot reach this machine's pruner.

    Worker processes ask the driver's pruner through ``127.0.0.1``; a Dask scheduler or worker
    on another machine could not, so pruning refuses it. Threads, process pools and a local
    Dask cluster work.
    """
    addresses = _dask_addresses(executor)
    remote = [a for a in addresses or () if not _is_local(a)]
    if remote:
        raise UnsupportedError(
            f"pruner= needs workers on this machine (they ask the driver's pruner through "
            f"127.0.0.1), but this Dask cluster has {', '.join(remote)}; use a LocalCluster, "
            f"n_jobs/executor='processes' or 'threads', or pruner=None"
        )


def check_objectives(objectives: Objectives, pruner: Any) -> None:
    """Refuse a pruner with several objectives, as Optuna's ``Trial.report`` refuses it."""
    if pruner is not None:
        objectives.refuse_several(
            f"pruner={pruner!r} with",
            "pruning compares one intermediate value between trials, which several objectives "
            "do not give (Optuna refuses it too); leave pruner= out, or optimize one objective")


def attach_pruner(opt: Optimizer, pruner: Any, executor: Any = None) -> PrunerHook:
    """Stop unpromising trials of ``opt`` early: adds a :class:`PrunerHook` to ``opt``.

    Args:
        opt: The optimizer whose trials report intermediate values.
        pruner: ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner object.
        executor: Where trials will run (checked with :func:`check_workers_local`).

    Returns:
        The hook (``opt.hooks`` holds it).

    Example:
        >>> import hpo_bridge as hb
        >>> opt = hb.Optimizer({"x": hb.uniform(0.0, 1.0)}, backend="optuna:random", seed=0)
        >>> hook = attach_pruner(opt, "median")
        >>> opt.ask().report(0.5, step=0)  # nothing to compare with yet: not pruned
    """
    check_objectives(opt.objectives, pruner)
    hook = PrunerHook(opt, make_pruner(pruner))
    check_workers_local(executor)
    opt.add_hook(hook)
    return hook


class PrunerHook(Hook):
    """The driver's pruner, an optimizer hook: :meth:`on_report` is ``True`` when the trial
    should stop.

    Thread-safe. :meth:`worker_reporter` gives the picklable client a trial carries to a
    process.
    """

    wants_reports = True

    def __init__(self, opt: Optimizer, pruner: optuna.pruners.BasePruner) -> None:
        optuna = _optuna()  # its INFO line per mirrored trial: backends.quiet
        self.pruner = pruner
        # Workers' reports arrive without the optimizer; opt holds the hook: no cycle.
        self._opt = weakref.ref(opt)
        # A fixed name: HyperbandPruner assigns brackets from a hash of it, so runs repeat.
        with quiet_libraries():  # its "A new study created" line, by hand too (as a run)
            self._study = optuna.create_study(
                study_name="hpo_bridge-pruner", direction=opt.direction, pruner=pruner,
                sampler=optuna.samplers.RandomSampler(seed=0))
        self._lock = threading.RLock()
        self._running: dict[int, tuple[Any, set[int]]] = {}  # trial_id -> mirror trial, steps
        self._sent: weakref.WeakValueDictionary[int, Trial] = weakref.WeakValueDictionary()
        self._server: _Server | None = None
        self.on_restore(opt, opt.records)  # trials restored before (a resumed run) count

    def __repr__(self) -> str:
        return f"PrunerHook({self.pruner!r})"

    # -- Hook ----------------------------------------------------------------------------
    def on_report(self, opt: Optimizer, trial: Trial, value: float, step: int) -> bool:
        with self._lock:
            mirror, steps = self._running.get(trial.trial_id) or self._start(trial.trial_id)
            for s, v in sorted({**trial.intermediate, step: value}.items()):
                if s not in steps:
                    steps.add(s)
                    mirror.report(v, s)
            return bool(mirror.should_prune())

    def on_tell(self, opt: Optimizer, record: TrialRecord, handle: Any) -> None:
        with self._lock:
            self._finish(record)

    def on_restore(self, opt: Optimizer, records: list[TrialRecord]) -> None:
        with self._lock:
            for record in records:
                self._finish(record)

    def _start(self, trial_id: int) -> tuple[Any, set[int]]:
        entry: tuple[Any, set[int]] = (self._study.ask(), set())
        self._running[trial_id] = entry
        return entry

    def _finish(self, r: TrialRecord) -> None:
        """Tell the mirror a finished trial, with the intermediate values it has not seen."""
        from optuna.trial import TrialState

        entry = self._running.pop(r.trial_id, None)
        mirror, steps = entry if entry is not None else (self._study.ask(), set())
        for s, v in sorted(r.intermediate.items()):
            if s not in steps:
                mirror.report(v, s)
        if r.state == "complete":
            self._study.tell(mirror, r.value)
        elif r.state == "pruned":
            self._study.tell(mirror, state=TrialState.PRUNED)
        else:
            self._study.tell(mirror, state=TrialState.FAIL)

    # -- trials in other processes -----------------------------------------------------------
    def worker_reporter(self, opt: Optimizer, trial: Trial) -> _RemoteReporter:
        """A picklable client for ``trial`` pickled to a worker (opens the listener once)."""
        with self._lock:
            self._sent[trial.trial_id] = trial
            if self._server is None:
                self._server = _Server(weakref.WeakMethod(self._decide_remote))
                weakref.finalize(self, self._server.close)
            return _RemoteReporter(self._server.address, self._server.authkey)

    def _decide_remote(self, trial_id: int, value: float, step: int) -> bool:
        trial, opt = self._sent.get(trial_id), self._opt()
        return False if trial is None or opt is None else opt.report(trial, value, step)

    def close(self) -> None:
        """Close the listener for worker processes, if one was opened."""
        if self._server is not None:
            self._server.close()


#: The driver's decision for a worker's report: ``(trial_id, value, step) -> prune?``.
Decide = Callable[[int, float, int], bool]


class _Server:
    """Answers workers' ``(trial_id, value, step)`` with the driver's decision, one thread each."""

    def __init__(self, decide: weakref.WeakMethod[Decide]) -> None:
        self.authkey = os.urandom(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.authkey)
        self.address = self._listener.address
        self._closed = False
        threading.Thread(target=self._accept, args=(decide,), daemon=True,
                         name="hpo_bridge-pruner").start()

    def _accept(self, decide: weakref.WeakMethod[Decide]) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # closed, or a client that failed authentication
                continue
            if self._closed:
                conn.close()
                break
            threading.Thread(target=_serve, args=(conn, decide), daemon=True,
                             name="hpo_bridge-pruner-conn").start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:  # wake the accept loop so that it sees _closed
            Client(self.address, authkey=self.authkey).close()
        except OSError:
            pass
        self._listener.close()


def _serve(conn: Any, decide: weakref.WeakMethod[Decide]) -> None:
    with conn:
        while True:
            try:
                trial_id, value, step = conn.recv()
            except (EOFError, OSError):
                return
            method = decide()
            answer: tuple[str, Any]
            try:
                answer = ("ok", bool(method(trial_id, value, step)) if method else False)
            except Exception as exc:  # sent back; the worker's report raises it
                answer = ("error", f"{type(exc).__name__}: {exc}")
            conn.send(answer)


_CONNECTIONS: dict[tuple[int, Any], tuple[Any, threading.Lock]] = {}
_CONNECTIONS_LOCK = threading.Lock()


class _RemoteReporter:
    """What a trial carries to a worker process (a :class:`~hpo_bridge.optimizer.Reporter`):
    asks the driver."""

    def __init__(self, address: tuple[str, int], authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey

    def __repr__(self) -> str:
        return f"_RemoteReporter({self.address!r})"

    def for_worker(self, trial: Trial) -> _RemoteReporter:
        return self  # a trial pickled again (sent back) keeps its client

    def __call__(self, trial: Trial, value: float, step: int) -> bool:
        conn, lock = self._connection()
        with lock:
            try:
                conn.send((trial.trial_id, value, step))
                status, answer = conn.recv()
            except (EOFError, OSError) as exc:
                _CONNECTIONS.pop((os.getpid(), self.address), None)
                raise RuntimeError(f"trial.report lost the driver's pruner at "
                                   f"{self._where()}: {exc}") from exc
        if status != "ok":
            raise RuntimeError(f"the driver's pruner failed: {answer}")
        decision: bool = answer  # what the driver's Optimizer.report returned
        return decision

    def _where(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def _connection(self) -> tuple[Any, threading.Lock]:
        key = (os.getpid(), self.address)  # a forked child opens its own
        with _CONNECTIONS_LOCK:
            if key not in _CONNECTIONS:
                try:
                    conn = Client(self.address, authkey=self.authkey)
                except OSError as exc:
                    raise RuntimeError(
                        f"trial.report cannot reach the driver's pruner at {self._where()} "
                        f"(pruning needs workers on the driver's machine): {exc}") from exc
                _CONNECTIONS[key] = (conn, threading.Lock())
            return _CONNECTIONS[key]
