"""A roster of six students for the roster-grading tests: a git repository each (on disk, standing
in for GitHub Classroom's student repositories) and ``roster.csv`` with the commit at the deadline.

By ``grader.shards`` the names fall two per shard of three: erin and judy in 1/3, dave and heidi
in 2/3, alice and bob in 3/3.

| student | submission | points (t1_ops + t2_notebook, of 7) |
|---|---|---|
| alice | correct; a broken commit after the deadline is not graded | 7 |
| bob | the template stubs | 0 |
| dave | ``square`` returns x (mean_abs and the notebook right) | 3 |
| erin | ``ops.py`` exits the process at import; the notebook right | 1 |
| heidi | a flat upload: ``ops.py`` and ``calc.ipynb`` at the top level | 7 |
| judy | the roster names a repository that does not exist | not graded |
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.grading.conftest import without_timing
from tests.grading.course import CALC_REFERENCE, OPS_REFERENCE, notebook, solution

EXPECTED_TOTALS = {"alice": "7", "bob": "0", "dave": "3", "erin": "1", "heidi": "7", "judy": ""}
GIT = ["git", "-c", "user.name=dlgrade", "-c", "user.email=dlgrade@example.invalid", "-c", "init.defaultBranch=main"]


def _commit(repository: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text)
    subprocess.run([*GIT, "-C", str(repository), "add", "-A"], check=True, capture_output=True)
    subprocess.run([*GIT, "-C", str(repository), "commit", "-q", "-m", message], check=True, capture_output=True)
    return subprocess.run(["git", "-C", str(repository), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def write_roster(course: Path, root: Path) -> Path:
    """Create the six students' repositories under ``root/repositories`` and return ``root/roster.csv``."""
    correct_calc = nbformat.writes(notebook(solution(CALC_REFERENCE)))
    ops, calc = "assignments/t1_ops/ops.py", "assignments/t2_notebook/calc.ipynb"
    stubs = {ops: (course / ops).read_text(), calc: (course / calc).read_text()}
    work = {
        "alice": {ops: solution(OPS_REFERENCE), calc: correct_calc},
        "bob": stubs,
        "dave": {ops: solution(OPS_REFERENCE).replace("return np.asarray(x, dtype=np.float64) ** 2", "return np.asarray(x, dtype=np.float64)"), calc: correct_calc},
        "erin": {ops: "import os\nos._exit(0)\n", calc: correct_calc},
        "heidi": {"ops.py": solution(OPS_REFERENCE), "calc.ipynb": correct_calc},
    }
    rows = ["student,repository,commit"]
    for student, files in work.items():
        repository = root / "repositories" / student
        repository.mkdir(parents=True)
        subprocess.run([*GIT, "init", "-q", str(repository)], check=True, capture_output=True)
        deadline = _commit(repository, files, "my submission")
        if student == "alice":
            _commit(repository, {ops: "syntax error after the deadline ("}, "late")
        rows.append(f"{student},{repository},{deadline}")
    rows.append(f"judy,{root / 'repositories' / 'judy-was-never-created'},")
    (root / "roster.csv").write_text("\n".join(rows) + "\n")
    return root / "roster.csv"



def assert_same_gradebook(merged: Path, whole: Path) -> None:
    """``merged`` holds what ``whole`` (one batch over the roster) holds, timings aside."""
    for name in ("gradebook.csv", "summary.md"):
        ours, theirs = ((folder / name).read_text() for folder in (merged, whole))
        assert ours == theirs, f"{name} merged:\n{ours}\n{name} of one batch:\n{theirs}"
    students = sorted(p.name for p in (whole / "students").iterdir())
    assert students == sorted(p.name for p in (merged / "students").iterdir()) == ["alice", "bob", "dave", "erin", "heidi"]
    for student in students:
        for name in ("results.json", "gradescope.json"):
            ours, theirs = (json.loads((folder / "students" / student / name).read_text()) for folder in (merged, whole))
            assert without_timing(ours) == without_timing(theirs), (student, name)
        assert (merged / "students" / student / "feedback.md").read_text() == (whole / "students" / student / "feedback.md").read_text()


def environment_in(folder: Path) -> Path:
    """A venv at ``folder/.venv`` with this environment's packages (a ``.pth`` file adds them), as
    a deployment's cached environment lies in its checkout."""
    venv = folder / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    [packages] = (venv / "lib").glob("python3*/site-packages")
    (packages / "this-environment.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages()))
    return venv
