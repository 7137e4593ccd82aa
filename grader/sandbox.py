"""The worker's sandbox: what student code can see, which user it runs as, and its limits.

``Sandbox`` prepares everything ``grader.remote.Worker`` needs to start student code confined.
It hides by allowlist: the worker sees only what it is given, never "everything but the secrets".

* **limits** (``Limits``, set with ``setrlimit`` in the child before Python starts): CPU seconds,
  address space, tasks of the worker's user, open files, the size of any file written (the
  worker's captured output included), and no core dumps. Wall-clock time is bounded per request
  by the ``Worker`` itself.
* **a clean environment**: nothing inherited but ``PATH`` and the locale; ``HOME`` and ``TMPDIR``
  are private folders; the working folder holds read-only copies of the student's files and of
  the course's public helper modules, and the worker loads code only from there.
* **a user of its own** (``FIRST_UID`` + the judge's pid, set with ``setpriv``: no new
  privileges, no capabilities): it cannot signal, trace or read the judge or another worker, and
  the sandbox's folder belongs to it alone.
* **what it can see**, by level (``probe`` finds the strongest this machine allows):

  ``allowlist`` (root with CAP_SYS_ADMIN): bubblewrap starts the worker from an empty root
  with read-only binds of the system's programs and libraries (``/usr``), the interpreter and
  its installed packages, the harness's ``grader`` package alone, a few devices, its own
  folder (the copies read-only), and private ``/tmp`` and ``/dev/shm``. No course, no ``.git``,
  no other submission, roster or output folder exists there. Fresh PID, network, IPC and UTS
  namespaces: ``/proc`` shows only the worker's processes, the network is a loopback that is
  down, and when the worker dies every process it started dies with it.

  ``user`` (root without CAP_SYS_ADMIN: Docker's defaults, Gradescope): the same user, limits
  and folder; Landlock (``grader.confine``) lets it read only the same allowlist and write only
  its own folder, and a seccomp filter denies every socket but a Unix one (no network).

Not root: nothing can keep student code from the course's files, so ``Sandbox`` refuses
(``SandboxError`` names the fix: ``sudo``, or an explicit ``--sandbox off`` stated in every output).
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader import confine
from grader.course import PROJECT_ROOT
from grader.launch import Launch

Level = Literal["allowlist", "user"]

FIRST_UID = 100_000
MIB = 1 << 20
HARNESS = Path(__file__).resolve().parent
"""The ``grader`` package: the only part of the project the worker sees."""
NOT_ROOT = (
    "student code can only be confined when grading as root: run it with sudo (the worker then gets "
    "a user of its own and a view without the course's files), or pass --sandbox off to grade "
    "unconfined (trusted code only; every output then says so)"
)
UNAVAILABLE = "neither bubblewrap nor Landlock works here: install bubblewrap (apt-get install bubblewrap), or grade on Linux 5.13 or later"
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_NEVER_COPIED = frozenset({"hidden", "__pycache__", ".git"})
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group")
_NAMESPACES = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session"]


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


def isolation_level(confined: bool) -> str:
    """What a grading records as its isolation: the sandbox's level, ``unavailable`` when it
    cannot start, ``off`` when student code runs unconfined."""
    return (probe() or "unavailable") if confined else "off"


@functools.cache
def probe() -> Level | None:
    """The strongest isolation this machine gives (``None``: none, grading must not run)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    if shutil.which("bwrap") is not None:
        check = ["bwrap", *_NAMESPACES, "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc", "--", "true"]
        try:
            if subprocess.run(check, stdin=subprocess.DEVNULL, capture_output=True, timeout=20).returncode == 0:
                return "allowlist"
        except (OSError, subprocess.SubprocessError):
            pass
    return "user" if confine.available() else None


def _gpu_present() -> bool:
    return Path("/proc/driver/nvidia/version").exists()


def default_limits() -> Limits:
    """The default limits; with an NVIDIA driver the address space is not limited (CUDA reserves
    tens of GiB of it at initialisation, far more than it uses)."""
    return Limits(memory_bytes=None) if _gpu_present() else Limits()


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


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def readable_paths() -> list[Path]:
    """What the worker may read besides its own folder: system programs and libraries, the
    interpreter and its packages, and the harness's ``grader`` package (never the project around it)."""
    python = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    # package folders a .pth file or a --system-site-packages venv adds from outside those prefixes
    packages = {Path(p) for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()}
    files = [Path(p) for p in (*_SYSTEM, *_SYSTEM_FILES)]
    return sorted({p for p in (*files, *python, *packages, HARNESS) if p.exists()})


