"""What student code sees from inside the sandbox (``grader.sandbox``), asked from a real worker."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox, SandboxError, copy_regular_files, probe
from tests.grading.conftest import WITHOUT_CAP_SYS_ADMIN

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = ("reference", "assignments", "tests", ".git")


def look_inside(paths: list[str], *, prefix: list[str] = (), env: dict[str, str] | None = None) -> dict:
    """What a sandboxed worker sees (``tests/grading/look_inside.py``), started under ``prefix``."""
    run = subprocess.run([*prefix, sys.executable, "-m", "tests.grading.look_inside", *paths], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def course_and_roster(tmp_path):
    """A course with a reference and a hidden test, a classmate's submission and an output folder."""
    os.chmod(tmp_path, 0o755)
    course = tmp_path / "course"
    (course / "assignments" / "t1" / "hidden").mkdir(parents=True)
    (course / "assignments" / "t1" / "hidden" / "test_secret.py").write_text("SECRET = 1\n")
    (course / "reference" / "t1").mkdir(parents=True)
    (course / "reference" / "t1" / "ops.py").write_text("ANSWER = 42\n")
    (tmp_path / "roster" / "classmate").mkdir(parents=True)
    (tmp_path / "roster" / "classmate" / "ops.py").write_text("ANSWER = 42\n")
    (tmp_path / "out").mkdir()
    return tmp_path


def _secrets(base: Path) -> list[str]:
    return [str(base / "course" / "reference" / "t1" / "ops.py"), str(base / "course" / "assignments" / "t1" / "hidden"),
            str(base / "roster" / "classmate" / "ops.py"), str(base / "out"), str(ROOT / "reference"), str(ROOT / ".git"), str(ROOT / "assignments")]


@pytest.mark.skipif(probe() != "allowlist", reason="needs root with CAP_SYS_ADMIN and bubblewrap")
def test_allowlist_view_holds_the_interpreter_the_harness_and_its_own_folder_only(course_and_roster, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    inside = look_inside([*_secrets(course_and_roster), str(ROOT), "/tmp", "/"])
    seen, me = inside["seen"], inside["me"]
    assert inside["level"] == "allowlist"
    assert me["uid"] == inside["box_uid"] != 0
    assert "SECRET_TOKEN" not in me["env"] and me["home"] == inside["box_home"] and me["cwd"] == inside["box_work"]
    assert set(me["pids"]) <= {1, 2}  # its own PID namespace: bubblewrap's init and the worker
    for secret in _secrets(course_and_roster):
        assert seen[secret] == "FileNotFoundError", secret  # not hidden: never there
    assert set(seen[str(ROOT)]) <= {"grader", ".venv"}  # the harness alone, never the project around it
    # /tmp holds the worker's folder, and the way to the harness where the checkout lies under /tmp
    carried = {p.relative_to("/tmp").parts[0] for p in (ROOT, Path(sys.prefix)) if p.is_relative_to("/tmp")}
    assert set(seen["/tmp"]) == {Path(inside["box_root"]).name, *carried}
    assert set(seen["/"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "tmp", "usr", *(p.parts[1] for p in (ROOT, Path(sys.base_prefix)))}
    assert inside["network"] in ("OSError", "ConnectionRefusedError", "TimeoutError")
    assert inside["writes"]["own_copy"] == "PermissionError" and inside["writes"]["home"] == "done"
    assert inside["writes"]["replace_copies"] in ("PermissionError", "OSError")  # EBUSY: a mount point
    assert inside["judge"] == {"environ": "PermissionError", "mem": "PermissionError"}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("capsh") is None, reason="needs root and capsh to drop CAP_SYS_ADMIN")
def test_without_cap_sys_admin_the_user_level_reads_only_the_allowlist_and_has_no_network(course_and_roster):
    """Root without CAP_SYS_ADMIN (Docker's defaults, Gradescope): bubblewrap cannot mount, so
    Landlock and seccomp confine the worker's own user."""
    inside = look_inside([*_secrets(course_and_roster), str(ROOT)], prefix=WITHOUT_CAP_SYS_ADMIN)
    assert inside["level"] == "user"
    assert inside["me"]["uid"] == inside["box_uid"] != 0
    for secret in [*_secrets(course_and_roster), str(ROOT)]:
        assert inside["seen"][secret] in ("PermissionError", "FileNotFoundError"), secret
    assert inside["network"] == "OSError"  # EAFNOSUPPORT: only Unix sockets
    assert inside["writes"] == {"own_copy": "PermissionError", "replace_copies": "PermissionError", "home": "done"}
    assert inside["judge"] == {"environ": "PermissionError", "mem": "PermissionError"}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become an unprivileged user")
def test_below_root_no_sandbox_is_started():
    """A user without root (a laptop, a CI runner's user): the sandbox refuses, naming the fix."""
    env = {**os.environ, "HOME": "/tmp"}
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", "from grader.sandbox import Sandbox; Sandbox()"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert run.returncode != 0
    assert "SandboxError" in run.stderr and "sudo" in run.stderr and "--sandbox off" in run.stderr
    for command in (["grade", "examples/submission"], ["batch", "examples", "--out", "/tmp/dlgrade-not-written"]):
        run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "grader", *command],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
        assert run.returncode == 2 and "dlgrade: cannot grade here" in run.stderr and "sudo" in run.stderr and "--sandbox off" in run.stderr, run.stderr
    assert not Path("/tmp/dlgrade-not-written").exists()


def test_limits_are_set_in_the_child():
    limits = Limits(cpu_seconds=7, memory_bytes=1 << 30, tasks=None, open_files=64, file_bytes=1 << 20)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child applies the limits and reports them
        limits.apply(tasks=False)
        values = [resource.getrlimit(r)[0] for r in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)]
        os.write(write, repr(values).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1000).decode() == repr([7, 1 << 30, 64, 1 << 20, 0])


def test_copies_never_follow_links(tmp_path):
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "a" / "ok.py").write_text("x = 1\n")
    (source / "a" / "link.py").symlink_to("/etc/passwd")
    (source / "linked_dir").symlink_to(tmp_path)
    (source / "hidden").mkdir()
    (source / "hidden" / "secret.py").write_text("")
    skipped = copy_regular_files(source, tmp_path / "dst")
    assert sorted(str(p.relative_to(tmp_path / "dst")) for p in (tmp_path / "dst").rglob("*") if p.is_file()) == ["a/ok.py"]
    assert skipped == ["a/link.py"]
    assert copy_regular_files(source, tmp_path / "dst2", names=["a/link.py", "a/ok.py", "missing.py"]) == ["a/link.py"]


@pytest.mark.skipif(probe() is None, reason="needs root")
def test_a_course_inside_what_the_worker_reads_is_refused():
    """A course inside the Python environment (``pip install -e`` from git puts checkouts there)
    would be in the worker's view: no sandbox is started."""
    with pytest.raises(SandboxError, match="student code must read"):
        Sandbox(private=[Path(sys.prefix) / "src" / "course"])
