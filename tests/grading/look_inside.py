"""Start a sandboxed worker and report, as JSON on stdout, what student code sees from inside it.

``python -m tests.grading.look_inside PATH ...``: the worker lists or reads each PATH, tries the
network, its own copy, its home, and the judge's process. Run as a subprocess by the sandbox
tests, so that a test can run it with fewer privileges (``capsh --drop=cap_sys_admin``).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from grader.remote import Worker
from grader.sandbox import Sandbox

PROBE = '''
import os, socket

def look(paths):
    seen = {}
    for path in paths:
        try:
            seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path, "rb").read(200).decode(errors="replace")
        except OSError as error:
            seen[path] = type(error).__name__
    return seen

def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__

def network():
    return attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=2).close())

def writes():
    def own_copy():
        with open(__file__, "a") as f:
            f.write("# changed")
    def home():
        with open(os.path.join(os.environ["HOME"], "note"), "w") as f:
            f.write("mine")
    def replace_copies():
        os.rename(os.getcwd(), os.getcwd() + "-replaced")
    return {"own_copy": attempt(own_copy), "replace_copies": attempt(replace_copies), "home": attempt(home)}

def judge():
    parent = os.getppid()
    return {"environ": attempt(lambda: open(f"/proc/{parent}/environ", "rb").read()), "mem": attempt(lambda: open(f"/proc/{parent}/mem", "rb").read(1))}

def me():
    return {"uid": os.getuid(), "env": sorted(os.environ), "home": os.environ.get("HOME"), "cwd": os.getcwd(),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
'''


def main(paths: list[str]) -> None:
    box = Sandbox()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "probe.py").write_text(PROBE)
        folder = box.add_files(Path(scratch), "code")
    worker = Worker(timeout=20, load_timeout=30, launch=box.launch())
    try:
        probe = worker.load(folder / "probe.py", label="probe.py")
        seen = {"level": box.level, "box_uid": box.uid, "box_root": str(box.root), "box_home": str(box.home), "box_work": str(box.work)}
        seen.update(me=probe.me(), seen=probe.look(paths), network=probe.network(), writes=probe.writes(), judge=probe.judge())
        print(json.dumps(seen))
    finally:
        worker.close()
        box.close()


if __name__ == "__main__":
    main(sys.argv[1:])
