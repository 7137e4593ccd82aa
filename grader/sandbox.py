"""The worker's sandbox: resource limits, a clean environment, and what student code can see.

``Sandbox`` prepares everything ``grader.remote.Worker`` needs to start student code confined:

* **limits** (``Limits``, set with ``setrlimit`` in the child before Python starts): CPU seconds
  (``RLIMIT_CPU``), address space (``RLIMIT_AS``), tasks of the worker's user
  (``RLIMIT_NPROC``), open files (``RLIMIT_NOFILE``), the size of any file written, the worker's
  captured output included (``RLIMIT_FSIZE``), and no core dumps. Wall-clock time is bounded per
  request by the ``Worker`` itself.
* **a clean environment**: nothing inherited but ``PATH`` and the locale; ``HOME`` and ``TMPDIR``
  are private folders; the working folder holds private copies of the student's files and of
  the course's public files (the helpers that run beside student code), and the worker loads
  code only from there.
* **what it can see**, as strongly as this machine allows (``probe``):

  ``namespaces`` (root, and ``unshare`` works): the worker runs in fresh mount, network and PID
  namespaces (``unshare --mount --net --pid --fork --kill-child --mount-proc``). The course's
  ``reference/``, ``tests/`` and every ``assignments/*/hidden/`` are covered by empty read-only
  tmpfs mounts; ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run/lock`` are private scratch
  tmpfs (64 MiB each), so nothing written there outlives the worker or reaches another run
  (the worker's own folder, the harness and the Python environment stay visible where they
  are, even under ``/tmp``);
  the network is a lone loopback that is down; ``/proc`` shows only the worker's own
  processes; when the worker dies, the kernel kills every process it started, however it
  detached. Then the worker drops to an unprivileged user of its own (``setpriv``, no new
  privileges, no capabilities), so it cannot undo the mounts, signal or trace the judge, or
  write where only root may (the judge's results).

  ``user`` (root, no namespaces): the same unprivileged user and limits, but the course's files
  stay readable (they are world-readable on disk) and the network stays reachable.

  ``limits`` (not root): limits, environment and folder only. ``RLIMIT_NPROC`` then counts every
  process of the grading user, so it is left unset.

Each ``Sandbox`` gets its own user id (``FIRST_UID`` + the judge's pid), so concurrent gradings
cannot read or signal each other's workers or files, and ``RLIMIT_NPROC`` counts one worker's
tasks only.
"""

from __future__ import annotations

import functools
import os
import resource
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.course import PROJECT_ROOT

Level = Literal["namespaces", "user", "limits"]

FIRST_UID = 100_000
_UNSHARE = ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private"]
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MIB = 1 << 20
_NEVER_COPIED = frozenset({"hidden", "__pycache__", ".git"})


class SandboxError(Exception):
    """The sandbox cannot be set up here: grading must stop rather than run unconfined."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process (``None``: not limited)."""

    cpu_seconds: int | None = 600
    memory_bytes: int | None = 4096 * MIB  # address space; CPU-only torch needs well under 1 GiB
    tasks: int | None = 128  # processes and threads of the worker's own user
    open_files: int | None = 256
    file_bytes: int | None = 64 * MIB  # any file written, the captured stdout/stderr included

    def apply(self, *, tasks: bool) -> None:
        """Set the limits on the calling process (called in the child, before ``exec``)."""
        table = [
            (resource.RLIMIT_CPU, self.cpu_seconds),
            (resource.RLIMIT_AS, self.memory_bytes),
            (resource.RLIMIT_NOFILE, self.open_files),
            (resource.RLIMIT_FSIZE, self.file_bytes),
            (resource.RLIMIT_CORE, 0),
        ]
        if tasks:
            table.append((resource.RLIMIT_NPROC, self.tasks))
        for which, value in table:
            if value is not None:
                # The hard limit a little above the soft one: SIGXCPU first, then SIGKILL.
                hard = value + 5 if which == resource.RLIMIT_CPU else value
                resource.setrlimit(which, (value, hard))


