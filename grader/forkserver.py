"""A fork server for worker processes: one interpreter, started once where the worker runs (inside
the sandbox), that forks a fresh worker for every start or restart.

Starting Python and importing numpy costs about 0.3 s of CPU, torch about 2 s more; a fork costs
a few milliseconds. The server imports numpy when it starts and, before a fork, the installed
libraries the worker is asked to find loaded (``preload``: torch for an assignment whose course
helpers import it). It never loads a course or student file and never runs student code, so
every incarnation starts from the same clean state: nothing one incarnation does reaches the next.

* Each incarnation is the server's child in a session of its own, with the judge's pipes as its
  requests and answers and the judge's file as its output; it reseeds numpy's global generator
  (a fresh interpreter would have), then serves requests (``grader.worker``) until the judge
  closes them.
* The server is not dumpable (``PR_SET_DUMPABLE`` 0): an incarnation running as the same user
  cannot trace it or write its memory. It can kill it; the next start then starts a new server.
* ``kill``: the server kills the incarnation's session and, when ``sweep`` (the sandbox's user
  runs nothing else), every other process of its user but itself (what left the session), then
  waits for the incarnation and answers with its exit status. The judge starts the next
  incarnation only after that answer.

Protocol: a ``SOCK_SEQPACKET`` socket pair, one JSON object per packet. The judge sends
``{"op": "spawn", "preload": [...]}`` with three descriptors (requests, answers, output), answered
``{"pid": n}``, and ``{"op": "kill", "pid": n}``, answered ``{"killed": n}``. The server sends
``{"exited": n, "status": s}`` whenever an incarnation ends (``s`` as ``Popen.returncode``).
"""

from __future__ import annotations

import array
import ctypes
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader.course import PROJECT_ROOT
from grader.launch import Launch

_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from grader.forkserver import serve; serve(sys.argv[1:])"
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36
_MAX_PACKET = 1 << 16


class ForkServerError(OSError):
    """The fork server ended or did not answer: the caller starts a new one."""


def _send(sock: socket.socket, message: dict[str, object], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode()
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], ancillary)


def _receive(sock: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, ancillary, _, _ = sock.recvmsg(_MAX_PACKET, socket.CMSG_SPACE(3 * array.array("i").itemsize))
    if not data:
        raise EOFError
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return json.loads(data), list(fds)


# -- the judge's side -----------------------------------------------------------------------------
class ForkServer:
    """Starts the server on first use, as ``launch`` says, and asks it for incarnations; killing
    the server is ``launch``'s kill (its session, then ``reap``)."""

    def __init__(self, launch: Launch = Launch(), *, sweep: bool = False) -> None:
        self.launch, self.sweep = launch, sweep
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._exited: dict[int, int] = {}  # incarnation pid -> exit status, as the server reported them
        self._log = tempfile.TemporaryFile()
        self.starts = 0  # servers started so far

    def spawner(self, preload: Iterable[str] = ()) -> Forked:
        """What ``grader.remote.Worker`` starts its incarnations with, ``preload`` imported first."""
        return Forked(self, tuple(sorted(set(preload))))

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log.seek(0)
        self._log.truncate()
        args = [theirs.fileno(), PROJECT_ROOT, "sweep" if self.sweep else "session"]
        self._process = self.launch.popen(_BOOTSTRAP, args, pass_fds=(theirs.fileno(),), output=self._log)
        theirs.close()
        self._socket = ours
        self._exited.clear()
        self.starts += 1

    def spawn(self, preload: Sequence[str], requests_fd: int, answers_fd: int, output: int) -> int:
        """A new incarnation serving ``requests_fd``/``answers_fd``: its pid (in the server's view)."""
        for attempt in (1, 2):  # a server that ended (student code can kill it) is started again, once
            if self._socket is None:
                self._start()
            try:
                _send(self._socket, {"op": "spawn", "preload": list(preload)}, [requests_fd, answers_fd, output])  # type: ignore[arg-type]
                return int(self._reply("pid", timeout=600.0))
            except (OSError, EOFError) as error:
                self.close()
                if attempt == 2:
                    raise ForkServerError(f"the fork server did not start a worker ({error}); its output:\n{self.output()}") from None
        raise AssertionError("unreachable")

    def kill(self, pid: int) -> None:
        """Kill incarnation ``pid`` (and, with ``sweep``, every stray process of the sandbox's user),
        also when it has ended already: what it started may still run."""
        if self._socket is None:
            return
        try:
            _send(self._socket, {"op": "kill", "pid": pid})
            self._reply("killed", timeout=30.0)
        except (OSError, EOFError):
            self.close()  # the server and, at the allowlist level, its PID namespace are gone

    def status(self, pid: int, timeout: float = 0.0) -> int | None:
        """Incarnation ``pid``'s exit status, waiting up to ``timeout`` s for it; None: running."""
        deadline = time.monotonic() + timeout
        while pid not in self._exited and self._socket is not None:
            try:
                self._reply(None, timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return None
            except (OSError, EOFError):
                self.close()
        return self._exited.get(pid, -signal.SIGKILL if self._socket is None else None)

    def _reply(self, key: str | None, *, timeout: float) -> object:
        """Read packets until one holds ``key`` (None: until one arrives), noting exit notices."""
        assert self._socket is not None
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self._socket], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            message, fds = _receive(self._socket)
            for fd in fds:
                os.close(fd)
            if "exited" in message:
                self._exited[int(message["exited"])] = int(message["status"])  # type: ignore[arg-type]
            if key is None or key in message:
                return message.get(key) if key else None

    def output(self, limit: int = 2000) -> str:
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - limit))
        return self._log.read().decode(errors="replace")

    def close(self) -> None:
        """Stop the server and every incarnation."""
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()
        process, self._process = self._process, None
        if process is not None:
            self.launch.kill(process)


