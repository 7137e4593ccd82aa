"""The judge's side of the worker process: proxies that look like the student's module.

``Worker`` starts ``grader.worker`` in a child process and sends it requests with a deadline.
``RemoteModule``, ``RemoteFunction`` and ``RemoteObject`` let a test call student code as if
it were local (``act.relu_forward(x)``, ``Value(2.0) * 3``, ``opt.step(grads)``) while every
argument is copied across and every result comes back as plain copied data; other objects come
back as ``RemoteObject`` handles that can only be passed back, called, or asked for attributes.
A handle never compares, hashes or tests true: nothing the student defines runs in the judge.

If the worker dies (``os._exit``, a crash, a resource limit) or misses its deadline (it is then
killed), the call raises ``StudentCodeError`` saying why, and the next request starts a fresh
worker; handles from the old one are then stale and say so. A student function or file load that
ran out of time or ended the worker is not run again in the same run (it fails at once, saying
so): one endless loop costs one time limit, not one per test or hypothesis example that calls it.
A worker may also have a ``budget``: the seconds that requests which never answered (stopped at
their time limit, or ending the worker) may take together in the run. A call's deadline is the
sooner of its own and the budget's end (a file load keeps its own), and once the budget is spent
every later request fails at once, saying so: a submission whose every function hangs costs about one budget, however many
functions and tests there are. Requests that answer, even with the student's exception, cost it
nothing: correct code never spends it, however slow the machine (a round trip's own overhead,
thousands of times per test run, would otherwise count as student code).
"""

from __future__ import annotations

import builtins
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

from grader import wire
from grader.course import PROJECT_ROOT
from grader.launch import Launch

_BOOTSTRAP = (
    "import sys; sys.path.insert(0, {root!r}); from grader.worker import main; main(sys.argv[1:])"
)


class StudentCodeError(Exception):
    """Student code raised, crashed, hung or returned something that cannot be judged.

    ``raised``: when the student's code raised, the most derived built-in exception class of
    what it raised (``ValueError`` for a student's ``class ShapeError(ValueError)``), else None.
    Only built-in classes cross the boundary: a name from the worker is never turned into any
    other class.
    """

    def __init__(self, message: str, raised: type[BaseException] | None = None) -> None:
        super().__init__(message)
        self.raised = raised


def builtin_exception(names: Any) -> type[BaseException] | None:
    """The first of ``names`` (an exception's class hierarchy, most derived first, as the worker
    sends it) that is a built-in exception class; None when there is none."""
    for name in names if isinstance(names, list) else []:
        cls = getattr(builtins, name, None) if isinstance(name, str) else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls
    return None


class Started(Protocol):
    """A started worker process, as the ``Worker`` sees it (``subprocess.Popen`` is one)."""

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None:
        """Kill it and everything it started, and wait for it."""


class Spawner(Protocol):
    """How a ``Worker`` gets a fresh process serving the pipes ``requests_fd`` and ``answers_fd``
    (which the spawner may close once the child holds them), its output going to ``output``."""

    def start(self, requests_fd: int, answers_fd: int, output: int) -> Started: ...


class Exec:
    """Starts each worker as a new interpreter, as ``launch`` says."""

    def __init__(self, launch: Launch = Launch()) -> None:
        self.launch = launch

    def start(self, requests_fd: int, answers_fd: int, output: int) -> Started:
        process = self.launch.popen(_BOOTSTRAP, [requests_fd, answers_fd, PROJECT_ROOT], pass_fds=(requests_fd, answers_fd), output=output)
        return _Executed(process, self.launch)


class _Executed:
    """A worker started by ``Exec``: killed as its ``Launch`` kills."""

    def __init__(self, process: subprocess.Popen[bytes], launch: Launch) -> None:
        self.process, self.launch = process, launch
        self.poll, self.wait = process.poll, process.wait

    def kill(self) -> None:
        self.launch.kill(self.process)