@functools.cache
def probe() -> Level:
    """The strongest isolation this machine gives: namespaces, a separate user, or limits only."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return "limits"
    if shutil.which("unshare") is None:
        return "user"
    check = [*_UNSHARE, "--", "mount", "-t", "tmpfs", "-o", "size=4k", "dlgrade-probe", "/tmp"]  # private: seen by no one
    try:
        ok = subprocess.run(check, stdin=subprocess.DEVNULL, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return "namespaces" if ok else "user"


def _gpu_present() -> bool:
    return Path("/proc/driver/nvidia/version").exists()


def default_limits() -> Limits:
    """The default limits; with an NVIDIA driver the address space is not limited (CUDA reserves
    tens of GiB of it at initialisation, far more than it uses)."""
    return Limits(memory_bytes=None) if _gpu_present() else Limits()


def hidden_paths(course: Path, *, keep_reference: bool) -> list[Path]:
    """The instructor-only folders of ``course`` (and of the harness) that exist."""
    roots = {course.resolve(), PROJECT_ROOT}
    paths: list[Path] = []
    for root in sorted(roots):
        paths.append(root / "tests")
        if not keep_reference:
            paths.append(root / "reference")
        paths.extend(sorted((root / "assignments").glob("*/hidden")))
    return sorted({p.resolve() for p in paths if p.is_dir()})  # a linked folder: hide its target


def _outermost(paths: list[Path]) -> list[Path]:
    """``paths`` without those inside another one of them."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(p != q and p.is_relative_to(q) for q in unique)]


def copy_regular_files(source: Path, destination: Path, *, names: Iterable[str] | None = None) -> list[str]:
    """Copy the regular files below ``source`` (only the relative ``names``, when given) to
    ``destination``. Symbolic links, devices and the like are never followed or copied (a link
    could point at the reference); the names skipped for that are returned."""
    if names is None:
        names = []
        for folder, dirs, files in os.walk(source):  # never enters linked folders
            dirs[:] = sorted(d for d in dirs if d not in _NEVER_COPIED)
            names += [os.path.relpath(os.path.join(folder, name), source) for name in sorted(files)]
    skipped: list[str] = []
    for relative in names:
        path = source / relative
        if any(p.is_symlink() for p in [path, *path.parents][: len(Path(relative).parts)]):
            skipped.append(str(relative))
            continue
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue  # missing: the tests that need it say so
        if not stat.S_ISREG(mode):
            skipped.append(str(relative))
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return skipped


