"""How the judge starts an interpreter on the worker's side: the script, its arguments, the
descriptors it holds, its environment and folder, its own session; and how it is killed."""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from grader.course import PROJECT_ROOT
from grader.launch import Launch

REPORT = """import json, os, sys
held = os.read(int(sys.argv[1]), 100).decode()
print(json.dumps({{"root": {root!r}, "args": sys.argv[1:], "cwd": os.getcwd(), "env": os.environ.get("PROBE"), "held": held,
                  "own_session": os.getsid(0) == os.getpid(), "niceness": os.nice(0)}}))"""


def test_popen_runs_the_script_with_its_arguments_descriptors_environment_and_folder(tmp_path):
    read, write = os.pipe()
    os.write(write, b"through the pipe")
    os.close(write)
    launch = Launch(env={"PROBE": "yes", "PATH": os.environ["PATH"]}, cwd=tmp_path, prepare=lambda: os.nice(3))  # a niceness outlives exec
    with tempfile.TemporaryFile() as output:
        process = launch.popen(REPORT, [read, "second"], pass_fds=(read,), output=output)
        assert process.wait(timeout=30) == 0
        os.close(read)
        output.seek(0)
        report = json.loads(output.read())
    assert report == {
        "root": str(PROJECT_ROOT), "args": [str(read), "second"], "cwd": str(tmp_path), "env": "yes",
        "held": "through the pipe", "own_session": True, "niceness": min(19, os.nice(0) + 3),
    }  # fmt: skip


def test_a_command_wraps_the_interpreter(tmp_path):
    launch = Launch(command=("env", "WRAPPED=1"))
    with tempfile.TemporaryFile() as output:
        process = launch.popen("import os; print(os.environ.get('WRAPPED'))", [], pass_fds=(), output=output)
        process.wait(timeout=30)
        output.seek(0)
        assert output.read().decode().strip() == "1"


def test_kill_ends_the_whole_session_then_reaps(tmp_path):
    """The process and the child it started in its session die; ``reap`` runs after both are gone."""
    seen = []
    launch = Launch(reap=lambda: seen.append("reaped"))
    script = "import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); print(child.pid, flush=True); time.sleep(600)"
    process = launch.popen(script, [], pass_fds=(), output=subprocess.PIPE)
    child = int(process.stdout.readline())
    launch.kill(process)
    assert process.returncode == -9 and seen == ["reaped"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
                break
        except OSError:  # gone (reaped)
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the child {child} of the killed process still runs")
    process.stdout.close()


def test_killing_an_ended_process_still_reaps():
    """A process that ended before the kill may have left something behind: ``reap`` runs anyway."""
    seen = []
    launch = Launch(reap=lambda: seen.append("reaped"))
    process = launch.popen("pass", [], pass_fds=(), output=subprocess.DEVNULL)
    process.wait(timeout=30)
    launch.kill(process)
    assert seen == ["reaped"]
