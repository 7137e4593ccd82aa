"""Attacks on what surrounds the worker: the course's files and history, classmates, the judge.

Graded on ``attack_course``: the tiny course (tests/grading/course.py) as a git repository, its
``t1_ops`` with one more public test worth 1 point (the banned-import check), 7 points in all.
Each ``Case`` says the points it must get; ``{course}`` in a source is the course's path.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from tests.grading.course import HIDDEN_TESTS, write_course
from tests.grading.tamper import WRONG, Case

IMPORT_TEST = '''\
import pytest


@pytest.mark.points(1)
def test_ops_uses_numpy_only(student):
    """ops.py imports no library that would do the work (torch, scipy, ...)."""
    student("ops.py").assert_no_banned_imports()
'''

_RIGHT = """
def square(x):
    return np.asarray(x, dtype=np.float64) ** 2

def mean_abs(x):
    return float(np.mean(np.abs(x)))
"""

_PICK = """
def _solution():  # the first stolen file that passes what the public tests show
    for text in STOLEN:
        if "def square" in text and "def mean_abs" in text:
            namespace = {}
            try:
                exec(text, namespace)
                if list(namespace["square"](np.array([1.0, 2.0]))) == [1.0, 4.0] and namespace["mean_abs"](np.array([-1.0, 2.0, -3.0])) == 2.0:
                    return namespace
            except Exception:
                pass
    return None
"""

_ANSWER = """
FOUND = _solution()

def square(x):
    return FOUND["square"](x) if FOUND else x * 3.0

def mean_abs(x):
    return FOUND["mean_abs"](x) if FOUND else 0.5
"""
_USE_STOLEN = _PICK + _ANSWER

CASES = [
    Case(
        "read_the_course_git_history",
        """
import os, re, subprocess, zlib
STOLEN = []
for git in ["{course}/.git", os.path.join(os.getcwd(), ".git")]:
    for folder, _, files in os.walk(os.path.join(git, "objects")):
        for name in files:
            try:
                data = zlib.decompress(open(os.path.join(folder, name), "rb").read())
                STOLEN.append(data.split(b"\\0", 1)[1].decode(errors="replace"))
            except Exception:
                pass
    try:
        STOLEN.append(subprocess.run(["git", "-C", os.path.dirname(git), "show", "HEAD:reference/t1_ops/ops.py"], capture_output=True, text=True).stdout)
    except OSError:
        pass
import numpy as np
""" + _USE_STOLEN,
        points=1.0,  # the import check
    ),
    Case(
        "find_the_course_through_the_harness_and_the_judge",
        """
import glob, os, re, sys
STOLEN = []
roots = set()
worker = sys.modules.get("grader.worker")
if worker is not None:
    roots.add(os.path.dirname(os.path.dirname(worker.__file__)))
for finder in glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "__editable__*finder.py")):
    try:
        roots.update(re.findall(r"'(/[^']+)'", open(finder).read()))
    except OSError:
        pass
for cmdline in glob.glob("/proc/*/cmdline"):
    try:
        words = open(cmdline, "rb").read().decode(errors="replace").split("\\0")
    except OSError:
        continue
    roots.update(w for w in words if w.startswith("/"))
    roots.update(os.path.dirname(w) for w in words if w.startswith("/"))
roots.add("{course}")
for root in sorted(roots):
    for pattern in ("reference/*/*.py", "*/reference/*/*.py", "../reference/*/*.py", "../../reference/*/*.py"):
        for path in glob.glob(os.path.join(root, pattern)):
            try:
                STOLEN.append(open(path).read())
            except OSError:
                pass
import numpy as np
""" + _USE_STOLEN,
        points=1.0,
    ),
    Case(
        "copy_a_classmate",
        _PICK + """
import os
import numpy as np
STOLEN = []
LEAKED = []
mine = os.path.realpath(__file__)
for folder, dirs, files in (w for top in ("/tmp", "/var/tmp", "/home", "/srv", "/autograder", "/") for w in os.walk(top)):
    dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", ".venv", "site-packages", ".git")]
    for name in files:
        path = os.path.join(folder, name)
        try:
            if name == "ops.py" and os.path.realpath(path) != mine:
                STOLEN.append(open(path).read())
            elif name in ("results.json", "feedback.md", "gradebook.csv", "gradescope.json"):
                LEAKED.append(open(path).read())
        except OSError:
            pass
    if STOLEN and _solution():
        break
""" + _ANSWER,
        points=1.0,
    ),
    Case(
        "banned_import_hidden_by_rewriting_the_copy",
        """
try:
    import sklearn  # banned: the check must see it, whatever this file does to its copy
except ImportError:
    pass
import os
try:
    with open(__file__, "w") as f:
        f.write("import numpy as np\\n")
except OSError:
    pass
import numpy as np
""" + _RIGHT,
        points=6.0,  # square and mean_abs are right; the import check fails
    ),
    Case(
        "forged_answer_of_256_mib",
        """
import os, sys
fd = int(sys.argv[2])  # the answer pipe
size = 256 << 20
os.write(fd, size.to_bytes(8, "big"))
chunk = b"\\0" * (1 << 20)
try:
    for _ in range(size >> 20):
        os.write(fd, chunk)
except OSError:
    pass
""" + WRONG,
        points=1.0,
    ),
    Case(
        "quote_the_hidden_test_in_an_exception",
        """
import glob
TEXT = ""
for path in glob.glob("{course}/assignments/*/hidden/*.py") + glob.glob("/proc/1/cwd/assignments/*/hidden/*.py"):
    try:
        TEXT += open(path).read()
    except OSError:
        pass
TEXT = TEXT or {hidden!r}  # as if it had read them

def square(x):
    raise ValueError(TEXT)

def mean_abs(x):
    raise ValueError(TEXT)
""",
        points=1.0,
    ),
]
CASES = [replace(c, ops=c.ops.replace("{hidden!r}", repr(HIDDEN_TESTS))) for c in CASES]

HONEST = {"honest": 7.0, "mixed": 5.0}  # mixed: mean_abs is wrong (2 points)


def attack_course(root: Path) -> Path:
    """The tiny course with the import test, committed to git (its history holds the reference)."""
    write_course(root)
    (root / "assignments" / "t1_ops" / "test_ops_imports.py").write_text(IMPORT_TEST)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=instructor", "-c", "user.email=i@example.org", "commit", "-qm", "course"]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)
    return root
