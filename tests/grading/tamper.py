"""The tamper corpus: submissions of ``t1_ops`` (tests/grading/course.py) that try to gain marks
or to break the grader, each with the points it must get (what its honest part earns, usually 0).

``{course}`` in a source is the course's path (an attacker may well guess it); ``MARKER`` names
processes a submission leaves behind, so a test can look for survivors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MARKER = "dlgrade-tamper-survivor"

WRONG = """
def square(x):
    return x * 3.0

def mean_abs(x):
    return 0.5
"""

RIGHT_SQUARE = """
import numpy as np

def square(x):
    return np.asarray(x, dtype=np.float64) ** 2
"""


@dataclass(frozen=True)
class Case:
    """A tampering submission: its ``ops.py``, other files it ships, the points it must get."""

    name: str
    ops: str
    points: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)  # submission-relative path -> text
    link_to_reference: bool = False  # ops.py is a symbolic link to the course's reference


CASES = [
    Case("sys_exit_at_import", "import sys\nsys.exit(0)\n" + WRONG),
    Case("os_exit_at_import", "import os\nos._exit(0)\n" + WRONG),
    Case("exit_in_functions", "import os, sys\n\ndef square(x):\n    sys.exit(0)\n\ndef mean_abs(x):\n    os._exit(0)\n"),
    Case(
        "base_exceptions",
        "class Boom(BaseException):\n    pass\n\ndef square(x):\n    raise Boom('no verdict for you')\n\ndef mean_abs(x):\n    raise KeyboardInterrupt\n",
    ),
    Case("infinite_loop_at_import", "while True:\n    pass\n" + WRONG),
    Case("infinite_loops_in_functions", "import time\n\ndef square(x):\n    while True:\n        pass\n\ndef mean_abs(x):\n    while True:\n        time.sleep(0.1)\n"),
    Case(
        "memory_bombs",
        "import numpy as np\n\ndef square(x):\n    hog = bytearray(1 << 40)\n    return x * x\n\n"
        "def mean_abs(x):\n    hog = []\n    while True:\n        hog.append(bytearray(100 << 20))\n",
    ),
    Case("output_flood_at_import", "import sys\nsys.stdout.write('x' * (100 << 20))\nsys.stdout.flush()\n" + RIGHT_SQUARE + "\ndef mean_abs(x):\n    return 2.0\n"),
    Case(
        "output_flood_in_function",
        RIGHT_SQUARE + "\nimport sys\n\ndef mean_abs(x):\n    for _ in range(100):\n        sys.stdout.write('y' * (1 << 20))\n    return 2.0\n",
        points=4.0,  # square is right; mean_abs floods and dies
    ),
    Case(
        "fake_results_everywhere",
        """
import json, os, sys
FAKE = json.dumps({"score": 100, "tests": [{"name": "all", "score": 100, "max_score": 100, "status": "passed"}],
                   "assignments": {"t1_ops": {"earned": 6, "possible": 6}}})
print("=" * 20 + " 3 passed in 0.01s " + "=" * 20)
print(FAKE)
written = 0
for top in ["/tmp", "/var/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~"), "{course}", "/autograder/results", "/"]:
    for folder, dirs, _ in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")][:50]
        for name in ("results.json", "results-t1_ops.json", "gradebook.csv"):
            try:
                with open(os.path.join(folder, name), "w") as f:
                    f.write(FAKE)
                written += 1
            except OSError:
                pass
        if written > 200:
            break
sys.stderr.write(f"wrote {written} fake result files\\n")
""" + WRONG,
    ),
    Case(
        "patch_numpy_pytest_builtins",
        """
import builtins, numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.array_equal = lambda *a, **k: True
np.isfinite = lambda a, *r, **k: np.ones(np.shape(a), bool)
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
try:
    import pytest
    pytest.fail = lambda *a, **k: None
    pytest.approx = lambda *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()
except ImportError:
    pass
try:
    import grader, grader.tolerance
    grader.assert_close = grader.tolerance.assert_close = lambda *a, **k: None
except ImportError:
    pass
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("Swallowed", (Exception,), {})
""" + WRONG,
    ),
    Case(
        "lying_objects",
        """
import numpy as np

class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, bool)
    def __ne__(self, other): return np.zeros(self.shape, bool)
    def __sub__(self, other): return np.zeros(self.shape)
    def __array_ufunc__(self, *args, **kwargs): return np.zeros(self.shape)

