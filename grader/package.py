"""Deployment bundles. Gradescope's ``autograder.zip``:

```
setup.sh          ci/gradescope/setup.sh: installs the pinned environment (CPU torch) once, as
                  root, locks the private files (root only) and checks the result
run_autograder    ci/gradescope/run_autograder: grades one submission (``grader.gradescope``)
dlgrade.json      the run's settings (``grader.gradescope.BundleSettings``)
course/           the harness (grader/, its pyproject.toml, constraints.txt) and the course:
                  assignments/ with their hidden/ tests, reference/ (the oracles), pytest.ini
```

The course folder is installed as the harness's project (``pip install -e``), as the instructor's
checkout is: the harness finds the oracles beside itself. A course kept apart from the harness
keeps its ``pytest.ini``; the pytest settings of its ``pyproject.toml`` give way to the harness's.

Gradescope unpacks it into ``/autograder/source``. Nothing else of the project is bundled: not
its tests (the planted variants are solutions), not its history. The bundle's bytes depend on
the course alone (fixed timestamps, sorted entries).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.course import PROJECT_ROOT, Course, CourseError
from grader.gradescope import SETTINGS_FILE, BundleSettings

SCRIPTS = PROJECT_ROOT / "ci" / "gradescope"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _files(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` except bytecode, caches and hidden files."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.suffix != ".pyc" and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)
    )


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, data)


def gradescope_bundle(course: Course, out: Path, *, assignments: list[str] | None = None, settings: BundleSettings | None = None) -> Path:
    """Write Gradescope's autograder bundle for ``course`` (only ``assignments``, if given) to ``out``."""
    known = course.assignments()
    for name in assignments or []:
        if name not in known:
            raise CourseError(f"assignment {name!r} is not in the course (it has: {', '.join(known)})")
    chosen = assignments or known
    settings = settings or BundleSettings(assignments=tuple(assignments or ()))
    for script in ("setup.sh", "run_autograder"):
        if not (SCRIPTS / script).is_file():
            raise CourseError(f"{SCRIPTS / script} is missing: package from a checkout of the harness")
    entries: dict[str, Path] = {}
    for name in ("pyproject.toml", "constraints.txt", "README.md"):
        entries[f"course/{name}"] = PROJECT_ROOT / name
    for path in _files(PROJECT_ROOT / "grader"):
        entries[f"course/grader/{path.relative_to(PROJECT_ROOT / 'grader').as_posix()}"] = path
    if (course.root / "pytest.ini").is_file():
        entries["course/pytest.ini"] = course.root / "pytest.ini"
    if (course.root / "reference" / "__init__.py").is_file():
        entries["course/reference/__init__.py"] = course.root / "reference" / "__init__.py"
    for assignment in chosen:
        for top in ("assignments", "reference"):
            folder = course.root / top / assignment
            for path in _files(folder) if folder.is_dir() else []:
                entries[f"course/{top}/{assignment}/{path.relative_to(folder).as_posix()}"] = path
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as bundle:
        for script in ("setup.sh", "run_autograder"):
            _add(bundle, script, (SCRIPTS / script).read_bytes(), 0o755)
        _add(bundle, SETTINGS_FILE, settings.to_json().encode())
        for name in sorted(entries):
            _add(bundle, name, entries[name].read_bytes())
    return out

