"""a4_initialization: the instructor's notebook, and the grade's two error rates.

* The instructor's notebook ``reference/a4_initialization/init.ipynb`` holds the oracle's function
  definitions verbatim (``reference/a4_initialization/init.py``, solution markers included), runs
  top to bottom in a real kernel and draws its plot; the released student notebook is its
  release.
* Planted submissions (the oracle's functions with one edit, submitted as a notebook by
  ``tests.planted``) are graded with the public and hidden tests under the grade profile:
  every ``BUGGY`` one loses points, every ``CORRECT`` one scores full marks.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import nbformat
import pytest

from grader.release import release_file
from tests.planted import ROOT, Edit, Rewrite, Variant, build_submission, grade

A = "a4_initialization"
F = "init.py"
ORACLE = ROOT / "reference" / A / F
INSTRUCTOR_NOTEBOOK = ROOT / "reference" / A / "init.ipynb"
STUDENT_NOTEBOOK = ROOT / "assignments" / A / "init.ipynb"


def top_level_blocks(source: str) -> dict[str, str]:
    """Each top-level statement of ``source`` (after the docstring), through the comment lines up
    to the next statement (so a function keeps its ``### END SOLUTION``), keyed by its name or text."""
    lines = source.splitlines()
    tree = ast.parse(source)
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) else tree.body
    starts = [node.lineno for node in body] + [len(lines) + 1]
    blocks = {}
    for node, end in zip(body, starts[1:]):
        text = "\n".join(lines[node.lineno - 1 : end - 1]).rstrip()
        blocks[getattr(node, "name", text)] = text
    return blocks


def code_cells(path) -> list[str]:
    return [cell.source for cell in nbformat.read(str(path), as_version=4).cells if cell.cell_type == "code"]


def test_the_notebook_defines_exactly_the_oracles_functions():
    """Every function cell equals the oracle's definition; imports and aliases are there too."""
    blocks = top_level_blocks(ORACLE.read_text())
    cells = code_cells(INSTRUCTOR_NOTEBOOK)
    cell_texts = {c.rstrip() for c in cells}
    all_code = "\n".join(cells)
    for name, text in blocks.items():
        if text.startswith(("def ", "class ")):
            assert text in cell_texts, f"the notebook's cell for {name} differs from {F}: copy it over (markers included)"
        else:
            assert text in all_code, f"the notebook lacks the statement {text!r} of {F}"
    defined = {n.name for c in cells for n in ast.parse(c.replace("%matplotlib inline", "")).body if isinstance(n, ast.FunctionDef)}
    assert defined == {n for n, t in blocks.items() if t.startswith("def ")}, "the notebook defines other functions than the oracle"


def test_the_student_notebook_is_the_release_of_the_instructors(tmp_path):
    release_file(INSTRUCTOR_NOTEBOOK, tmp_path / "init.ipynb")
    assert code_cells(tmp_path / "init.ipynb") == code_cells(STUDENT_NOTEBOOK), "rerun grader.release.release_file on the notebook"
    markdown = [c.source for c in nbformat.read(str(STUDENT_NOTEBOOK), as_version=4).cells if c.cell_type == "markdown"]
    assert markdown == [c.source for c in nbformat.read(str(INSTRUCTOR_NOTEBOOK), as_version=4).cells if c.cell_type == "markdown"]


