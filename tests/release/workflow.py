"""A small local runner for the Classroom workflow: what GitHub's runner does with its steps.

``run_workflow`` executes each ``run:`` step of the (single) job in a repository, in
``bash -eo pipefail`` as GitHub's runner does, with the step's ``env``, ``RUNNER_TEMP`` and a
fresh ``GITHUB_OUTPUT`` file whose ``name=value`` lines become ``steps.<id>.outputs``. Steps that
``uses:`` an action are skipped (checkout and set-up-python: the repository and the interpreter
are given), except the grading reporter, whose input it returns decoded: the reporter reads
``<RUNNER>_RESULTS`` (base64 JSON) for each id in ``runners``
(classroom-resources/autograding-grading-reporter, src/main.js).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPORTER = "classroom-resources/autograding-grading-reporter"
_STEP_OUTPUT = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}")


def run_workflow(
    workflow: Path, repository: Path, *, path: list[Path], scratch: Path, env: dict[str, str] | None = None, only: set[str] | None = None
) -> dict[str, Any]:
    """Run ``workflow``'s steps in ``repository`` with ``path`` first on ``PATH``; return the
    reporter's input as ``{runner id: result document}``. With ``only``, of the steps that have an
    id only those are run (and reported); steps without an id (the set-up) always run."""
    (job,) = yaml.safe_load(workflow.read_text())["jobs"].values()
    outputs: dict[str, dict[str, str]] = {}
    base = {**os.environ, **(env or {}), "PATH": os.pathsep.join([*map(str, path), os.environ["PATH"]]), "RUNNER_TEMP": str(scratch)}
    for number, step in enumerate(job["steps"]):
        step_env = {k: _STEP_OUTPUT.sub(lambda m: outputs.get(m[1], {}).get(m[2], ""), str(v)) for k, v in step.get("env", {}).items()}
        if only is not None and "id" in step and step["id"] not in only:
            continue
        if "run" in step:
            output_file = scratch / f"output-{number}"
            output_file.touch()
            script = scratch / f"step-{number}.sh"
            script.write_text(step["run"])
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=repository, env={**base, **step_env, "GITHUB_OUTPUT": str(output_file)}, capture_output=True, text=True,
            )
            assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{done.stdout}\n{done.stderr}"
            outputs[step.get("id", str(number))] = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        elif step["uses"].startswith(REPORTER + "@"):
            runners = [r for r in re.split(r"[\s,]+", step["with"]["runners"]) if r and (only is None or r in only)]
            return {r: json.loads(base64.b64decode(step_env[f"{r.upper()}_RESULTS"])) for r in runners}
    raise AssertionError(f"{workflow} has no {REPORTER} step")


def reporter_points(results: dict[str, Any]) -> tuple[float, float]:
    """(total points, max points) as the reporter sends them to Classroom (src/notify-classroom.js):
    per runner with a ``max_score``, the sum of its tests' ``score``."""
    counted = [r for r in results.values() if r.get("max_score")]
    return sum(t["score"] for r in counted for t in r["tests"]), sum(r["max_score"] for r in counted)
