"""What student code sees from inside the sandbox (``grader.sandbox``), asked from a real worker."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from grader.remote import PROJECT_ROOT, Worker
from grader.sandbox import Limits, Sandbox, copy_regular_files, probe

PROBE = '''
import os, socket

def look(paths):
    seen = {}
    for path in paths:
        try:
            seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()[:20]
        except OSError as error:
            seen[path] = type(error).__name__
    return seen

def network():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        return "connected"
    except OSError as error:
        return type(error).__name__

def me():
    return {"uid": os.getuid(), "env": sorted(os.environ), "home": os.environ.get("HOME"), "cwd": os.getcwd(),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
'''


@pytest.fixture
def boxed(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    course = tmp_path / "course"
    (course / "assignments" / "t1" / "hidden").mkdir(parents=True)
    (course / "assignments" / "t1" / "hidden" / "test_secret.py").write_text("SECRET = 1\n")
    (course / "reference" / "t1").mkdir(parents=True)
    (course / "reference" / "t1" / "ops.py").write_text("ANSWER = 42\n")
    os.chmod(tmp_path, 0o755)
    box = Sandbox(course)
    student = box.add_files(_folder_with(tmp_path / "sub", "probe.py", PROBE), "assignments")
    worker = Worker(timeout=20, load_timeout=30, **box.worker_options())
    yield box, worker.load(student / "probe.py", label="probe.py"), course
    worker.close()
    box.close()


def _folder_with(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / name).write_text(text)
    return folder


@pytest.mark.skipif(probe() != "namespaces", reason="needs root and unshare")
def test_student_code_sees_no_secrets_no_network_and_its_own_folder_only(boxed):
    box, module, course = boxed
    me = module.me()
    assert me["uid"] == box.uid != 0
    assert "SECRET_TOKEN" not in me["env"] and me["home"] == str(box.home) and me["cwd"] == str(box.work)
    assert me["pids"] == [1]  # its own PID namespace: no judge, no other worker
    assert module.network() in ("OSError", "ConnectionRefusedError", "TimeoutError") or "Unreachable" in module.network()
    seen = module.look([str(course / "reference" / "t1" / "ops.py"), str(course / "assignments" / "t1" / "hidden"), str(PROJECT_ROOT / "reference"), "/tmp"])
    assert seen[str(course / "reference" / "t1" / "ops.py")] in ("FileNotFoundError", "PermissionError")  # the course is under /tmp here: not even there
    assert seen[str(course / "assignments" / "t1" / "hidden")] in ("FileNotFoundError", "PermissionError")
    assert seen[str(PROJECT_ROOT / "reference")] == "PermissionError"  # an empty, unreadable tmpfs
    # A private /tmp: only the sandbox's own folder, and the project's when it lives under /tmp
    # (a checkout there is carried over so the worker can import the harness).
    carried = {box.root.name} | ({PROJECT_ROOT.parts[2]} if PROJECT_ROOT.parts[:2] == ("/", "tmp") else set())
    assert seen["/tmp"] == "PermissionError" or set(seen["/tmp"]) <= carried, seen["/tmp"]


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