class Worker:
    """One worker process (restarted on demand) serving the student's files.

    ``timeout`` bounds each request in wall-clock seconds; ``load_timeout`` bounds loading a file
    (a notebook may train a model). Each start or restart asks ``spawner`` for a fresh process:
    by default ``Exec(launch)`` (a new interpreter each time); a
    ``grader.forkserver.ForkServer``'s spawner forks one from a warm interpreter instead.
    ``budget``: the seconds requests that never answered may take together (None: no limit);
    ``spent`` counts them.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        load_timeout: float = 300.0,
        launch: Launch = Launch(),
        spawner: Spawner | None = None,
        budget: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.load_timeout = load_timeout
        self.spawner = spawner or Exec(launch)
        self.budget = budget
        self.spent = 0.0
        self.incarnation = 0
        self._process: Started | None = None
        self._modules: dict[str, RemoteModule] = {}  # by resolved path
        self._resolved: dict[Path, str] = {}  # a path as asked for -> resolved
        self._released: list[int] = []
        self._doomed: dict[str, str] = {}  # requests that hung or ended the process -> why
        # set by whoever records calls (grader.calls.ObjectRecorder): sees every method call and
        # attribute read on a handle, as recorder.method(obj, name, run, args, kwargs) and
        # recorder.attribute(obj, name, value)
        self.recorder: Any = None
        self._log = tempfile.TemporaryFile()

    # -- process lifecycle -------------------------------------------------------------------
    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self._log.seek(0)
        self._log.truncate()
        try:
            self._process = self.spawner.start(to_child_r, from_child_w, self._log.fileno())
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._send_fd, self._recv_fd = to_child_w, from_child_r
        self.incarnation += 1
        self._modules.clear()
        self._released.clear()

    def close(self) -> None:
        """Kill the worker and everything it started."""
        process, self._process = self._process, None
        if process is None:
            return
        for fd in (self._send_fd, self._recv_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        process.kill()

    def output(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the current worker printed."""
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - limit))
        return self._log.read().decode(errors="replace")

    # -- requests ----------------------------------------------------------------------------
    def request(
        self, message: dict[str, Any], *, timeout: float | None = None, what: str = "student code", once: bool = False, stop_at_budget: bool = True
    ) -> Any:
        """Send one request and return its value; raise ``StudentCodeError`` on any failure.

        ``once``: when this request (named by ``what``) runs out of time or ends the worker, later
        ones with the same ``what`` fail at once, with the same message. ``stop_at_budget``: its
        deadline is at the latest the budget's end (loads keep their own: a correct one may
        import torch on a busy machine for longer than a budget is worth).
        """
        if what in self._doomed:  # it hung or ended the process once in this run: not again
            _fail(self._doomed[what])
        limit = timeout or self.timeout
        left = None if self.budget is None else self.budget - self.spent
        if left is not None and left <= 0:
            _fail(f"{what} was not run: {self._budget_spent}")
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._start()
        if self._released:
            message["release"], self._released = self._released, []
        try:
            payload = wire.encode(message, self._handle_of)
        except wire.WireError as error:
            raise StudentCodeError(f"cannot send the arguments of {what}: {error}") from None
        started = time.monotonic()
        allowed = limit if left is None or not stop_at_budget else min(limit, left)
        deadline = started + allowed
        try:
            _write_all(self._send_fd, len(payload).to_bytes(8, "big") + payload)
            length = int.from_bytes(self._read(8, deadline), "big")
            if length > wire.MAX_MESSAGE_BYTES:
                raise wire.WireError(f"answer of {length} bytes exceeds the limit")
            answer = wire.decode(self._read(length, deadline))
        except TimeoutError:
            self.close()
            self.spent += time.monotonic() - started
            if allowed < limit:
                _fail(f"{what} did not finish and was stopped: {self._budget_spent}")
            self._give_up(what, once, f"{what} did not finish within {limit:g} s (it was stopped)")
        except (EOFError, BrokenPipeError, OSError, wire.WireError) as error:
            code = self._exit_status()
            printed = self.output(500).strip()
            self.close()
            self.spent += time.monotonic() - started
            detail = f" ({_describe_exit(code)})" if code is not None else f" ({error})"
            tail = f"\nlast output:\n{printed}" if printed else ""
            self._give_up(what, once, f"the process running {what} ended unexpectedly{detail}{tail}")
        except BaseException:  # interrupted (a test's time limit): its answer must never be read as the next one's
            self.close()
            self.spent += time.monotonic() - started
            raise
        if type(answer) is not dict or "ok" not in answer:
            self.close()
            raise StudentCodeError(f"the worker running {what} sent a malformed answer")
        if not answer["ok"]:
            message = f"{what} raised {answer.get('error')}\n{answer.get('traceback', '')}".rstrip()
            raise StudentCodeError(message, builtin_exception(answer.get("raised")))
        return self._wrap(answer.get("value"))

    @property
    def _budget_spent(self) -> str:
        return f"the run's time budget for student code ({self.budget:g} s) is spent"

    def _give_up(self, what: str, once: bool, message: str) -> None:
        """Raise ``message``; with ``once``, every later request named ``what`` fails the same way
        at once (one endless loop or crash costs one time limit or restart, not one per call)."""
        if once:
            message += "; it is not run again in this run"
            self._doomed[what] = message
        _fail(message)

    def _exit_status(self) -> int | None:
        """The worker's exit status, waiting a moment for a process that is just ending."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def _read(self, n: int, deadline: float) -> bytearray:
        """``n`` bytes from the worker, read straight into one buffer (no copies)."""
        buffer = bytearray(n)
        view = memoryview(buffer)
        got = 0
        while got < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._recv_fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            count = os.readv(self._recv_fd, [view[got : got + (1 << 20)]])
            if not count:
                raise EOFError
            got += count
        return buffer

    def _handle_of(self, value: Any) -> wire.Handle:
        if isinstance(value, RemoteObject):
            return value._own_handle(self)
        raise wire.WireError(f"an object of type {type(value).__name__} is not plain data")

    def _wrap(self, value: Any) -> Any:
        if type(value) is wire.Handle:
            return RemoteObject(self, value)
        if type(value) is list:
            return [self._wrap(v) for v in value]
        if type(value) is tuple:
            return tuple(self._wrap(v) for v in value)
        if type(value) is dict:
            return {k: self._wrap(v) for k, v in value.items()}
        if type(value) in (wire.HeldTuple, wire.HeldDict):  # its items wrapped as plain ones are, and the object's proxy
            items = tuple(value) if type(value) is wire.HeldTuple else dict(value)
            return type(value)(self._wrap(items), RemoteObject(self, value.held))
        return value

    def _release(self, incarnation: int, key: int) -> None:
        if incarnation == self.incarnation:
            self._released.append(key)

    # -- what tests use ----------------------------------------------------------------------
    def load(self, path: Path, *, label: str) -> RemoteModule:
        """The module of ``path`` in the current worker (loaded once per worker)."""
        key = self._resolved.get(path) or self._resolved.setdefault(path, str(Path(path).resolve()))
        if self._process is None or self._process.poll() is not None or key not in self._modules:
            load = {"op": "load", "path": key, "seconds": self.load_timeout}  # a notebook's cells stop in time
            info = self.request(load, timeout=self.load_timeout, what=f"loading {label}", once=True, stop_at_budget=False)
            self._modules[key] = RemoteModule(self, info, label)
        return self._modules[key]

    def share(self, value: Any) -> RemoteObject:
        """A worker-side copy of plain ``value`` that student code can mutate (params, bn_param)."""
        return self.request({"op": "put", "value": value}, what="sharing a value")

    def fetch(self, handle: Any) -> Any:
        """The current plain value of a shared object (containers walked, arrays copied)."""
        return self.request({"op": "fetch", "target": handle}, what="fetching a value")


def _fail(message: str) -> None:
    """Raise ``StudentCodeError`` from one place, so that a repeated failure looks the same to
    hypothesis as the first one (not a flaky test)."""
    raise StudentCodeError(message)


_SIGNALS = {
    signal.SIGXCPU: "it used up its CPU time limit",
    signal.SIGXFSZ: "it wrote more output than the limit allows",
    signal.SIGKILL: "it was killed",
    signal.SIGSEGV: "it crashed with a segmentation fault",
    signal.SIGABRT: "it aborted",
}


def _describe_exit(code: int) -> str:
    """Why the worker ended, from its exit status (negative: the signal that ended it)."""
    if code >= 0:
        return f"exit status {code}: student code must not exit the process (sys.exit, os._exit)"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"{_SIGNALS.get(-code, 'it was ended by a signal')}, {name}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class RemoteObject:
    """A handle to an object living in the worker; attributes, calls and arithmetic go there."""

    __slots__ = ("_worker", "_handle", "_incarnation", "_origin", "__weakref__")

    def __init__(self, worker: Worker, handle: wire.Handle) -> None:
        object.__setattr__(self, "_worker", worker)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_incarnation", worker.incarnation)
        object.__setattr__(self, "_origin", None)  # (the object, the name) of a method got as its attribute

    def _own_handle(self, worker: Worker) -> wire.Handle:
        if worker is not self._worker or self._incarnation != worker.incarnation:
            raise wire.WireError(f"this {self._handle.kind} object belongs to a worker process that has since been restarted")
        return self._handle

    def __del__(self) -> None:
        try:
            self._worker._release(self._incarnation, self._handle.id)
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<student {self._handle.kind} object>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._worker.request({"op": "getattr", "target": self, "attr": name}, what=f"{self._handle.kind}.{name}")
        if type(value) is RemoteObject:
            object.__setattr__(value, "_origin", (self, name))
        elif self._worker.recorder is not None:
            self._worker.recorder.attribute(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("student objects are read-only from the judge")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            return self._worker.request({"op": "call", "target": self, "args": list(args), "kwargs": kwargs}, what=self._handle.kind)

        recorder = self._worker.recorder
        if recorder is None or self._origin is None:
            return call()
        owner, name = self._origin
        return recorder.method(owner, name, call, args, kwargs)

    def __bool__(self) -> bool:
        raise TypeError(f"expected a plain value (bool, number or array), got a student {self._handle.kind} object")

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def _operator(self, name: str, *args: Any) -> Any:
        return self._worker.request({"op": "operator", "name": name, "args": list(args)}, what=f"operator {name} on {self._handle.kind}")

    def __add__(self, other: Any) -> Any:
        return self._operator("add", self, other)

    def __radd__(self, other: Any) -> Any:
        return self._operator("add", other, self)

    def __sub__(self, other: Any) -> Any:
        return self._operator("sub", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._operator("sub", other, self)

    def __mul__(self, other: Any) -> Any:
        return self._operator("mul", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._operator("mul", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._operator("truediv", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._operator("truediv", other, self)

    def __pow__(self, other: Any) -> Any:
        return self._operator("pow", self, other)

    def __neg__(self) -> Any:
        return self._operator("neg", self)


def kind_of(value: RemoteObject) -> str:
    """The type name of the worker object a handle stands for (``"SGD"``)."""
    return value._handle.kind


class RemoteFunction:
    """A callable attribute of the student's module, called in the worker."""

    def __init__(self, module: RemoteModule, name: str) -> None:
        self._module = module
        self.__name__ = name

    def __repr__(self) -> str:
        return f"<student function {self._module.label}.{self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._module._call({"op": "call", "args": list(args), "kwargs": kwargs}, self.__name__)

    def map_calls(self, calls: list[tuple[tuple[Any, ...], dict[str, Any]]], pick: int | None = None) -> list[Any]:
        """Many calls in one round trip (``grader.gradcheck.call_many``)."""
        wire_calls = [[list(args), dict(kwargs)] for args, kwargs in calls]
        return self._module._call({"op": "map", "calls": wire_calls, "pick": pick}, self.__name__)


class RemoteModule:
    """The student's module as seen from the judge: functions and classes callable remotely."""

    def __init__(self, worker: Worker, info: dict[str, Any], label: str) -> None:
        self._worker = worker
        self._handle: RemoteObject = info["module"]
        self._names: dict[str, bool] = info["names"]
        self.label = label
        notebook = info.get("notebook") or {}
        self.cell_failures: list[str] = list(notebook.get("failures", []))
        self.skipped_magics: list[str] = list(notebook.get("skipped", []))

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def _call(self, message: dict[str, Any], name: str) -> Any:
        message.update(target=self._handle, attr=name)
        return self._worker.request(message, what=f"{self.label}: {name}", once=True)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in self._names:
            raise AttributeError(name)
        if self._names[name]:
            return RemoteFunction(self, name)
        return self._worker.request({"op": "getattr", "target": self._handle, "attr": name}, what=f"{self.label}: {name}")

    def share(self, value: Any) -> RemoteObject:
        return self._worker.share(value)

    def fetch(self, handle: Any) -> Any:
        return self._worker.fetch(handle)
