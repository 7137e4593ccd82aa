"""A tiny course for the grading tests: fast to grade, and independent of the real course content.

``t1_ops`` has one student file (``ops.py``: ``square`` and ``mean_abs``), public tests worth 1 + 2
points and a hidden test worth 3 (6 in all). ``t2_notebook`` is a notebook assignment
(``calc.ipynb``: ``double``) with one public test worth 1 point. ``reference/`` holds the
instructor's copies with solution regions, so ``release`` works on it too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

OPS_REFERENCE = '''\
import numpy as np


def square(x):
    """x ** 2 entry by entry, as a new float64 array."""
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=np.float64) ** 2
    ### END SOLUTION


def mean_abs(x):
    """The mean of |x| over all entries, as a float."""
    ### BEGIN SOLUTION
    return float(np.mean(np.abs(x)))
    ### END SOLUTION
'''

PUBLIC_TESTS = '''\
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from grader import assert_close, check_array_type, check_scalar_type

VECTORS = arrays(np.float64, st.integers(1, 6), elements=st.floats(-100, 100))


@pytest.mark.points(1)
@given(x=VECTORS)
def test_square_is_x_times_x(student, x):
    """square(x) equals x * x in every entry, for vectors of 1 to 6 entries in [-100, 100]."""
    out = check_array_type(student("ops.py").square(x), x.shape, what="square(x)")
    assert_close(out, x * x, what="square(x)")


@pytest.mark.points(2)
def test_mean_abs_of_a_small_vector(student):
    """mean_abs([-1, 2, -3]) is 2.

    Hint: np.abs, then np.mean.
    """
    got = check_scalar_type(student("ops.py").mean_abs(np.array([-1.0, 2.0, -3.0])), what="mean_abs")
    assert_close(got, 2.0, what="mean_abs([-1, 2, -3])")
'''

HIDDEN_TESTS = '''\
import numpy as np
import pytest

from grader import assert_close, check_array_type

SECRET = np.array([[1.5, -2.0], [0.25, 7.0]])  # a hidden input


@pytest.mark.points(3)
def test_square_on_a_secret_matrix(student):
    """square works on 2-D arrays too."""
    out = check_array_type(student("ops.py").square(SECRET), SECRET.shape, what="square(matrix)")
    assert_close(out, SECRET * SECRET, what="square(matrix)")
'''

CALC_REFERENCE = '''\
def double(x):
    """2 * x for a float."""
    ### BEGIN SOLUTION
    return 2.0 * x
    ### END SOLUTION
'''

NOTEBOOK_TESTS = '''\
import pytest

from grader import assert_close, check_scalar_type


@pytest.mark.points(1)
def test_double(student):
    """double(1.25) is 2.5."""
    assert_close(check_scalar_type(student("calc.ipynb").double(1.25), what="double"), 2.5, what="double(1.25)")
'''

POINTS = {"t1_ops": 6.0, "t2_notebook": 1.0}


def notebook(*cells: str) -> nbformat.NotebookNode:
    """A notebook with a markdown title and these code cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Calculator"), *(nbformat.v4.new_code_cell(c) for c in cells)]
    return nb


def solution(source: str) -> str:
    """The instructor's copy without the solution markers: a correct submission."""
    return "\n".join(line for line in source.splitlines() if "### " not in line) + "\n"


def write_course(root: Path) -> Path:
    """Write the tiny course (template stubs released from ``reference/``) under ``root``."""
    from grader.release import release_file

    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "--strict-markers"\n')
    ops = root / "assignments" / "t1_ops"
    (ops / "hidden").mkdir(parents=True)
    (ops / "test_ops.py").write_text(PUBLIC_TESTS)
    (ops / "hidden" / "test_ops_hidden.py").write_text(HIDDEN_TESTS)
    (ops / "README.md").write_text("Implement square and mean_abs.\n")
    calc = root / "assignments" / "t2_notebook"
    calc.mkdir(parents=True)
    (calc / "test_calc.py").write_text(NOTEBOOK_TESTS)
    (root / "reference" / "t1_ops").mkdir(parents=True)
    (root / "reference" / "t1_ops" / "ops.py").write_text(OPS_REFERENCE)
    (root / "reference" / "t2_notebook").mkdir(parents=True)
    nbformat.write(notebook("import math", CALC_REFERENCE), str(root / "reference" / "t2_notebook" / "calc.ipynb"))
    release_file(root / "reference" / "t1_ops" / "ops.py", ops / "ops.py")
    release_file(root / "reference" / "t2_notebook" / "calc.ipynb", calc / "calc.ipynb")
    return root


def submission(root: Path, ops: str | None = None, calc: nbformat.NotebookNode | str | None = None, extra: dict[str, str] | None = None) -> Path:
    """A submission folder laid out like the template: ``assignments/t1_ops/ops.py`` etc."""
    if ops is not None:
        (root / "assignments" / "t1_ops").mkdir(parents=True, exist_ok=True)
        (root / "assignments" / "t1_ops" / "ops.py").write_text(textwrap.dedent(ops))
    if calc is not None:
        folder = root / "assignments" / "t2_notebook"
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(calc, str):
            (folder / "calc.ipynb").write_text(calc)
        else:
            nbformat.write(calc, str(folder / "calc.ipynb"))
    for name, text in (extra or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    root.mkdir(parents=True, exist_ok=True)
    return root