def test_the_instructors_notebook_runs_top_to_bottom_and_draws_the_plot():
    import nbclient

    notebook = nbformat.read(str(INSTRUCTOR_NOTEBOOK), as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()  # raises on a failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no image/png output: the plot did not render"
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Kaiming normal" in printed and "N(0, 1)" in printed


# ---------------------------------------------------------------------------------------------
# planted submissions

TORCH_STYLE_FANS = '''
def compute_fans(shape):
    """Like torch: any number of dimensions from 2 up (so 3-D and 5-D are accepted)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"shape={shape!r} has fewer than 2 dimensions")
    receptive_field = math.prod(shape[2:])
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1] * receptive_field, shape[0] * receptive_field
'''

GLOBAL_RANDOM_LECUN = '''
def lecun_normal(shape, rng):
    fan_in, _ = compute_fans(shape)
    return np.random.normal(0.0, math.sqrt(1.0 / fan_in), size=tuple(shape))
'''

NORMAL_NOT_UNIFORM = '''
def kaiming_uniform(shape, rng, mode="fan_in"):
    a = math.sqrt(6.0 / _fan(shape, mode))
    return rng.normal(0.0, a / math.sqrt(3.0), size=tuple(shape))  # the right variance, the wrong law
'''

PRE_RELU_STDS = '''
def activation_stds(init_fn, layer_sizes, x, rng):
    h = np.asarray(x, dtype=np.float64)
    stds = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        z = h @ init_fn((fan_in, fan_out), rng)
        stds.append(float(z.std()))
        h = np.maximum(z, 0.0)
    return stds
'''

BUGGY = [
    Variant("linear fans swapped", (Edit(F, "fan_in, fan_out = shape\n", "fan_out, fan_in = shape\n"),)),
    Variant("conv fan ignores the kernel", (Edit(F, "return c * receptive_field, f * receptive_field", "return c, f"),)),
    Variant("conv fans swapped", (Edit(F, "return c * receptive_field, f * receptive_field", "return f * receptive_field, c * receptive_field"),)),
    Variant("lecun_normal uses fan_out", (Edit(F, "fan_in, _ = compute_fans(shape)\n    std = math.sqrt(1.0 / fan_in)", "_, fan_in = compute_fans(shape)\n    std = math.sqrt(1.0 / fan_in)"),)),
    Variant("xavier_normal ignores gain", (Edit(F, "std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = math.sqrt(2.0 / (fan_in + fan_out))"),)),
    Variant("xavier_uniform uses the std formula as its bound", (Edit(F, "a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(2.0 / (fan_in + fan_out))"),)),
    Variant("kaiming_uniform bound without sqrt(3)", (Edit(F, "a = math.sqrt(6.0 / _fan(shape, mode))", "a = math.sqrt(2.0 / _fan(shape, mode))"),)),
    Variant("kaiming_uniform draws a normal", (Rewrite(F, "kaiming_uniform", NORMAL_NOT_UNIFORM),)),
    Variant("kaiming_normal ignores mode", (Edit(F, "std = math.sqrt(2.0 / _fan(shape, mode))", "std = math.sqrt(2.0 / compute_fans(shape)[0])"),)),
    Variant("lecun_normal draws from np.random", (Rewrite(F, "lecun_normal", GLOBAL_RANDOM_LECUN),)),
    Variant("zeros_init returns ints", (Edit(F, "np.zeros(tuple(shape), dtype=np.float64)", "np.zeros(tuple(shape), dtype=int)"),)),
    Variant("compute_fans accepts 3-D and 5-D (torch style)", (Rewrite(F, "compute_fans", TORCH_STYLE_FANS),)),
    Variant("activation_stds with ddof=1", (Edit(F, "stds.append(float(h.std()))", "stds.append(float(h.std(ddof=1)))"),)),
    Variant("activation_stds of the pre-ReLU values", (Rewrite(F, "activation_stds", PRE_RELU_STDS),)),
    Variant("activation_stds: per-unit std averaged", (Edit(F, "stds.append(float(h.std()))", "stds.append(float(h.std(axis=0).mean()))"),)),
    Variant("activation_stds ignores its rng", (Edit(F, "w = init_fn((fan_in, fan_out), rng)", "w = init_fn((fan_in, fan_out), np.random.default_rng(0))"),)),
]

NUMPY_STYLE = (
    Rewrite(F, "compute_fans", '''
def compute_fans(shape):
    if len(shape) not in (2, 4):
        raise ValueError(f"{len(shape)}-D weight: expected (D, M) or (F, C, KH, KW)")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = np.prod(shape[2:], dtype=np.int64)  # numpy ints come back
    return shape[1] * receptive_field, shape[0] * receptive_field
'''),
    Rewrite(F, "lecun_normal", '''
def lecun_normal(shape, rng):
    return math.sqrt(1.0 / compute_fans(shape)[0]) * rng.standard_normal(tuple(shape))
'''),
    Rewrite(F, "xavier_uniform", '''
def xavier_uniform(shape, rng, gain=1.0):
    fan_in, fan_out = compute_fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return a * (2.0 * rng.random(tuple(shape)) - 1.0)
'''),
    Rewrite(F, "activation_stds", '''
def activation_stds(init_fn, layer_sizes, x, rng):
    weights = [init_fn((a, b), rng) for a, b in zip(layer_sizes, layer_sizes[1:])]  # same order
    stds, h = [], x
    for w in weights:
        h = (h @ w).clip(min=0.0)
        stds.append(float(np.sqrt(np.mean((h - h.mean()) ** 2))))
    return stds
'''),
)

KEYWORD_STYLE = (
    Rewrite(F, "_fan", '''
def _fan(shape, mode):
    return dict(zip(("fan_in", "fan_out"), compute_fans(shape)))[mode]
'''),
    Rewrite(F, "kaiming_uniform", '''
def kaiming_uniform(shape, rng, mode="fan_in"):
    bound = math.sqrt(3.0) * math.sqrt(2.0 / _fan(shape, mode))
    return rng.uniform(low=-bound, high=bound, size=shape)
'''),
    Rewrite(F, "xavier_normal", '''
def xavier_normal(shape, rng, gain=1.0):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(scale=gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
'''),
    Rewrite(F, "zeros_init", '''
def zeros_init(shape):
    compute_fans(shape)
    return np.zeros(shape)
'''),
    Rewrite(F, "activation_stds", '''
def activation_stds(init_fn, layer_sizes, x, rng):
    stds, h, layer = [], x.copy(), 1
    while layer < len(layer_sizes):
        z = h.dot(init_fn([layer_sizes[layer - 1], layer_sizes[layer]], rng))
        h = np.where(z >= 0, z, 0.0)
        stds.append(np.std(h))
        layer += 1
    return stds
'''),
)

SCALED_STANDARD = (
    Rewrite(F, "kaiming_normal", '''
def kaiming_normal(shape, rng, mode="fan_in"):
    fan_in, fan_out = compute_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out}[mode]
    w = rng.standard_normal(size=tuple(shape))
    w *= math.sqrt(2.0) / math.sqrt(fan)
    return w
'''),
    Rewrite(F, "compute_fans", '''
def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) != 4:
        raise ValueError("only linear (2-D) and conv (4-D) weights have fans")
    f, c, kh, kw = (int(s) for s in shape)
    return c * kh * kw, f * kh * kw
'''),
)

CORRECT = [
    Variant("numpy style: np.prod fans, standard_normal, rng.random, weights drawn first", NUMPY_STYLE),
    Variant("keywords, dict lookup of the mode, list shapes, mask z >= 0, numpy float stds", KEYWORD_STYLE),
    Variant("scaled standard normal in place, explicit fans", SCALED_STANDARD),
]


@pytest.mark.parametrize("variant", BUGGY, ids=str)
def test_a_buggy_notebook_loses_points(variant, tmp_path):
    result = grade(A, submission=build_submission(A, variant, tmp_path), first_failure=True)
    assert result.possible > 0 and result.earned < result.possible, f"{variant} scored full marks:\n{result.output}"


@pytest.mark.parametrize("variant", CORRECT, ids=str)
def test_a_correct_notebook_scores_full_marks(variant, tmp_path):
    result = grade(A, submission=build_submission(A, variant, tmp_path))
    assert result.full_marks, f"{variant} lost points in {result.failed}:\n{result.output}"


def test_the_reference_scores_full_marks():
    result = grade(A, against_reference=True)
    assert result.full_marks, f"the reference lost points in {result.failed}:\n{result.output}"


def test_the_released_notebook_scores_zero_and_says_what_to_implement(tmp_path):
    """The tree's ``init.ipynb`` is the stub: every test fails, each with the stub's message."""
    results = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", f"assignments/{A}", "-q", "-p", "no:cacheprovider", "--dlgrade-profile", "grade",
         "--dlgrade-results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    tests = [t for a in json.loads(results.read_text())["assignments"].values() for t in a["tests"]]
    assert tests and all(t["outcome"] == "failed" for t in tests), [t["name"] for t in tests if t["outcome"] != "failed"]
    assert all("NotImplementedError" in t["message"] for t in tests), [t["name"] for t in tests if "NotImplementedError" not in t["message"]]
