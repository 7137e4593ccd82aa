"""Notebooks load by running their code cells: magics inert, failing cells reported, later cells run."""

import re

import nbformat
import pytest

from grader.loader import load_module_from_path
from grader.notebook import NotebookError


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A notebook")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(notebook, str(path))
    return path


def test_cells_run_in_order_and_define_names(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "import numpy as np\nscale = 2", "def f(x):\n    return scale * x")
    module = load_module_from_path(path)
    assert module.f(3) == 6 and module.__notebook_run__.failures == []


def test_magics_and_shell_lines_do_nothing(tmp_path):
    marker = tmp_path / "touched"
    path = write_notebook(tmp_path / "nb.ipynb", f"%matplotlib inline\n!touch {marker}\nfiles = !ls\nx = 1", f"%%bash\ntouch {marker}", "%%time\ny = x + 1")
    module = load_module_from_path(path)
    assert not marker.exists()
    assert module.y == 2 and module.files == []
    assert module.__notebook_run__.skipped == ["%matplotlib inline", f"!touch {marker}", "!ls", "%%bash"]


def test_a_failing_cell_is_reported_and_later_cells_still_run(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "a = 1", "raise ValueError('boom')", "b = a + 1")
    module = load_module_from_path(path)
    assert module.b == 2
    assert [str(f) for f in module.__notebook_run__.failures] == ["code cell 2 raised ValueError: boom"]


def test_an_invalid_notebook_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    with pytest.raises(NotebookError, match="not a valid Jupyter notebook"):
        load_module_from_path(path)


def test_a_cell_that_runs_too_long_is_stopped_and_later_cells_run(tmp_path):
    from grader.notebook import run_notebook
    import types

    path = write_notebook(tmp_path / "nb.ipynb", "while True:\n    pass", "done = True")
    module = types.ModuleType("nb")
    run = run_notebook(path, module, cell_timeout=0.5)
    assert module.done is True
    assert [str(f) for f in run.failures] == ["code cell 1 raised grader.notebook.CellTimeout: the cell ran longer than 0.5 s"]


def test_cells_stop_in_time_for_the_load_limit_and_later_cells_still_run(tmp_path):
    import time

    path = write_notebook(tmp_path / "nb.ipynb", "def f(x):\n    return 2 * x", "while True:\n    pass", "done = True")
    started = time.monotonic()
    module = load_module_from_path(path, seconds=2.0)  # the load limit: the cells stop 0.2 s before it
    assert time.monotonic() - started < 2.0
    assert module.f(3) == 6 and module.done is True
    (failure,) = module.__notebook_run__.failures
    assert re.fullmatch(r"code cell 2 raised grader.notebook.CellTimeout: the cell ran longer than 1\.[5-8]\d* s", str(failure))


def test_however_many_slow_cells_follow_the_load_ends_within_its_limit(tmp_path):
    import time

    path = write_notebook(tmp_path / "nb.ipynb", "def f(x):\n    return 2 * x", *["import time\ntime.sleep(30)"] * 4, "done = True")
    started = time.monotonic()
    module = load_module_from_path(path, seconds=2.0)
    assert time.monotonic() - started < 2.0
    assert module.f(3) == 6 and module.done is True and len(module.__notebook_run__.failures) == 4


def test_a_notebook_saved_with_a_byte_order_mark_and_crlf_loads(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("scale = 2\r\ndef f(x):\r\n    return scale * x\r\n")]
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(notebook).replace("\n", "\r\n").encode())
    module = load_module_from_path(path)
    assert module.f(3) == 6 and module.__notebook_run__.failures == []
