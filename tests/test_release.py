"""The release step turns the instructor's copy into the students' stubs."""

import nbformat
import pytest

from grader.release import ReleaseError, clear_solutions, release_file

INSTRUCTOR = '''import numpy as np


def relu_forward(x):
    """ReLU: out = max(x, 0)."""
    ### BEGIN SOLUTION
    return np.maximum(x, 0), x
    ### END SOLUTION


class Value:
    def backward(self):
        """Reverse-mode autodiff."""
        ### BEGIN SOLUTION
        pass
        ### END SOLUTION
'''


def test_regions_become_raises_naming_the_function():
    stub = clear_solutions(INSTRUCTOR)
    assert "np.maximum" not in stub and "BEGIN SOLUTION" not in stub
    assert "    raise NotImplementedError(\"Implement relu_forward: see the assignment's README.md\")" in stub
    assert "        raise NotImplementedError(\"Implement Value.backward: see the assignment's README.md\")" in stub
    assert '"""ReLU: out = max(x, 0)."""' in stub
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="Implement relu_forward"):
        namespace["relu_forward"](1.0)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "inside another"),
    ("### END SOLUTION\n", "without"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n", "never closed"),
])
def test_unbalanced_markers_are_errors(source, message):
    with pytest.raises(ReleaseError, match=message):
        clear_solutions(source)


def test_notebooks_are_released_cell_by_cell(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Init"), nbformat.v4.new_code_cell(INSTRUCTOR)]
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="secret output")]
    nbformat.write(notebook, str(tmp_path / "in.ipynb"))
    release_file(tmp_path / "in.ipynb", tmp_path / "out.ipynb")
    released = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert released.cells[0].source == "# Init"
    assert "np.maximum" not in released.cells[1].source and released.cells[1].outputs == []


def test_the_committed_stubs_are_the_release_of_the_reference():
    """Students get exactly what the release step makes from the instructor's copy."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    check = subprocess.run([sys.executable, "-m", "grader", "release", "--check"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
