"""One recipe for starting a process on the worker's side, and for killing it: a worker
(``grader.remote.Exec``) and the fork server (``grader.forkserver.ForkServer``) start alike,
confined alike by ``grader.sandbox.Sandbox.launch``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course import PROJECT_ROOT


@dataclass(frozen=True)
class Launch:
    """How the judge starts an interpreter on the worker's side: ``command`` (the sandbox's
    wrapper) + ``python -I -c SCRIPT ARGS``, in ``cwd`` with ``env``, in a session of its own,
    ``prepare`` run in the child before Python starts (resource limits, see ``grader.sandbox``).
    ``reap`` kills, after the process, whatever it started that left its session
    (``Sandbox.kill_all``)."""

    env: dict[str, str] | None = None
    cwd: Path | None = None
    prepare: Callable[[], None] | None = None
    command: tuple[str, ...] = ()
    reap: Callable[[], None] | None = None

    def popen(self, script: str, args: Sequence[object], *, pass_fds: tuple[int, ...], output: Any) -> subprocess.Popen[bytes]:
        """Start ``script`` (``{root}`` in it: the project's root) with ``args``, holding ``pass_fds``; its output goes to ``output``."""
        argv = [*self.command, sys.executable, "-I", "-c", script.format(root=str(PROJECT_ROOT)), *map(str, args)]
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output, pass_fds=pass_fds,
            env=self.env, cwd=self.cwd, preexec_fn=self.prepare, start_new_session=True,
        )  # fmt: skip

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """Kill ``process``'s session and wait for it, then ``reap`` what left the session
        (``setsid``, a double fork)."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        if self.reap is not None:
            self.reap()
