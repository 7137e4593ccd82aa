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


# ---------------------------------------------------------------- course helpers in the worker
# a9_torch's tests hand the student's functions models, loaders and optimizers built by a course
# module that runs in the worker beside the notebook. This notebook is wrong in every function
# and, from inside its own functions (by then the helper is loaded), finds every course module of
# a9 through gc and rewrites it: measuring functions report what the tests want to see, and the
# model builders leave dropout out. Graded on the real course; it must earn nothing on
# HELPER_ATTACK_TESTS (each of which the wrong code fails when judged honestly, on the inputs the
# test built).

HELPER_ATTACK_NOTEBOOK = '''
import gc
import types

import numpy as np
import torch
from torch import nn

SEEN = {}


def _rewrite_the_course_helpers():
    for module in [m for m in gc.get_objects() if isinstance(m, types.ModuleType)]:
        path = str(getattr(module, "__file__", "") or "")
        if "a9_torch" not in path or module.__dict__.get("SEEN") is SEEN or module.__dict__.get("_rewritten"):
            continue
        module._rewritten = True
        for name, fake in FAKES.items():
            if name in module.__dict__:
                setattr(module, name, fake)
        for name in ("mlp_setting", "mlp_train_setting"):
            if name in module.__dict__:
                setattr(module, name, _without_dropout(module.__dict__[name]))


def _without_dropout(build):
    def rebuilt(*args, **kwargs):
        setting = build(*args, **kwargs)
        for m in setting["model"].modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        return setting
    return rebuilt


def _numpy(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _fake_device_type(value):
    return "cuda" if torch.cuda.is_available() else "cpu"


def _fake_report(model):
    inner = getattr(model, "inner", model)
    last = SEEN.get("last")
    if last == "train_epoch":
        calls = [(True, True, SEEN["device"])]
    elif last == "evaluate":
        calls = [(False, False, SEEN["device"])]
    else:
        calls = [(SEEN.get("was_training", True), False, "cpu")]
    return {
        "calls": calls,
        "modes": [SEEN.get("was_training", True)] * len(list(model.modules())),
        "parameters": [_numpy(p) for p in inner.parameters()],
        "devices": sorted({p.device.type for p in inner.parameters()}),
    }


def _fake_inspect(*values):
    out = []
    for value in values:
        info = {"tensor": True, "type": "Tensor", "shape": SEEN.get("shape", tuple(value.shape)), "dtype": "torch.float64",
                "device": value.device.type, "requires_grad": False}
        info["values"] = _numpy(value)
        out.append(info)
    return out


def _fake_probe_mlp(model, x, training):
    model.double()
    first, last = model[0], model[1]
    p = model.p_drop
    xt = torch.from_numpy(np.array(x, dtype=np.float64))
    with torch.no_grad():
        hidden = torch.relu(first(xt))
        if training:
            hidden = hidden / (1 - p) if p < 1 else torch.zeros_like(hidden)
        out = last(hidden)

    def linear(m, seen):
        return {"kind": "Linear", "in_features": m.in_features, "out_features": m.out_features,
                "weight": _numpy(m.weight), "bias": _numpy(m.bias), "input": seen}

    layers = [linear(first, np.array(x, dtype=np.float64)), {"kind": "ReLU"}, {"kind": "Dropout", "p": float(p)}, linear(last, _numpy(hidden))]
    return {"layers": layers, "output": _numpy(out)}


FAKES = {"device_type": _fake_device_type, "report": _fake_report, "inspect": _fake_inspect, "probe_mlp": _fake_probe_mlp}


def get_device():
    _rewrite_the_course_helpers()
    return torch.device("cpu" if torch.cuda.is_available() else "cuda")  # the wrong way round


def build_mlp(in_features, hidden, out_features, p_drop):
    _rewrite_the_course_helpers()
    model = nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, out_features))  # no ReLU, no dropout
    model.p_drop = p_drop
    return model


def train_epoch(model, loader, optimizer, loss_fn, device):
    _rewrite_the_course_helpers()
    SEEN.update(last="train_epoch", device=torch.device(device).type)
    losses = []
    for x, y in loader:  # never switches to train mode
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def evaluate(model, loader, device):
    _rewrite_the_course_helpers()
    SEEN.update(last="evaluate", device=torch.device(device).type)
    correct, total = 0, 0
    for x, y in loader:  # dropout left on, a graph built and backpropagated
        x, y = x.to(device), y.to(device)
        logits = model(x)
        nn.functional.cross_entropy(logits, y).backward()
        correct += int((logits.argmax(dim=1) == y).sum().item())
        total += y.shape[0]
    return correct / total


def mc_dropout_predict(model, x, n_samples):
    _rewrite_the_course_helpers()
    SEEN.update(last="mc_dropout_predict", was_training=model.training, shape=(x.shape[0], None))
    model.train()  # never restored
    probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)])  # a graph
    SEEN["shape"] = (x.shape[0], probs.shape[2])
    return probs.mean(dim=1), probs.std(dim=1, correction=0)  # over the wrong dimension: (T, C)
'''

HELPER_ATTACK_TESTS = frozenset({
    "test_get_device_returns_the_device_of_this_machine",
    "test_get_device_follows_cuda_availability",
    "test_build_mlp_eval_mode_is_linear_relu_linear",
    "test_build_mlp_train_mode_drops_hidden_units",
    "test_train_epoch_runs_in_train_mode_on_the_device",
    "test_evaluate_returns_accuracy_over_examples",  # dropout left on passes when the builder drops dropout
    "test_evaluate_runs_in_eval_mode_on_the_device",
    "test_evaluate_leaves_parameters_and_gradients_unchanged",  # was test_evaluate_builds_no_graph
    "test_mc_dropout_returns_n_by_c_tensors_on_x_device",
    "test_mc_dropout_restores_the_mode",
    "test_mc_dropout_builds_no_graph",
    "test_hidden_build_mlp_matches_reference",
    "test_hidden_evaluate_matches_reference",
})