class Sandbox:
    """A private folder and the recipe for starting confined workers in it.

    ``root/`` holds ``home/``, ``tmp/`` and ``work/`` (the worker's current folder, where the
    submission is copied); with a separate user, ``root/`` belongs to that user alone.
    """

    def __init__(self, course: Path, *, limits: Limits | None = None, keep_reference: bool = False, level: Level | None = None) -> None:
        self.level: Level = level or probe()
        self.limits = limits or default_limits()
        self.uid = FIRST_UID + os.getpid() if self.level != "limits" else None
        self.root = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-"))
        self.home, self.tmp, self.work = self.root / "home", self.root / "tmp", self.root / "work"
        for folder in (self.home, self.tmp, self.work):
            folder.mkdir()
        self.hidden = hidden_paths(course, keep_reference=keep_reference) if self.level == "namespaces" else []
        # What the worker must still see: its folder, the harness and the Python environment.
        self.needed = [p.resolve() for p in (self.root, PROJECT_ROOT, Path(sys.prefix))]

    def add_files(self, source: Path, subfolder: str) -> Path:
        """Copy ``source``'s regular files to ``work/<subfolder>`` and return that folder (the
        worker reads code only from its own folder; ``hidden/`` folders are never copied)."""
        destination = self.work / subfolder
        destination.mkdir(parents=True, exist_ok=True)
        copy_regular_files(source, destination)
        return destination

    def _hand_over(self) -> None:
        """Give the private folder to the worker's user (call after the files are in place)."""
        if self.uid is None:
            return
        os.chmod(self.root, 0o700)
        for folder, _, files in os.walk(self.root):
            os.chown(folder, self.uid, self.uid)
            for name in files:
                os.chown(os.path.join(folder, name), self.uid, self.uid)

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (or the kept variables of this process) with private HOME and TMPDIR."""
        env = dict(base) if base is not None else {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
        env.update(HOME=str(self.home), TMPDIR=str(self.tmp), XDG_CACHE_HOME=str(self.home / ".cache"), MPLCONFIGDIR=str(self.home / ".matplotlib"))
        return env

    def command(self) -> list[str]:
        """The prefix that starts the worker's Python inside the sandbox (empty: none)."""
        if self.level == "limits":
            return []
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        if self.level == "user":
            return drop
        return [*_UNSHARE, "--", "/bin/sh", "-c", f'set -e; {self._mounts()}; exec {shlex.join(drop)} "$@"', "dlgrade-sandbox"]

    def _mounts(self) -> str:
        """Shell commands, run as root in the new mount namespace: private scratch tmpfs over /tmp
        and the other world-writable folders (what the worker needs from /tmp, such as its own
        folder, is carried over through a staging tmpfs on /mnt), then empty read-only folders
        over the hidden paths."""
        q = shlex.quote
        scratch = "mount -t tmpfs -o nosuid,nodev,size=64m,mode=1777 dlgrade-scratch"
        steps = []
        if Path("/mnt").is_dir():
            carried = _outermost([p for p in self.needed if p.is_relative_to("/tmp")])
            steps.append("mount -t tmpfs -o size=4k dlgrade-staging /mnt")
            steps += [f"mkdir /mnt/{i} && mount --bind {q(str(p))} /mnt/{i}" for i, p in enumerate(carried)]
            steps.append(f"{scratch} /tmp")
            steps += [f"mkdir -p {q(str(p))} && mount --move /mnt/{i} {q(str(p))}" for i, p in enumerate(carried)]
            steps.append("umount /mnt")
            # A hidden path under /tmp that was not carried over is gone already.
            hidden = [p for p in self.hidden if not p.is_relative_to("/tmp") or any(p.is_relative_to(c) for c in carried)]
        else:
            hidden = self.hidden
        steps += [f"if [ -d {d} ]; then {scratch} {d}; fi" for d in ("/var/tmp", "/dev/shm", "/run/lock")]
        steps += [f"mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=000 dlgrade-hidden {q(str(p))}" for p in hidden]
        return "; ".join(steps)

    def check(self) -> None:
        """Start the sandbox once around ``true``; raise ``SandboxError`` if it cannot be set up
        (then nothing must be graded: a hidden path could be left visible)."""
        command = self.command()
        if not command:
            return
        run = subprocess.run([*command, "/bin/true"], stdin=subprocess.DEVNULL, capture_output=True, text=True, preexec_fn=self.prepare(), timeout=60)
        if run.returncode != 0:
            raise SandboxError(f"{self.level} sandbox failed (exit status {run.returncode}): {run.stderr.strip()[-1000:]}")

    def prepare(self) -> Callable[[], None]:
        """The function run in the child before ``exec``: only ``setrlimit`` calls."""
        limits, tasks = self.limits, self.uid is not None
        return functools.partial(limits.apply, tasks=tasks)

    def worker_options(self, env: dict[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments for ``grader.remote.Worker``."""
        self._hand_over()
        self.check()
        return {"env": self.environment(env), "cwd": self.work, "prepare": self.prepare(), "command": self.command()}

    def describe(self) -> str:
        """One line for the report header."""
        what = {"namespaces": "namespaces+user", "user": "user", "limits": "limits only"}[self.level]
        return f"sandbox={what}"

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
