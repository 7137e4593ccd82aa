"""The banned-import check sees static, dotted and literal dynamic imports, in files and notebooks."""

import codecs

import nbformat
import pytest

from grader.imports import assert_no_banned_imports, imported_modules, imported_names


@pytest.mark.parametrize("line", [
    "import torch", "import torch.nn as nn", "from scipy import special", "from scipy.special import expit",
    "import numpy, sklearn", "x = __import__('jax')", "import importlib\nm = importlib.import_module('torch.nn')",
    "def f():\n    import tensorflow",
])
def test_banned_imports_are_found(tmp_path, line):
    path = tmp_path / "student.py"
    path.write_text(line + "\n")
    with pytest.raises(AssertionError, match="does not allow"):
        assert_no_banned_imports(path)


def test_numpy_and_siblings_are_allowed(tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text("import numpy as np\nimport math\nfrom layers import linear_forward\nfrom . import x\n")
    assert imported_modules(path) == {"numpy", "math", "layers"}
    assert_no_banned_imports(path)


def test_full_names_are_kept_for_who_needs_the_submodules(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import torch.nn.functional as F\nfrom matplotlib.figure import Figure\nimportlib.import_module('scipy.special')\nfrom .layers import x\n")
    assert imported_names(path) == {"torch.nn.functional", "matplotlib.figure", "scipy.special"}
    assert imported_modules(path) == {"torch", "matplotlib", "scipy"}


def test_notebook_cells_are_read_after_magics(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"), nbformat.v4.new_code_cell("!pip install torch\nimport torch")]
    nbformat.write(notebook, str(tmp_path / "init.ipynb"))
    assert imported_modules(tmp_path / "init.ipynb") == {"numpy", "torch"}


def test_a_notebook_cell_that_does_not_parse_imports_nothing(tmp_path):
    """It never runs (the notebook's run reports it): the other cells are still read, and it costs nothing here."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import numpy as np"), nbformat.v4.new_code_cell("for name in schemes:\n    print(name"), nbformat.v4.new_code_cell("import torch")]
    nbformat.write(notebook, str(tmp_path / "init.ipynb"))
    assert imported_modules(tmp_path / "init.ipynb") == {"numpy", "torch"}
    notebook.cells.pop()
    nbformat.write(notebook, str(tmp_path / "init.ipynb"))
    assert_no_banned_imports(tmp_path / "init.ipynb")


def test_a_file_that_does_not_parse_fails(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f(:\n")
    with pytest.raises(AssertionError, match="does not parse"):
        assert_no_banned_imports(path)


@pytest.mark.parametrize("encoded", [
    codecs.BOM_UTF8 + "import numpy as np\r\nimport torch\r\n# pr\u00e9cis\r\n".encode(),
    "# -*- coding: latin-1 -*-\nimport numpy as np\nimport torch\nname = 'pr\u00e9cis'\n".encode("latin-1"),
], ids=["utf8_bom_crlf", "latin1_declared"])
def test_source_is_decoded_as_the_interpreter_decodes_it(tmp_path, encoded):
    path = tmp_path / "student.py"
    path.write_bytes(encoded)
    compile(encoded, str(path), "exec")  # the interpreter accepts the file
    assert imported_modules(path) == {"numpy", "torch"}
    assert_no_banned_imports(path, banned=frozenset({"scipy"}))


def test_a_notebook_saved_with_a_byte_order_mark_and_crlf_is_read(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import numpy as np\r\nimport scipy")]
    path = tmp_path / "init.ipynb"
    path.write_bytes(codecs.BOM_UTF8 + nbformat.writes(notebook).replace("\n", "\r\n").encode())
    assert imported_modules(path) == {"numpy", "scipy"}
