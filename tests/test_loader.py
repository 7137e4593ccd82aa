"""Loading a course file by path: a fresh module each time, siblings importable while it loads (and
from inside its functions afterwards) and never left behind to shadow another file's siblings."""

import sys

import pytest

from grader.course import PROJECT_ROOT, Course
from grader.loader import load_module_from_path, load_reference


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_a_file_imports_its_siblings_and_they_do_not_leak(tmp_path):
    student = _write(tmp_path / "student", "layers.py", "WHO = 'student'\n")
    _write(tmp_path / "student", "mlp.py", "import layers\nWHO = layers.WHO\n")
    _write(tmp_path / "oracle", "layers.py", "WHO = 'oracle'\n")
    oracle = _write(tmp_path / "oracle", "mlp.py", "import layers\nWHO = layers.WHO\n")
    path_before = list(sys.path)
    assert load_module_from_path(student.parent / "mlp.py").WHO == "student"
    assert load_module_from_path(oracle).WHO == "oracle"  # not the student's cached layers
    assert "layers" not in sys.modules and sys.path == path_before


def test_a_module_already_imported_under_a_siblings_name_is_restored(tmp_path):
    _write(tmp_path, "json.py", "WHO = 'sibling'\n")
    main = _write(tmp_path, "main.py", "import json\nWHO = json.WHO\n")
    import json

    assert load_module_from_path(main).WHO == "sibling"
    assert sys.modules["json"] is json


def test_each_load_is_a_fresh_module(tmp_path):
    path = _write(tmp_path, "counter.py", "count = 0\n")
    first = load_module_from_path(path)
    first.count = 5
    second = load_module_from_path(path)
    assert second.count == 0 and second.__name__ != first.__name__
    chosen = load_module_from_path(path, name="chosen_by_the_course")
    assert chosen.__name__ == "chosen_by_the_course" and sys.modules.pop("chosen_by_the_course") is chosen


def test_a_file_finds_its_own_module_in_sys_modules_as_an_import_does(tmp_path):
    """A dataclass under ``from __future__ import annotations`` looks its module up in
    ``sys.modules`` (the stubs of a5 to a8 start with that import), at load and when a function
    defines one later."""
    path = _write(tmp_path, "cache.py", (
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\nclass Cache:\n    x: float\n    train: bool\n\n\n"
        "def later(x):\n    @dataclass\n    class Inner:\n        x: float\n\n    return Inner(x)\n"
    ))
    module = load_module_from_path(path)
    assert module.Cache(1.5, True).x == 1.5 and module.later(2.5).x == 2.5
    assert sys.modules[module.__name__] is module


def test_errors_while_loading_are_raised_as_they_are_and_clean_up(tmp_path):
    _write(tmp_path, "helper.py", "X = 1\n")
    path = _write(tmp_path, "broken.py", "import helper\nraise ValueError('at import')\n")
    path_before, modules_before = list(sys.path), set(sys.modules)
    with pytest.raises(ValueError, match="at import"):
        load_module_from_path(path)
    assert sys.path == path_before and "helper" not in sys.modules
    assert not [m for m in set(sys.modules) - modules_before if m.startswith("_dlgrade_broken_")]  # as a failed import leaves none
    with pytest.raises(SyntaxError):
        load_module_from_path(_write(tmp_path, "syntax.py", "def f(:\n"))


def test_load_reference_loads_the_courses_oracle():
    module = load_reference("a1_foundations", "activations.py")
    assert module.__file__ == str(Course(PROJECT_ROOT).oracle("a1_foundations", "activations.py").resolve())
    assert callable(module.relu_forward)


def test_a_sibling_imported_inside_a_function_is_the_one_the_file_loaded_with(tmp_path):
    _write(tmp_path / "student", "activations.py", "WHO = 'student'\n")
    _write(tmp_path / "student", "helpers.py", "WHO = 'student helper'\n")
    student = _write(
        tmp_path / "student", "losses.py",
        "import activations\n\ndef who():\n    import activations as imported\n    return imported.WHO, imported\n\n"
        "def helper():\n    import helpers\n    return helpers\n",
    )
    _write(tmp_path / "oracle", "activations.py", "WHO = 'oracle'\n")
    oracle = _write(tmp_path / "oracle", "losses.py", "def who():\n    from activations import WHO\n    return WHO\n")
    path_before = list(sys.path)
    losses, reference = load_module_from_path(student), load_module_from_path(oracle)
    who, imported = losses.who()
    assert who == "student" and imported is losses.activations  # after the load, from inside a function
    assert reference.who() == "oracle"  # first imported at call time: from its own folder
    assert losses.helper().WHO == "student helper" and losses.helper() is losses.helper()  # loaded once
    assert "activations" not in sys.modules and "helpers" not in sys.modules and sys.path == path_before


def test_siblings_of_siblings_share_one_module_and_find_themselves_in_sys_modules(tmp_path):
    """Every file of one load gets the same sibling, at load time and later, also two levels down
    and in a cycle; a sibling's own dataclasses work as the top file's do."""
    folder = tmp_path / "student"
    _write(folder, "helpers.py", "import activations\nWHO = 'helpers'\n\ndef back():\n    import losses\n    return losses\n")
    _write(folder, "activations.py", (
        "from __future__ import annotations\nfrom dataclasses import dataclass\n\n\n"
        "def cache(x):\n    @dataclass\n    class Cache:\n        x: float\n\n    return Cache(x)\n\n\n"
        "def helpers():\n    import helpers\n    return helpers\n"
    ))
    losses = load_module_from_path(_write(folder, "losses.py", "import helpers\nimport activations\n"))
    assert losses.helpers.activations is losses.activations and losses.activations.helpers() is losses.helpers
    assert losses.helpers.back() is losses  # the top file itself, not a second copy
    assert losses.activations.cache(1.5).x == 1.5
    assert "helpers" not in sys.modules and "activations" not in sys.modules
