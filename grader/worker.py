"""The worker process: loads student files and runs their code on the judge's requests.

Started by ``grader.remote.Worker`` as ``python -I -c <bootstrap>`` with two pipe descriptors.
It reads a request, runs it, and answers with plain data (``grader.wire``); every other object
stays here in a table and travels as a ``Handle``. Whatever student code raises, ``SystemExit``
and ``KeyboardInterrupt`` included, becomes an error answer; a process that dies or hangs is the
judge's business (it sees the pipe close, or its deadline pass).

Requests are dicts with an ``op``:

* ``load`` ``path`` -> handle of the module, names it defines, notebook report
* ``call`` ``target`` [``attr``] ``args`` ``kwargs`` ``pick`` -> the result (element ``pick``)
* ``map`` ``target`` [``attr``] ``calls`` ``pick`` -> a list of results, one round trip
* ``getattr`` ``target`` ``attr`` -> the attribute
* ``operator`` ``name`` ``args`` -> ``operator.<name>(*args)`` (``v * 2``, ``-v``, ...)
* ``put`` ``value`` -> a handle to a worker-side copy (lists and dicts stay mutable there); the
  handles inside ``value`` become the worker's own objects again, as in every other request
* ``fetch`` ``target`` -> the object as plain data, containers walked
Every request may carry ``release``: handle ids the judge no longer holds.
"""

from __future__ import annotations

import importlib.abc
import itertools
import operator
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from grader import wire
from grader.loader import load_module_from_path

BLOCKED_PACKAGES = frozenset({"reference", "tests"})
_OPERATORS = frozenset({"add", "sub", "mul", "truediv", "pow", "neg", "matmul", "floordiv", "mod", "pos", "abs"})


class _BlockImports(importlib.abc.MetaPathFinder):
    """Refuse imports of the instructor's packages (the oracles and the harness's tests)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"{fullname} is not available to student code")
        return None


class Server:
    """The worker's object table and request dispatch."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.ids = itertools.count(1)

    def handle_for(self, obj: Any) -> wire.Handle:
        key = next(self.ids)
        self.objects[key] = obj
        return wire.Handle(key, type(obj).__name__)

    def resolve(self, value: Any) -> Any:
        """Replace handles inside a decoded request by the objects they name."""
        if type(value) is wire.Handle:
            try:
                return self.objects[value.id]
            except KeyError:
                raise LookupError(f"object {value.kind} #{value.id} is no longer available") from None
        if type(value) is list:
            return [self.resolve(v) for v in value]
        if type(value) is tuple:
            return tuple(self.resolve(v) for v in value)
        if type(value) is dict:
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def target(self, request: dict[str, Any]) -> Any:
        obj = self.resolve(request["target"])
        attr = request.get("attr")
        return obj if attr is None else getattr(obj, attr)

    @staticmethod
    def _pick(result: Any, pick: int | None) -> Any:
        if pick is None:
            return result
        if not isinstance(result, tuple) or tuple.__len__(result) <= pick:  # a named tuple is a tuple
            raise TypeError(f"expected a tuple with at least {pick + 1} elements, got {type(result).__name__}")
        return tuple.__getitem__(result, pick)

    def dispatch(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        if op == "load":
            module = load_module_from_path(Path(request["path"]), seconds=request.get("seconds"))
            run = getattr(module, "__notebook_run__", None)
            names = {n: callable(v) for n, v in vars(module).items() if not n.startswith("__")}
            report = None if run is None else {
                "failures": [str(f) for f in run.failures],
                "skipped": list(run.skipped),
            }
            return {"module": self.handle_for(module), "names": names, "notebook": report}
        if op == "call":
            args, kwargs = self.resolve(request["args"]), self.resolve(request["kwargs"])
            return self._pick(self.target(request)(*args, **kwargs), request.get("pick"))
        if op == "map":
            func = self.target(request)
            calls = self.resolve(request["calls"])
            return [self._pick(func(*args, **kwargs), request.get("pick")) for args, kwargs in calls]
        if op == "getattr":
            return getattr(self.resolve(request["target"]), request["attr"])
        if op == "operator":
            name = request["name"]
            if name not in _OPERATORS:
                raise ValueError(f"operator {name!r} is not served")
            return getattr(operator, name)(*self.resolve(request["args"]))
        if op == "put":
            return self.handle_for(self.resolve(request["value"]))
        if op == "fetch":
            return self.resolve(request["target"])
        raise ValueError(f"unknown request {op!r}")

    def answer(self, request: dict[str, Any]) -> bytes:
        for key in request.get("release", ()):
            self.objects.pop(key, None)
        try:
            value = self.dispatch(request)
            return wire.encode({"ok": True, "value": value}, self.handle_for)
        except BaseException as error:  # student code may raise anything, SystemExit included
            raised = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]  # the judge maps these to built-ins
            return wire.encode({"ok": False, "error": error_summary(error), "traceback": student_traceback(error), "raised": raised})


def error_summary(error: BaseException) -> str:
    """``Type: message``; for a syntax error, then where it is (file, line, the line and a caret)."""
    lines = traceback.format_exception_only(type(error), error)
    where = "".join(lines[:-1]).rstrip() if isinstance(error, SyntaxError) else ""
    return f"{lines[-1].strip()}\n{where}" if where else lines[-1].strip()


def student_traceback(error: BaseException, limit: int = 10) -> str:
    """The traceback of ``error`` without the worker's own frames (the student's last ``limit``)."""
    harness = str(Path(__file__).resolve().parent)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith((harness, "<frozen "))]
    return "".join(traceback.format_list(frames[-limit:]))


def serve(read_fd: int, write_fd: int) -> None:
    """Answer requests until the judge closes the channel."""
    requests = os.fdopen(read_fd, "rb", buffering=0)
    answers = os.fdopen(write_fd, "wb", buffering=0)
    server = Server()
    while True:
        try:
            request = wire.decode(wire.read_message(requests))
        except EOFError:
            return
        wire.write_message(answers, server.answer(request))


def main(argv: list[str]) -> None:
    """Entry point inside the worker: ``argv = [read_fd, write_fd, project_root]``."""
    read_fd, write_fd, project_root = int(argv[0]), int(argv[1]), argv[2]
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(project_root).resolve()]
    sys.meta_path.insert(0, _BlockImports())
    serve(read_fd, write_fd)