class Forked:
    """One worker's way to start: an incarnation of ``server`` with ``preload`` imported."""

    def __init__(self, server: ForkServer, preload: tuple[str, ...]) -> None:
        self.server, self.preload = server, preload

    def start(self, requests_fd: int, answers_fd: int, output: int) -> Incarnation:
        return Incarnation(self.server, self.server.spawn(self.preload, requests_fd, answers_fd, output))


class Incarnation:
    """A forked worker, seen as ``subprocess.Popen`` sees a process: ``poll``, ``wait``, ``kill``."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid

    def poll(self) -> int | None:
        return self.server.status(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        status = self.server.status(self.pid, timeout=timeout if timeout is not None else 1e9)
        if status is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return status

    def kill(self) -> None:
        self.server.kill(self.pid)


# -- the server's side (inside the sandbox) ------------------------------------------------------
def serve(argv: list[str]) -> None:
    """Entry point of the server: ``argv = [socket_fd, project_root, "sweep" | "session"]``."""
    sock = socket.socket(fileno=int(argv[0]))
    project_root, sweep = argv[1], argv[2] == "sweep"
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(project_root).resolve()]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no tracing or /proc/<pid>/mem by the same user
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # what an incarnation leaves behind is ours to reap
    import numpy  # noqa: F401  (every worker needs it)

    import grader.worker  # noqa: F401

    running: dict[int, int] = {}  # incarnation pid -> its pidfd
    while True:
        ready, _, _ = select.select([sock, *running.values()], [], [])
        if sock not in ready:
            _reap(sock, running)
            continue
        try:
            message, fds = _receive(sock)
        except (EOFError, OSError):
            return  # the judge is gone
        if message.get("op") == "spawn" and len(fds) == 3:
            for name in message.get("preload", []):
                try:
                    importlib.import_module(str(name))
                except Exception:  # not installed here: the incarnation imports it or fails itself
                    pass
            pid = os.fork()
            if pid == 0:
                _incarnation(sock, running, fds, project_root)
            for fd in fds:
                os.close(fd)
            running[pid] = os.pidfd_open(pid)
            _send(sock, {"pid": pid})
        elif message.get("op") == "kill":
            pid = int(message["pid"])
            _kill(pid, sweep, sock, running)
            _reap(sock, running, wait_for=pid)
            _send(sock, {"killed": pid})
        else:
            for fd in fds:
                os.close(fd)


def _kill(pid: int, sweep: bool, sock: socket.socket, running: dict[int, int]) -> None:
    """Kill incarnation ``pid``'s session; with ``sweep`` also every other process of this user,
    until none is left (they may be starting more while they are killed; the ended ones, orphans
    this subreaper adopted, are collected as ``_reap`` collects every child)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not sweep:
        return
    deadline = time.monotonic() + 5.0
    while (left := [p for p in _others() if p != pid]) and time.monotonic() < deadline:
        for other in left:
            try:
                os.kill(other, signal.SIGKILL)
            except OSError:
                pass
        _reap(sock, running)
        time.sleep(0.001)


def _others() -> list[int]:
    """The processes of this user but this one (zombies included: they still hold their pid)."""
    me, uid = os.getpid(), os.getuid()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _reap(sock: socket.socket, running: dict[int, int], wait_for: int | None = None) -> None:
    """Collect ended children; tell the judge of each incarnation that ended."""
    while True:
        try:
            pid, status = os.waitpid(wait_for if wait_for in running else -1, 0 if wait_for in running else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in running:
            os.close(running.pop(pid))
            _send(sock, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def _incarnation(sock: socket.socket, running: dict[int, int], fds: list[int], project_root: str) -> None:
    """In the forked child: become a fresh worker and never return to the server's loop."""
    try:
        sock.close()
        for pidfd in running.values():
            os.close(pidfd)
        os.setsid()
        requests, answers, output = fds
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # never outlive the server
        import numpy

        numpy.random.seed()  # a fresh interpreter seeds it from the OS; so does each incarnation
        from grader.worker import main

        main([str(requests), str(answers), project_root])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    finally:
        os._exit(1)
