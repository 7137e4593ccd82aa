"""The fork server: every worker incarnation is a fresh process from the same clean state, fast."""

import os
import time

import pytest

from grader.forkserver import ForkServer
from grader.remote import StudentCodeError, Worker
from grader.sandbox import Sandbox, probe

PROBE = '''
import os, sys, time, subprocess
import numpy as np

np.seterr(all="ignore")
sys.modules["numpy"].FLAG = getattr(sys.modules["numpy"], "FLAG", 0) + 1  # state left in a shared module

def pid():
    return os.getpid()

def flag():
    return sys.modules["numpy"].FLAG

def draw():
    return float(np.random.rand())

def torch_loaded():
    return "torch" in sys.modules

def leave_a_stray():
    """A process of the student's own, detached from the worker's session, still running."""
    child = subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"], start_new_session=True)
    return child.pid

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True

def kill_server():
    os.kill(os.getppid(), 9)

def die():
    os._exit(7)
'''


@pytest.fixture
def probe_file(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    return tmp_path / "probe.py"


@pytest.fixture
def server():
    server = ForkServer()
    yield server
    server.close()


def test_each_incarnation_is_a_fresh_process_from_a_clean_state(server, probe_file):
    worker = Worker(timeout=10.0, spawner=server.spawner())
    try:
        seen = []
        for _ in range(3):
            module = worker.load(probe_file, label="probe.py")
            seen.append((module.pid(), module.flag(), module.draw()))
            worker.close()
    finally:
        worker.close()
    pids, flags, draws = zip(*seen)
    assert len(set(pids)) == 3  # a new process each time
    assert flags == (1, 1, 1)  # what one incarnation changed in numpy is not in the next
    assert len(set(draws)) == 3  # numpy's global generator reseeded, as in a new interpreter
    assert server.starts == 1  # all forked from one server


def test_a_restart_costs_a_fork_not_an_interpreter(server, probe_file):
    worker = Worker(timeout=10.0, spawner=server.spawner())
    try:
        worker.load(probe_file, label="probe.py")
        times = []
        for _ in range(5):
            worker.close()
            start = time.perf_counter()
            worker.load(probe_file, label="probe.py")
            times.append(time.perf_counter() - start)
    finally:
        worker.close()
    assert sorted(times)[2] < 0.25, times  # a new interpreter with numpy takes about 0.4 s of CPU


def test_a_crash_is_reported_with_its_exit_status_and_the_next_start_works(server, probe_file):
    worker = Worker(timeout=10.0, spawner=server.spawner())
    try:
        module = worker.load(probe_file, label="probe.py")
        with pytest.raises(StudentCodeError, match="exit status 7"):
            module.die()
        assert worker.load(probe_file, label="probe.py").flag() == 1
    finally:
        worker.close()


def test_a_killed_server_is_started_again(server, probe_file):
    worker = Worker(timeout=10.0, spawner=server.spawner())
    try:
        module = worker.load(probe_file, label="probe.py")
        try:
            module.kill_server()  # the incarnation dies with it (it may answer first)
        except StudentCodeError:
            pass
        time.sleep(0.5)
        assert worker.load(probe_file, label="probe.py").flag() == 1
        assert server.starts == 2
    finally:
        worker.close()


def test_preloaded_libraries_are_imported_once_in_the_server(server, probe_file):
    plain = Worker(timeout=10.0, spawner=server.spawner())
    with_torch = Worker(timeout=60.0, spawner=server.spawner(preload=["torch"]))
    try:
        assert plain.load(probe_file, label="probe.py").torch_loaded() is False
        assert with_torch.load(probe_file, label="probe.py").torch_loaded() is True
    finally:
        plain.close()
        with_torch.close()


@pytest.mark.skipif(probe() is None, reason="the sandbox needs root with bubblewrap or Landlock")
@pytest.mark.parametrize("ending", ["closed", "crashed"])
def test_in_the_sandbox_no_process_of_an_incarnation_survives_into_the_next(tmp_path, ending):
    (tmp_path / "probe.py").write_text(PROBE)
    box = Sandbox()
    code = box.add_files(tmp_path, "code")
    server = ForkServer(box.launch(), sweep=True)
    worker = Worker(timeout=20.0, spawner=server.spawner())
    try:
        module = worker.load(code / "probe.py", label="probe.py")
        stray = module.leave_a_stray()
        assert module.alive(stray)
        if ending == "crashed":
            with pytest.raises(StudentCodeError, match="exit status 7"):
                module.die()
        worker.close()
        again = worker.load(code / "probe.py", label="probe.py")
        assert not again.alive(stray)  # swept before the next incarnation started
        assert again.flag() == 1
    finally:
        worker.close()
        server.close()
        box.close()
    deadline = time.monotonic() + 10  # the PID namespace is torn down as its first process ends
    while any(_owned_by(box.uid, pid) for pid in os.listdir("/proc") if pid.isdigit()):
        assert time.monotonic() < deadline, "a process of the sandbox's user outlived it"
        time.sleep(0.05)


def _owned_by(uid, pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid == uid
    except OSError:
        return False