class AlwaysEqual(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
    def __lt__(self, other): return True
    def __le__(self, other): return True
    __hash__ = float.__hash__

def square(x):
    return np.zeros(np.shape(x)).view(Liar)

def mean_abs(x):
    return AlwaysEqual(-1.0)
""",
    ),
    Case(
        "object_that_compares_equal",
        "class Anything:\n    def __eq__(self, other): return True\n    def __array__(self, *a, **k):\n        import numpy\n        return numpy.zeros(3)\n    def __float__(self): return 2.0\n\n"
        "def square(x):\n    return Anything()\n\ndef mean_abs(x):\n    return Anything()\n",
    ),
    Case("nan_outputs", "import numpy as np\n\ndef square(x):\n    return np.full(np.shape(x), np.nan)\n\ndef mean_abs(x):\n    return float('nan')\n"),
    Case(
        "pytest_config_in_submission",
        WRONG,
        extra={
            "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    r = outcome.get_result()\n    r.outcome = 'passed'\n    r.longrepr = None\n",
            "assignments/conftest.py": "raise SystemExit('conftest ran')\n",
            "assignments/t1_ops/conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
            "pytest.ini": "[pytest]\naddopts = -p no:dlgrade -p no:timeout\n",
            "assignments/t1_ops/pytest.ini": "[pytest]\naddopts = -p no:dlgrade\n",
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-p no:dlgrade'\n",
            "sitecustomize.py": "import numpy\nnumpy.allclose = lambda *a, **k: True\n",
            "assignments/t1_ops/sitecustomize.py": "import builtins\nbuiltins.isinstance = lambda *a: True\n",
            "assignments/t1_ops/test_ops.py": "def test_square():\n    assert True\n",
            "assignments/t1_ops/hidden/test_ops_hidden.py": "def test_square_on_a_secret_matrix():\n    assert True\n",
        },
    ),
    Case(
        "read_reference_and_hidden_tests",
        """
import glob, os, re, sys
import numpy as np

def _steal():
    found = {}
    try:
        import reference  # noqa: F401
        found["import"] = True
    except Exception:
        pass
    for pattern in ["{course}/reference/*/*.py", "{course}/assignments/*/hidden/*.py", "{course}/tests/*", "/proc/*/cwd/reference/*/*.py"]:
        for path in glob.glob(pattern):
            try:
                found[path] = open(path).read()
            except OSError:
                pass
    return found

STOLEN = _steal()

def square(x):
    for text in STOLEN.values():
        if isinstance(text, str) and "def square" in text:
            namespace = {}
            exec(re.sub("###.*", "", text), namespace)
            return namespace["square"](x)
    return x * 3.0

def mean_abs(x):
    return 2.0 if STOLEN else 0.5
""",
    ),
    Case("symlink_to_reference", "", link_to_reference=True),
    Case(
        "inspect_caller_frames",
        """
import sys
import numpy as np

def _search(kind, shape=None):
    frame = sys._getframe(1)
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if kind is np.ndarray and type(value) is np.ndarray and value.shape == shape and name not in ("x",):
                return value
            if kind is float and name in ("expected", "want") and isinstance(value, float):
                return value
        frame = frame.f_back
    return None

def square(x):
    found = _search(np.ndarray, np.shape(x))
    return found if found is not None else x * 3.0

def mean_abs(x):
    found = _search(float)
    return found if found is not None else 0.5
""",
    ),
    Case(
        "ignore_signals_and_kill_others",
        """
import os, signal
for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
    signal.signal(s, signal.SIG_IGN)

def square(x):
    while True:
        pass

def mean_abs(x):
    for pid in (os.getppid(), -1, 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return 0.5
""",
    ),
    Case(
        "children_and_threads_outlive",
        """
import os, subprocess, sys, threading, time
subprocess.Popen(["/bin/sh", "-c", "sleep 600", "{marker}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 600", "{marker}-daemon"])
    os._exit(0)

def _busy():
    while True:
        try:
            open(os.path.join(os.getcwd(), "results.json"), "w").write("{}")
        except OSError:
            pass
        time.sleep(0.01)

threading.Thread(target=_busy, daemon=False).start()
""" + RIGHT_SQUARE + "\ndef mean_abs(x):\n    return 0.5\n",
        points=4.0,  # square is right
    ),
    Case(
        "atexit_handlers",
        """
import atexit, json, os
def _fake():
    for folder in (os.getcwd(), os.path.expanduser("~"), "/tmp"):
        try:
            open(os.path.join(folder, "results.json"), "w").write(json.dumps({"score": 100}))
        except OSError:
            pass
    print("===== 3 passed =====")
atexit.register(_fake)
""" + WRONG,
    ),
]


def source(case: Case, course: str) -> str:
    return case.ops.replace("{course}", course).replace("{marker}", MARKER)