class Sandbox:
    """A private folder and the recipe for starting confined workers in it.

    ``root/`` holds ``home/`` and ``tmp/`` (the worker's, writable) and ``work/`` (its current
    folder: the copies of the student's files and the course's helpers, read-only to it).
    Nobody but root and the worker's user can enter ``root/``.
    """

    def __init__(self, *, limits: Limits | None = None, private: Iterable[Path] = ()) -> None:
        """``private``: folders the worker must never see (the course); the project's own root
        is always one."""
        level = probe()
        if level is None:
            raise SandboxError(NOT_ROOT if os.geteuid() != 0 else UNAVAILABLE)
        for folder in {PROJECT_ROOT, *(Path(p).resolve() for p in private)}:
            inside = [str(r) for r in readable_paths() if folder.is_relative_to(r.resolve())]
            if inside:
                raise SandboxError(f"{folder} lies inside {inside[0]}, which student code must read: move it elsewhere")
        self.level: Level = level
        self.limits = limits or default_limits()
        self.uid = FIRST_UID + os.getpid()
        self.root = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-"))
        self.home, self.tmp, self.work = self.root / "home", self.root / "tmp", self.root / "work"
        for folder in (self.home, self.tmp, self.work):
            folder.mkdir()

    def add_files(self, source: Path, subfolder: str, *, names: Iterable[str] | None = None) -> Path:
        """Copy ``source``'s regular files (only ``names``, when given) to ``work/<subfolder>``
        and return that folder (``hidden/`` folders are never copied)."""
        destination = self.work / subfolder
        destination.mkdir(parents=True, exist_ok=True)
        copy_regular_files(source, destination, names=names)
        return destination

    def _hand_over(self) -> None:
        """Open the private folder to the worker's user alone (call after the files are in
        place): ``home/`` and ``tmp/`` are its own; ``root/`` and the copies in ``work/`` stay
        root's, readable through the worker's group, so it can neither change nor replace them."""
        os.chown(self.root, 0, self.uid)
        os.chmod(self.root, 0o710)
        for folder in (self.home, self.tmp):
            os.chown(folder, self.uid, self.uid)
            os.chmod(folder, 0o700)
        for folder, _, files in os.walk(self.work):
            os.chown(folder, 0, self.uid)
            os.chmod(folder, 0o750)
            for name in files:
                os.chown(os.path.join(folder, name), 0, self.uid)
                os.chmod(os.path.join(folder, name), 0o640)

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (or the kept variables of this process) with private HOME and TMPDIR."""
        env = dict(base) if base is not None else {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
        env.update(HOME=str(self.home), TMPDIR=str(self.tmp), XDG_CACHE_HOME=str(self.home / ".cache"), MPLCONFIGDIR=str(self.home / ".matplotlib"))
        return env

    def command(self) -> list[str]:
        """The prefix that starts the worker's Python inside the sandbox."""
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        if self.level == "user":
            return drop
        return ["bwrap", *_NAMESPACES, *self._view(), "--", *drop]

    def _view(self) -> list[str]:
        """bubblewrap's arguments for the worker's file system: an empty root, then the allowlist."""
        view = ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(64 * MIB), "--tmpfs", "/tmp"]
        shown = [*readable_paths(), self.root]
        parents = sorted({parent for path in shown for parent in path.parents if parent != Path("/")}, key=lambda p: len(p.parts))
        for parent in parents:  # bubblewrap would make them 0700: the worker could not pass them
            view += ["--perms", "0755", "--dir", str(parent)]
        for path in readable_paths():
            if path.is_symlink() and str(path) in _SYSTEM:  # /bin -> usr/bin on merged-/usr systems
                view += ["--symlink", os.readlink(path), str(path)]
            else:
                view += ["--ro-bind", str(path.resolve()), str(path)]
        if _gpu_present():
            view += ["--ro-bind", "/sys", "/sys"]
            view += [a for device in sorted(Path("/dev").glob("nvidia*")) for a in ("--dev-bind", str(device), str(device))]
        view += ["--bind", str(self.root), str(self.root), "--ro-bind", str(self.work), str(self.work), "--chdir", str(self.work)]
        return view

    def check(self) -> None:
        """Start the sandbox once around ``true``; raise ``SandboxError`` if it cannot be set up
        (then nothing must be graded)."""
        try:
            run = subprocess.run([*self.command(), "true"], stdin=subprocess.DEVNULL, capture_output=True, text=True, preexec_fn=self.prepare(), timeout=60)
        except (OSError, subprocess.SubprocessError) as error:  # the confinement itself failed in the child
            raise SandboxError(f"{self.level} sandbox failed: {error}") from None
        if run.returncode != 0:
            raise SandboxError(f"{self.level} sandbox failed (exit status {run.returncode}): {run.stderr.strip()[-1000:]}")

    def prepare(self) -> Callable[[], None]:
        """The function run in the child before ``exec``: the limits, and at the ``user`` level
        the Landlock and seccomp confinement (inherited by everything the worker starts)."""
        limits = self.limits
        if self.level == "allowlist":
            return functools.partial(limits.apply, tasks=True)
        readable, writable = [*readable_paths(), self.work], [self.home, self.tmp]

        def prepare() -> None:
            limits.apply(tasks=True)
            confine.restrict(readable=readable, writable=writable)

        return prepare

    def launch(self, env: dict[str, str] | None = None) -> Launch:
        """How a worker or the fork server starts in this sandbox (``grader.launch``)."""
        self._hand_over()
        self.check()
        reap = self.kill_all if self.level == "user" else None  # at the allowlist level the PID namespace does it
        return Launch(env=self.environment(env), cwd=self.work, prepare=self.prepare(), command=tuple(self.command()), reap=reap)

    def kill_all(self) -> None:
        """Kill every process of the worker's user, wherever it detached to (``kill -KILL -1``
        run as that user reaches exactly its processes); repeated while any is left."""
        for _ in range(5):
            if not any(_owner(pid) == self.uid for pid in os.listdir("/proc") if pid.isdigit()):
                return
            subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "kill", "-KILL", "-1"], capture_output=True, timeout=30)

    def close(self) -> None:
        if self.level == "user":
            self.kill_all()
        shutil.rmtree(self.root, ignore_errors=True)
